import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XdrError, XdrReader, XdrWriter } from '../../src/xdr/index.js';

function bytes(...words: number[]): Buffer {
  const b = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => b.writeUInt32BE(w >>> 0, i * 4));
  return b;
}

test('reads u32, i32 and hyper values big-endian', () => {
  const r = new XdrReader(bytes(1, 0xffffffff, 0, 5, 0xffffffff, 0xfffffffe));
  assert.equal(r.u32(), 1);
  assert.equal(r.i32(), -1);
  assert.equal(r.u64(), 5n);
  assert.equal(r.i64(), -2n);
  r.finish();
});

test('u64n refuses values above 2^53-1 instead of losing precision', () => {
  assert.equal(new XdrReader(bytes(0x1fffff, 0xffffffff)).u64n(), Number.MAX_SAFE_INTEGER);
  assert.throws(
    () => new XdrReader(bytes(0x200000, 0)).u64n(),
    (e: unknown) => e instanceof XdrError && e.code === 'XDR_BAD_VALUE',
  );
});

test('opaque returns a view of the input, not a copy', () => {
  const buf = Buffer.concat([bytes(3), Buffer.from([7, 8, 9, 0])]);
  const v = new XdrReader(buf).opaque(16);
  assert.deepEqual([...v], [7, 8, 9]);
  assert.equal(v.buffer, buf.buffer);
  assert.equal(v.byteOffset, buf.byteOffset + 4);
});

test('a length above the maximum is refused before any allocation', () => {
  const r = new XdrReader(bytes(0xffffffff));
  assert.throws(
    () => r.opaque(1024),
    (e: unknown) => e instanceof XdrError && e.code === 'XDR_TOO_LONG',
  );
});

test('a length beyond the end is TRUNCATED', () => {
  assert.throws(
    () => new XdrReader(bytes(8, 1)).opaque(64),
    (e: unknown) => e instanceof XdrError && e.code === 'XDR_TRUNCATED',
  );
});

test('non-zero padding is refused', () => {
  const buf = Buffer.concat([bytes(1), Buffer.from([7, 0, 1, 0])]);
  assert.throws(
    () => new XdrReader(buf).opaque(8),
    (e: unknown) => e instanceof XdrError && e.code === 'XDR_BAD_PADDING',
  );
});

test('finish refuses trailing bytes', () => {
  const r = new XdrReader(bytes(1, 2));
  r.u32();
  assert.throws(
    () => r.finish(),
    (e: unknown) => e instanceof XdrError && e.code === 'XDR_TRAILING',
  );
});

test('arrayLength refuses counts the remaining bytes cannot hold', () => {
  const r = new XdrReader(bytes(1000, 1, 2));
  assert.throws(
    () => r.arrayLength(1_000_000, 4),
    (e: unknown) => e instanceof XdrError && e.code === 'XDR_TRUNCATED',
  );
});

test('writer and reader round-trip strings, opaques and hypers', () => {
  const w = new XdrWriter(4);
  w.string('héllo')
    .opaque(Buffer.from([1, 2]))
    .u64(2n ** 63n + 5n)
    .i64(-7)
    .u64(2 ** 40 + 3);
  const r = new XdrReader(w.finish());
  assert.equal(r.string(255), 'héllo');
  assert.deepEqual([...r.opaque(8)], [1, 2]);
  assert.equal(r.u64(), 2n ** 63n + 5n);
  assert.equal(r.i64(), -7n);
  assert.equal(r.u64n(), 2 ** 40 + 3);
  r.finish();
});

test('i64n and the number path of i64 agree with BigInt across the safe range', () => {
  for (const v of [
    0,
    1,
    -1,
    -2,
    2 ** 32,
    -(2 ** 32),
    2 ** 32 + 5,
    -(2 ** 32) - 5,
    Number.MAX_SAFE_INTEGER,
    -Number.MAX_SAFE_INTEGER,
  ]) {
    const viaNumber = new XdrWriter().i64(v).finish();
    const viaBigint = new XdrWriter().i64(BigInt(v)).finish();
    assert.deepEqual(viaNumber, viaBigint, `encoding of ${v}`);
    assert.equal(new XdrReader(viaNumber).i64n(), v);
  }
  assert.throws(() => new XdrReader(new XdrWriter().i64(-(2n ** 53n)).finish()).i64n(), XdrError);
  assert.throws(() => new XdrReader(new XdrWriter().i64(2n ** 53n).finish()).i64n(), XdrError);
});

test('a writer that grows in the middle of a value keeps every byte (regression: stale view after growth)', () => {
  for (const initial of [4, 8, 12, 512]) {
    const w = new XdrWriter(initial);
    const inner = new XdrWriter(initial); // a second writer carved from the same slab meanwhile
    const expected: number[] = [];
    for (let i = 0; i < 300; i++) {
      w.u32(i)
        .i32(-i)
        .u64(i * 2 ** 33)
        .i64(-i * 3)
        .f64(i / 7);
      inner.u32(0xdeadbeef);
      expected.push(i);
    }
    w.string('x'.repeat(100)).cstringOpaque('héllo').opaque(Buffer.alloc(100, 9));
    const r = new XdrReader(w.finish());
    for (const i of expected) {
      assert.equal(r.u32(), i);
      assert.equal(r.i32(), -i || 0);
      assert.equal(r.u64n(), i * 2 ** 33);
      assert.equal(r.i64n(), -i * 3 || 0);
      assert.equal(r.f64(), i / 7);
    }
    assert.equal(r.string(200), 'x'.repeat(100));
    assert.equal(r.cstringOpaque(16), 'héllo');
    assert.deepEqual(r.opaque(100), Buffer.alloc(100, 9));
    r.finish();
    const innerBytes = inner.finish();
    for (let i = 0; i < 300; i++) assert.equal(innerBytes.readUInt32BE(i * 4), 0xdeadbeef);
  }
});
