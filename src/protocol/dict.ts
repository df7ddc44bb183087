/**
 * GlusterFS dictionaries, in their two wire forms:
 *
 * - `gfx_dict`, the typed dict of every v400 FOP (xdata, xattrs): a byte count of the
 *   pair array, a pair count (-1 = NULL dict), then key/typed-value pairs.
 * - the legacy serialized dict carried inside an `opaque<>` (SETVOLUME, GETSPEC xdata,
 *   GET_VOLUME_INFO, EVENT_NOTIFY): unaligned big-endian counts, NUL-terminated keys,
 *   untyped values.
 *
 * A NULL gfx_dict decodes to `null` and an empty one to an empty Map, so both re-encode
 * exactly. Map order is wire order.
 */
import { XdrError, XdrReader, XdrWriter, x, type Codec } from '../xdr/index.js';
import { iattx, mdataIatt, type Iatt, type MdataIatt } from './iatt.js';
import { Limits } from './limits.js';

export enum DictType {
  UNKNOWN = 0,
  STR_OLD = 1,
  INT = 2,
  UINT = 3,
  DOUBLE = 4,
  STR = 5,
  PTR = 6,
  GFUUID = 7,
  IATT = 8,
  MDATA = 9,
}

export type DictValue =
  | { type: DictType.INT | DictType.UINT; value: bigint }
  | { type: DictType.DOUBLE; value: number }
  /** STR values carry their trailing NUL as sent; PTR values are raw bytes (xattrs). */
  | { type: DictType.STR_OLD | DictType.STR | DictType.PTR; value: Buffer }
  | { type: DictType.GFUUID; value: Buffer }
  | { type: DictType.IATT; value: Iatt }
  | { type: DictType.MDATA; value: MdataIatt };

export type Dict = Map<string, DictValue>;
/** A v400 dict field: `null` is the NULL dict (count -1). */
export type GfxDict = Dict | null;

const NUL = Buffer.alloc(1);

// ---- value constructors ------------------------------------------------------------

/** A C string value, NUL included as GlusterFS sends it. */
export function strValue(s: string): DictValue {
  return { type: DictType.STR, value: Buffer.concat([Buffer.from(s, 'utf8'), NUL]) };
}
export function ptrValue(bytes: Buffer): DictValue {
  return { type: DictType.PTR, value: bytes };
}
export function intValue(n: bigint | number): DictValue {
  return { type: DictType.INT, value: BigInt(n) };
}
export function uintValue(n: bigint | number): DictValue {
  return { type: DictType.UINT, value: BigInt(n) };
}
export function gfuuidValue(gfid: Buffer): DictValue {
  return { type: DictType.GFUUID, value: gfid };
}

/** Builds a dict from an object of values, in key order. */
export function dict(entries: Record<string, DictValue>): Dict {
  return new Map(Object.entries(entries));
}

/** A string value of any string-like type, without its trailing NUL. */
export function dictString(d: GfxDict, key: string): string | undefined {
  const v = d?.get(key);
  if (!v) return undefined;
  if (v.type === DictType.STR || v.type === DictType.STR_OLD || v.type === DictType.PTR) {
    return stripNul(v.value).toString('utf8');
  }
  if (v.type === DictType.INT || v.type === DictType.UINT) return v.value.toString();
  return undefined;
}

function stripNul(b: Buffer): Buffer {
  return b.length > 0 && b[b.length - 1] === 0 ? b.subarray(0, b.length - 1) : b;
}

// ---- gfx_dict ----------------------------------------------------------------------

const NULL_COUNT = -1;

function readValue(r: XdrReader): DictValue {
  const at = r.offset;
  const type = r.i32();
  switch (type) {
    case DictType.INT:
      return { type, value: r.i64() };
    case DictType.UINT:
      return { type, value: r.u64() };
    case DictType.DOUBLE:
      return { type, value: r.f64() };
    case DictType.STR_OLD:
    case DictType.STR:
    case DictType.PTR:
      return { type, value: r.opaque(Limits.DICT_VALUE) };
    case DictType.GFUUID:
      return { type, value: r.fixedOpaque(16) };
    case DictType.IATT:
      return { type, value: iattx.read(r) };
    case DictType.MDATA:
      return { type, value: mdataIatt.read(r) };
    default:
      throw new XdrError('XDR_BAD_VALUE', `dict value type ${type}`, at);
  }
}

function writeValue(w: XdrWriter, v: DictValue): void {
  w.i32(v.type);
  switch (v.type) {
    case DictType.INT:
      w.i64(v.value);
      break;
    case DictType.UINT:
      w.u64(v.value);
      break;
    case DictType.DOUBLE:
      w.f64(v.value);
      break;
    case DictType.STR_OLD:
    case DictType.STR:
    case DictType.PTR:
      w.opaque(v.value);
      break;
    case DictType.GFUUID:
      w.fixedOpaque(v.value, 16);
      break;
    case DictType.IATT:
      iattx.write(w, v.value);
      break;
    case DictType.MDATA:
      mdataIatt.write(w, v.value);
      break;
  }
}

/**
 * Reads a gfx_dict. With `exact`, the head's byte count must match the pairs read: WRITE
 * requests and READ replies rely on it to find where the raw data starts.
 */
function readGfxDict(r: XdrReader, exact: boolean): GfxDict {
  const sizeAt = r.offset;
  const xdrSize = r.u32();
  const countAt = r.offset;
  const count = r.i32();
  // Each pair takes at least 12 bytes: key length, type and a 4-byte minimum arm.
  const n = r.arrayLength(Limits.DICT_PAIRS, 12);
  if (count === NULL_COUNT ? n !== 0 : count !== n) {
    throw new XdrError('XDR_BAD_VALUE', `dict count ${count} disagrees with ${n} pairs`, countAt);
  }
  const start = r.offset;
  if (exact && xdrSize > r.remaining) {
    throw new XdrError('XDR_TRUNCATED', `dict xdr_size ${xdrSize} exceeds message`, sizeAt);
  }
  if (count === NULL_COUNT) {
    if (exact && xdrSize !== 0)
      throw new XdrError('XDR_BAD_VALUE', `NULL dict with xdr_size ${xdrSize}`, sizeAt);
    return null;
  }
  const d: Dict = new Map();
  for (let i = 0; i < n; i++) {
    const key = r.cstringOpaque(Limits.DICT_KEY);
    d.set(key, readValue(r));
  }
  if (exact && r.offset - start !== xdrSize) {
    throw new XdrError(
      'XDR_BAD_VALUE',
      `dict xdr_size ${xdrSize} but pairs take ${r.offset - start}`,
      sizeAt,
    );
  }
  return d;
}

function writeGfxDict(w: XdrWriter, d: GfxDict): void {
  const sizeAt = w.length;
  w.u32(0);
  if (d === null) {
    w.i32(NULL_COUNT).u32(0);
    return;
  }
  w.i32(d.size).u32(d.size);
  const start = w.length;
  for (const [key, value] of d) {
    w.cstringOpaque(key);
    writeValue(w, value);
  }
  w.patchU32(sizeAt, w.length - start);
}

/** A v400 dict field (xdata, xattrs); the byte count is computed on write. */
export const gfxDict: Codec<GfxDict> = {
  read: (r) => readGfxDict(r, false),
  write: writeGfxDict,
};

/** The same, but the byte count is checked on read (WRITE requests, READ replies). */
export const gfxDictExact: Codec<GfxDict> = {
  read: (r) => readGfxDict(r, true),
  write: writeGfxDict,
};

// ---- legacy serialized dict --------------------------------------------------------

/** Legacy dict values are untyped bytes; GlusterFS's own include a trailing NUL. */
export type LegacyDict = Map<string, Buffer>;

/** Builds a legacy dict of C strings (NUL appended, as GlusterFS does). */
export function legacyDict(entries: Record<string, string>): LegacyDict {
  const d: LegacyDict = new Map();
  for (const [k, v] of Object.entries(entries)) d.set(k, Buffer.concat([Buffer.from(v, 'utf8'), NUL]));
  return d;
}

export function legacyString(d: LegacyDict, key: string): string | undefined {
  const v = d.get(key);
  return v === undefined ? undefined : stripNul(v).toString('utf8');
}

/** Decodes the contents of the opaque: an empty opaque is an empty dict. */
export function decodeLegacyDict(bytes: Buffer): LegacyDict {
  const d: LegacyDict = new Map();
  if (bytes.length === 0) return d;
  const r = new XdrReader(bytes);
  // No alignment inside: a pair is keylen, vallen, key, NUL, value (at least 9 bytes).
  const n = r.arrayLength(Limits.DICT_PAIRS, 9);
  for (let i = 0; i < n; i++) {
    const keyAt = r.offset;
    const keyLen = r.u32();
    const valLen = r.u32();
    if (keyLen > Limits.DICT_KEY) throw new XdrError('XDR_TOO_LONG', `dict key of ${keyLen} bytes`, keyAt);
    if (valLen > Limits.DICT_VALUE)
      throw new XdrError('XDR_TOO_LONG', `dict value of ${valLen} bytes`, keyAt + 4);
    const key = r.raw(keyLen);
    const nulAt = r.offset;
    if (r.raw(1)[0] !== 0) throw new XdrError('XDR_BAD_VALUE', 'dict key not NUL-terminated', nulAt);
    d.set(key.toString('utf8'), r.raw(valLen));
  }
  r.finish();
  return d;
}

export function encodeLegacyDict(d: LegacyDict): Buffer {
  if (d.size === 0) return Buffer.alloc(0);
  const w = new XdrWriter(256);
  w.u32(d.size);
  for (const [key, value] of d) {
    const k = Buffer.from(key, 'utf8');
    w.u32(k.length).u32(value.length).raw(k).raw(NUL).raw(value);
  }
  return w.finish();
}

/** A legacy dict field: an `opaque<>` holding the serialized dict. */
export const legacyDictField: Codec<LegacyDict> = {
  read: (r) => decodeLegacyDict(r.opaque(Limits.LEGACY_DICT_BYTES)),
  write: (w, v) => void w.opaque(encodeLegacyDict(v)),
};

/** An `opaque xdata<>` of the legacy programs, kept as raw bytes. */
export const opaqueXdata = x.opaque(Limits.OPAQUE_XDATA);
