/**
 * The translator interface. A translator supplies handlers for the fops it changes and
 * nothing else; every other fop passes through to its first child. Handlers take one
 * request object and a `next` to call the layer below, and return the reply or throw
 * FopError:
 *
 *     fops: {
 *       async READ(req, ctx, next) { const reply = await next(req); ...; return reply; },
 *     }
 *
 * Requests and replies are the wire types of src/protocol/fops.ts, with two changes
 * made once here: fd numbers become OpenFd objects (OPEN, CREATE and OPENDIR receive the
 * new OpenFd in `fd`), and replies leave out op_errno, the reply's fd number, and make
 * op_ret optional (0 unless the fop returns a count).
 */
import type { FdFieldOf, FopArgs, FopName, FopResults, OpeningFop } from '../protocol/fops.js';
import type { OptionSchema, OptionsOf } from './options.js';
import type { VolumeDecl } from './volfile.js';
import type { FdTable, OpenFd } from './fd.js';

/** Request fields that hold an fd in some fop (the table's `fds`): `fd`, `fdIn`, `fdOut`. */
type FdField = FdFieldOf<FopName>;

export type FopRequest<N extends FopName> = {
  [K in keyof FopArgs<N>]: K extends FdField ? OpenFd : FopArgs<N>[K];
} & (N extends OpeningFop ? { fd: OpenFd } : unknown);

export type FopReply<N extends FopName> = Omit<FopResults<N>, 'opRet' | 'opErrno' | 'fd'> & {
  /** Bytes read or written, entries listed, value length; 0 when omitted. */
  opRet?: number;
  /** Stock sends a hint on success in a few places (ENOENT at EOF on READ). */
  opErrno?: number;
};

/** A client session: one connection to a brick (or one client instance). */
export interface Session {
  /** Unique for the session: process-uuid plus connection number. */
  readonly id: string;
  readonly fds: FdTable;
}

/** Who is calling, from the RPC credential. */
export interface Caller {
  uid: number;
  gid: number;
  groups: readonly number[];
  pid: number;
  /** The POSIX lock owner. */
  lkOwner: Buffer;
}

export interface FopContext {
  caller: Caller;
  session: Session;
  signal?: AbortSignal;
}

export type Next<N extends FopName> = (req: FopRequest<N>, ctx?: FopContext) => Promise<FopReply<N>>;

export type FopHandler<N extends FopName> = (
  req: FopRequest<N>,
  ctx: FopContext,
  next: Next<N>,
) => Promise<FopReply<N>>;

export type FopTable = { [N in FopName]?: FopHandler<N> };

/** A table with one handler per fop of `names`, each made by `make` (translators that treat every fop alike). */
export function fopTable(
  names: readonly FopName[],
  make: <N extends FopName>(fop: N) => FopHandler<N>,
): FopTable {
  const table: { [N in FopName]?: unknown } = {};
  for (const fop of names) table[fop] = make(fop);
  return table as FopTable;
}

export interface Translator {
  readonly fops: FopTable;
  /** After the whole graph is built, bottom-up. */
  init?(): Promise<void>;
  /** On graph teardown, top-down. */
  fini?(): Promise<void>;
  /** A session ended: release its locks and per-session state. Open fds were already released. */
  sessionEnded?(session: Session): Promise<void> | void;
  /**
   * Resolves once the translator can serve fops (GlusterFS's CHILD_UP): protocol/client
   * when its brick accepted SETVOLUME. Absent means ready at once. Rejects when it gives
   * up (e.g. authentication refused) or the signal aborts.
   */
  whenReady?(signal?: AbortSignal): Promise<void>;
}

/** What a volfile `type` names: a factory plus its option schema. */
export interface TranslatorType<S extends OptionSchema = OptionSchema> {
  readonly type: string;
  readonly options: S;
  /** Whether the translator can have children, and how many. */
  readonly children: 'none' | 'one' | 'many';
  create(init: TranslatorInit<S>): Translator | Promise<Translator>;
}

export interface TranslatorInit<S extends OptionSchema> {
  name: string;
  options: OptionsOf<S>;
  children: readonly import('./layer.js').Layer[];
  decl: VolumeDecl;
}

/** Declares a translator type with its options inferred. */
export function defineTranslator<S extends OptionSchema>(def: TranslatorType<S>): TranslatorType<S> {
  return def;
}
