import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XdrError } from '../../src/xdr/index.js';
import { encodeRecordMark, RecordDecoder } from '../../src/rpc/record.js';

function fragment(body: Buffer, last: boolean): Buffer {
  return Buffer.concat([encodeRecordMark(body.length, last), body]);
}

function drain(d: RecordDecoder): Buffer[] {
  const out: Buffer[] = [];
  for (let r = d.next(); r; r = d.next()) out.push(r);
  return out;
}

const isTooLong = (e: unknown): boolean => e instanceof XdrError && e.code === 'XDR_TOO_LONG';

test('a record inside one chunk comes back as a view of that chunk', () => {
  const chunk = Buffer.concat([fragment(Buffer.from('abcdefgh'), true), fragment(Buffer.from('wxyz'), true)]);
  const d = new RecordDecoder();
  d.push(chunk);
  const [first, second] = drain(d);
  assert.equal(first!.toString(), 'abcdefgh');
  assert.equal(first!.buffer, chunk.buffer);
  assert.equal(first!.byteOffset, chunk.byteOffset + 4);
  assert.equal(second!.buffer, chunk.buffer);
  assert.equal(second!.byteOffset, chunk.byteOffset + 16);
  assert.equal(d.partial, false);
});

test('reassembles a record from several fragments', () => {
  const d = new RecordDecoder();
  d.push(
    Buffer.concat([
      fragment(Buffer.from('one '), false),
      fragment(Buffer.from('two '), false),
      fragment(Buffer.from('three'), true),
    ]),
  );
  assert.deepEqual(
    drain(d).map((r) => r.toString()),
    ['one two three'],
  );
});

test('a record joined from several chunks goes into the memory `allocate` gives', () => {
  const asked: number[] = [];
  const d = new RecordDecoder({
    allocate: (n) => {
      asked.push(n);
      return Buffer.alloc(n + 3).subarray(3);
    },
  });
  const whole = fragment(Buffer.from('split across chunks'), true);
  d.push(whole.subarray(0, 9));
  d.push(whole.subarray(9));
  const [record] = drain(d);
  assert.equal(record!.toString(), 'split across chunks');
  assert.equal(record!.byteOffset, 3);
  assert.deepEqual(asked, [19]);
  // A record inside one chunk is still a view, never allocated.
  const one = fragment(Buffer.from('one chunk'), true);
  d.push(one);
  assert.equal(drain(d)[0]!.buffer, one.buffer);
  assert.deepEqual(asked, [19]);
});

test('returns null until the record is complete, byte by byte', () => {
  const wire = Buffer.concat([fragment(Buffer.from('hello'), false), fragment(Buffer.from(' world'), true)]);
  const d = new RecordDecoder();
  for (let i = 0; i < wire.length - 1; i++) {
    d.push(wire.subarray(i, i + 1));
    assert.equal(d.next(), null);
    assert.equal(d.partial, true);
  }
  d.push(wire.subarray(wire.length - 1));
  assert.equal(d.next()!.toString(), 'hello world');
  assert.equal(d.next(), null);
  assert.equal(d.partial, false);
});

test('zero-length fragments, last and not last, are skipped without looping', () => {
  const zeros = Buffer.concat(Array.from({ length: 1000 }, () => encodeRecordMark(0, false)));
  const d = new RecordDecoder();
  d.push(zeros);
  assert.equal(d.next(), null);
  assert.equal(d.partial, true);
  d.push(fragment(Buffer.from('body'), false));
  d.push(encodeRecordMark(0, true));
  assert.equal(d.next()!.toString(), 'body');
  // A record made of one empty last fragment is an empty record.
  d.push(encodeRecordMark(0, true));
  assert.equal(d.next()!.length, 0);
  assert.equal(d.next(), null);
});

test('a record over the maximum fails before its body arrives, and stays failed', () => {
  const d = new RecordDecoder({ maxRecordSize: 100 });
  d.push(encodeRecordMark(101, true));
  assert.throws(() => d.next(), isTooLong);
  d.push(fragment(Buffer.from('ok'), true));
  assert.throws(() => d.next(), isTooLong);
});

test('the maximum applies to the sum of the fragments', () => {
  const d = new RecordDecoder({ maxRecordSize: 100 });
  d.push(fragment(Buffer.alloc(60), false));
  d.push(encodeRecordMark(41, true));
  assert.throws(() => d.next(), isTooLong);
  const ok = new RecordDecoder({ maxRecordSize: 100 });
  ok.push(Buffer.concat([fragment(Buffer.alloc(60), false), fragment(Buffer.alloc(40), true)]));
  assert.equal(ok.next()!.length, 100);
});

test('fragment header 0x7fffffff is refused at once with the default maximum', () => {
  const d = new RecordDecoder();
  d.push(Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2, 3]));
  assert.throws(() => d.next(), isTooLong);
});

test('too many fragments in one record fail', () => {
  const d = new RecordDecoder({ maxFragments: 10 });
  d.push(Buffer.concat(Array.from({ length: 11 }, () => fragment(Buffer.from('x'), false))));
  assert.throws(() => d.next(), isTooLong);
});

test('a fragment header split across chunks is read without joining them', () => {
  const wire = fragment(Buffer.from('split'), true);
  const d = new RecordDecoder();
  d.push(wire.subarray(0, 2));
  assert.equal(d.next(), null);
  d.push(wire.subarray(2, 6));
  assert.equal(d.next(), null);
  d.push(wire.subarray(6));
  assert.equal(d.next()!.toString(), 'split');
});

test('encodeRecordMark sets the last-fragment bit and refuses bad lengths', () => {
  assert.deepEqual([...encodeRecordMark(0x48)], [0x80, 0, 0, 0x48]);
  assert.deepEqual([...encodeRecordMark(5, false)], [0, 0, 0, 5]);
  assert.throws(() => encodeRecordMark(0x8000_0000), RangeError);
  assert.throws(() => encodeRecordMark(-1), RangeError);
});

test('direct mode: a large record is read into its own buffer, the rest offered to the socket', () => {
  const body = Buffer.alloc(100_000);
  for (let i = 0; i < body.length; i++) body[i] = i % 251;
  const wire = fragment(body, true);
  const d = new RecordDecoder({ directMin: 32 * 1024 });
  d.push(wire.subarray(0, 1000));
  assert.equal(d.next(), null);
  // Everything buffered was taken: the socket may read straight into the record.
  const target = d.readTarget()!;
  assert.equal(target.length, body.length - 996);
  wire.copy(target, 0, 1000, 50_000);
  d.filled(49_000);
  assert.equal(d.next(), null);
  const rest = d.readTarget()!;
  assert.equal(rest.length, wire.length - 50_000);
  assert.equal(rest.buffer, target.buffer, 'the same record buffer');
  wire.copy(rest, 0, 50_000);
  d.filled(rest.length);
  const record = d.next()!;
  assert.deepEqual(record, body);
  assert.equal(record.buffer, target.buffer);
  assert.equal(d.readTarget(), null);
  assert.equal(d.partial, false);
  assert.throws(() => d.filled(1), RangeError);
});

test('direct mode: small and multi-fragment records take the usual path; no target while bytes wait', () => {
  const big = Buffer.alloc(40_000, 7);
  const d = new RecordDecoder({ directMin: 32 * 1024 });
  const wire = Buffer.concat([
    fragment(Buffer.from('small'), true),
    fragment(big.subarray(0, 20_000), false),
    fragment(big.subarray(20_000), true),
    fragment(big, true),
  ]);
  d.push(wire.subarray(0, 60_000));
  assert.equal(d.next()!.toString(), 'small');
  assert.equal(d.readTarget(), null, 'a multi-fragment record is not read in place');
  d.push(wire.subarray(60_000));
  assert.deepEqual(drain(d), [big, big]);
});

test('detach copies what the decoder still holds of a chunk that is about to be reused', () => {
  const d = new RecordDecoder();
  const scratch = Buffer.concat([
    fragment(Buffer.from('first'), true),
    fragment(Buffer.from('second'), true),
  ]);
  const cut = scratch.length - 3;
  d.push(scratch.subarray(0, cut));
  assert.equal(d.next()!.toString(), 'first');
  assert.equal(d.next(), null);
  d.detach();
  const tail = Buffer.from(scratch.subarray(cut));
  scratch.fill(0);
  d.push(tail);
  assert.equal(d.next()!.toString(), 'second');
});
