// Random and mutated bytes fed to every decoder: only XdrError may come out, nothing
// hangs, memory stays bounded, and whatever decodes re-encodes to something that
// decodes to the same value. Deterministic (seeded PRNG) so failures reproduce.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XdrError, XdrReader, XdrWriter, type Codec } from '../../src/xdr/index.js';
import { readHeader } from '../../src/rpc/message.js';
import { RecordDecoder } from '../../src/rpc/record.js';
import { decodeCredential } from '../../src/rpc/auth.js';
import { decodeLegacyDict, encodeLegacyDict, gfxDict } from '../../src/protocol/index.js';
import { procedureSeeds } from '../support/seeds.js';

/** xorshift32: a tiny deterministic PRNG. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

const HOSTILE_WORDS = [0xffffffff, 0x7fffffff, 0x80000000, 0x00010000, 0xfffffffe, 1, 0x400, 0x1001];

function mutate(seed: Buffer, rand: () => number): Buffer {
  const b = Buffer.from(seed);
  const ops = 1 + (rand() % 4);
  let out = b;
  for (let i = 0; i < ops; i++) {
    const kind = rand() % 5;
    if (out.length === 0 || kind === 0) {
      // append random bytes
      const extra = Buffer.alloc(rand() % 64);
      for (let j = 0; j < extra.length; j++) extra[j] = rand() & 0xff;
      out = Buffer.concat([out, extra]);
    } else if (kind === 1) {
      out[rand() % out.length] = rand() & 0xff; // byte flip
    } else if (kind === 2 && out.length >= 4) {
      const at = (rand() % (out.length >>> 2)) * 4; // hostile length at a word boundary
      out.writeUInt32BE(HOSTILE_WORDS[rand() % HOSTILE_WORDS.length]!, at);
    } else if (kind === 3) {
      out = out.subarray(0, rand() % out.length); // truncate
    } else {
      const at = rand() % out.length;
      out = Buffer.concat([out.subarray(0, at), out.subarray(at, at + (rand() % 16)), out.subarray(at)]); // duplicate a slice
    }
  }
  return out;
}

/** Decodes; returns the value, or undefined after an XdrError. Anything else fails the test. */
function tryDecode<T>(codec: Codec<T>, bytes: Buffer, label: string): T | undefined {
  const started = performance.now();
  try {
    const r = new XdrReader(bytes);
    const v = codec.read(r);
    r.finish();
    return v;
  } catch (e) {
    if (!(e instanceof XdrError)) {
      assert.fail(`${label}: ${String(e)} on input ${bytes.toString('hex').slice(0, 200)}`);
    }
    return undefined;
  } finally {
    // A hang detector, not a performance assertion: no decode of a small input takes long.
    assert.ok(performance.now() - started < 250, `${label}: decode took too long`);
  }
}

test('every procedure decoder survives mutated messages and round-trips what it accepts', () => {
  const rand = prng(0x5eed);
  const seeds = procedureSeeds();
  assert.ok(seeds.length > 100, `seeds for every procedure (${seeds.length})`);
  const heapBefore = process.memoryUsage().arrayBuffers;
  let accepted = 0;
  for (const seed of seeds) {
    const codec = seed.def[seed.side] as Codec<unknown>;
    const label = `${seed.program.name} ${seed.def.name} ${seed.side}`;
    assert.notEqual(tryDecode(codec, seed.bytes, label), undefined, `${label}: seed decodes`);
    for (let i = 0; i < 150; i++) {
      const input = mutate(seed.bytes, rand);
      const value = tryDecode(codec, input, label);
      if (value === undefined) continue;
      accepted++;
      const w = new XdrWriter();
      codec.write(w, value);
      const again = Buffer.concat([w.finish(), ...payloadOf(value)]);
      assert.deepEqual(
        tryDecode(codec, again, `${label} (re-encoded)`),
        value,
        `${label}: stable round trip`,
      );
    }
  }
  assert.ok(accepted > 1000, `some mutations are valid messages (${accepted})`);
  const grown = process.memoryUsage().arrayBuffers - heapBefore;
  assert.ok(grown < 256 * 1024 * 1024, `no allocation sized by hostile lengths (grew ${grown} bytes)`);
});

function payloadOf(value: unknown): Buffer[] {
  const p = (value as { payload?: Buffer | Buffer[] } | null)?.payload;
  return p === undefined ? [] : Buffer.isBuffer(p) ? [p] : p;
}

test('RPC headers, credentials and dicts survive random bytes', () => {
  const rand = prng(42);
  const headerCodec: Codec<unknown> = { read: (r) => readHeader(r), write: () => undefined };
  const legacy: Codec<unknown> = {
    read: (r) => decodeLegacyDict(r.rest()),
    write: (w, v) => void w.raw(encodeLegacyDict(v as Map<string, Buffer>)),
  };
  for (let i = 0; i < 5000; i++) {
    const len = rand() % 256;
    const bytes = Buffer.alloc(len);
    for (let j = 0; j < len; j++) bytes[j] = rand() % 4 === 0 ? 0xff : rand() & 0x0f;
    const r = new XdrReader(bytes);
    try {
      readHeader(r);
    } catch (e) {
      if (!(e instanceof XdrError)) throw e;
    }
    tryDecode(headerCodec, bytes, 'rpc header');
    tryDecode(gfxDict, bytes, 'gfx_dict');
    tryDecode(legacy, bytes, 'legacy dict');
    for (const flavor of [0, 1, 5, 390039, 390040]) {
      try {
        decodeCredential({ flavor, body: bytes });
      } catch (e) {
        if (!(e instanceof XdrError)) assert.fail(`credential ${flavor}: ${String(e)}`);
      }
    }
  }
});

test('a 4-byte message claiming a 4 GiB opaque is refused without allocating it', () => {
  const before = process.memoryUsage().arrayBuffers;
  const bytes = Buffer.from('ffffffff', 'hex');
  assert.throws(() => new XdrReader(bytes).opaque(1 << 20), XdrError);
  assert.throws(
    () => gfxDict.read(new XdrReader(Buffer.from('00000000 00000001 7fffffff'.replace(/ /g, ''), 'hex'))),
    XdrError,
  );
  assert.ok(process.memoryUsage().arrayBuffers - before < 1 << 20);
});

test('the record framer takes random streams in random chunks without throwing anything but XdrError', () => {
  const rand = prng(7);
  for (let run = 0; run < 300; run++) {
    const decoder = new RecordDecoder({ maxRecordSize: 1 << 20, maxFragments: 1024 });
    const stream = Buffer.alloc(rand() % 8192);
    for (let i = 0; i < stream.length; i++) stream[i] = rand() % 3 === 0 ? 0x80 : rand() & 0xff;
    // Sometimes start with a well-formed prefix so later garbage meets a working framer.
    if (run % 2 === 0 && stream.length >= 8) stream.writeUInt32BE((0x80000000 | 4) >>> 0, 0);
    let at = 0;
    let failed = false;
    while (at < stream.length && !failed) {
      const n = 1 + (rand() % 700);
      decoder.push(stream.subarray(at, at + n));
      at += n;
      try {
        for (let rec = decoder.next(); rec !== null; rec = decoder.next()) assert.ok(rec.length <= 1 << 20);
      } catch (e) {
        if (!(e instanceof XdrError)) assert.fail(`framer threw ${String(e)}`);
        failed = true; // unrecoverable stream: the connection would be dropped here
      }
    }
  }
});
