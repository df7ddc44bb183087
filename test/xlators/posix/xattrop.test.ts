// XATTROP as AFR, shard and DHT use it: the arithmetic alone (xattrop.ts) and through a
// brick — all-zero requests that never create the xattr, the *_WITH_DEFAULT halves,
// int64 words, wrap-around, the reply holding each key's new value, per-inode
// serialisation, and malformed requests refused while the brick keeps serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DictType, ptrValue, strValue, type DictValue } from '../../../src/protocol/dict.js';
import { FopError } from '../../../src/protocol/errno.js';
import { lgetxattr } from '../../../src/sys/index.js';
import { XattropOp, xattropStep } from '../../../src/xlators/posix/xattrop.js';
import { create, fails, makeBrick } from './helpers.js';

const i32 = (...v: number[]) => {
  const out = Buffer.alloc(v.length * 4);
  v.forEach((x, i) => out.writeInt32BE(x | 0, i * 4));
  return out;
};
const i64 = (...v: bigint[]) => {
  const out = Buffer.alloc(v.length * 8);
  v.forEach((x, i) => out.writeBigInt64BE(BigInt.asIntN(64, x), i * 8));
  return out;
};
const bytes = (v: DictValue | undefined) => v?.value as Buffer;
const KEY = 'trusted.afr.vol-client-1';

test('xattropStep: add, wrap, defaults, zero requests and GET_AND_SET', () => {
  const add = (have: Buffer | null, v: Buffer, op: number = XattropOp.ADD_ARRAY) =>
    xattropStep(op, KEY, have, v);
  assert.deepEqual(add(null, i32(1, 0, 0)), { write: i32(1, 0, 0), reply: i32(1, 0, 0) });
  assert.deepEqual(add(i32(1, 2, 3), i32(-1, 0, 1)).reply, i32(0, 2, 4));
  assert.deepEqual(add(i32(0x7fffffff), i32(1)).reply, i32(-0x80000000), 'int32 wraps');
  assert.deepEqual(
    add(i64((1n << 63n) - 1n), i64(1n), XattropOp.ADD_ARRAY64).reply,
    i64(-(1n << 63n)),
    'int64 wraps',
  );
  // All-zero: no write; the current value (or zeros) is the reply.
  assert.deepEqual(add(null, i32(0, 0, 0)), { write: null, reply: i32(0, 0, 0) });
  assert.deepEqual(add(i32(5, 6, 7), i32(0, 0, 0)), { write: null, reply: i32(5, 6, 7) });
  // A shorter stored value is zero-extended to the request's length.
  assert.deepEqual(add(i32(5), i32(1, 1)).reply, i32(6, 1));
  // [delta | default]: where the stored word is 0 the default is added too.
  assert.deepEqual(
    add(i32(0, 10), Buffer.concat([i32(1, 1), i32(100, 100)]), XattropOp.ADD_ARRAY_WITH_DEFAULT).reply,
    i32(101, 11),
  );
  assert.deepEqual(
    add(null, Buffer.concat([i64(2n), i64(40n)]), XattropOp.ADD_ARRAY64_WITH_DEFAULT).reply,
    i64(42n),
  );
  assert.deepEqual(xattropStep(XattropOp.GET_AND_SET, KEY, null, i32(9)), { write: i32(9), reply: null });
  assert.deepEqual(
    xattropStep(XattropOp.GET_AND_SET, KEY, i32(7), i32(0)),
    { write: i32(0), reply: i32(7) },
    'zeros are stored too',
  );
  assert.deepEqual(xattropStep(XattropOp.GET_AND_SET, KEY, i32(3), i32(9)), { write: i32(9), reply: i32(3) });
  // Malformed: not whole words, empty, a stored value longer than the request.
  for (const [op, v] of [
    [XattropOp.ADD_ARRAY, Buffer.alloc(6, 1)],
    [XattropOp.ADD_ARRAY64, i32(1)],
    [XattropOp.ADD_ARRAY_WITH_DEFAULT, i32(1)],
    [XattropOp.ADD_ARRAY64_WITH_DEFAULT, i64(1n)],
    [XattropOp.ADD_ARRAY, Buffer.alloc(0)],
  ] as const) {
    assert.throws(
      () => xattropStep(op, KEY, null, v),
      (e: unknown) => e instanceof FopError && e.code === 'EINVAL',
    );
  }
  assert.throws(
    () => add(i32(1, 2, 3), i32(1)),
    (e: unknown) => e instanceof FopError && e.code === 'ERANGE',
  );
});

test('XATTROP through posix: zero deltas never create the xattr, replies carry new values, WITH_DEFAULT ops', async () => {
  const b = await makeBrick();
  try {
    const { gfid, fd } = await create(b, 'f');
    const path = join(b.dir, 'f');
    // AFR's pre-op: dirty +1, every pending key with zeros (to read them back).
    const pending = ['trusted.afr.vol-client-0', 'trusted.afr.vol-client-1', 'trusted.afr.vol-client-2'];
    const pre = new Map([
      ['trusted.afr.dirty', ptrValue(i32(1, 0, 0))],
      ...pending.map((k) => [k, ptrValue(i32(0, 0, 0))] as const),
    ]);
    let r = await b.call('FXATTROP', { gfid, fd, flags: 0, dict: pre, xdata: null });
    assert.deepEqual(bytes(r.dict?.get('trusted.afr.dirty')), i32(1, 0, 0));
    for (const k of pending) {
      assert.deepEqual(bytes(r.dict?.get(k)), i32(0, 0, 0), `${k} replied as zeros`);
      await assert.rejects(lgetxattr(path, k), { code: 'ENODATA' }, `${k} not created`);
    }
    // Post-op with a brick down: dirty −1, client-2 +1.
    r = await b.call('FXATTROP', {
      gfid,
      fd,
      flags: 0,
      dict: new Map([
        ['trusted.afr.dirty', ptrValue(i32(-1, 0, 0))],
        ['trusted.afr.vol-client-2', ptrValue(i32(1, 0, 0))],
      ]),
      xdata: null,
    });
    assert.deepEqual(bytes(r.dict?.get('trusted.afr.dirty')), i32(0, 0, 0));
    assert.deepEqual(await lgetxattr(path, 'trusted.afr.dirty'), i32(0, 0, 0), 'written back as zeros');
    assert.deepEqual(await lgetxattr(path, 'trusted.afr.vol-client-2'), i32(1, 0, 0));
    // STR values are bytes too (a client may send either).
    r = await b.call('XATTROP', {
      gfid,
      flags: 5,
      dict: new Map([['trusted.x', ptrValue(Buffer.concat([i32(1), i32(7)]))]]),
      xdata: null,
    });
    assert.deepEqual(bytes(r.dict?.get('trusted.x')), i32(8));
    r = await b.call('XATTROP', {
      gfid,
      flags: 5,
      dict: new Map([['trusted.x', ptrValue(Buffer.concat([i32(1), i32(7)]))]]),
      xdata: null,
    });
    assert.deepEqual(bytes(r.dict?.get('trusted.x')), i32(9), 'default only where the stored word is 0');
    r = await b.call('XATTROP', {
      gfid,
      flags: 6,
      dict: new Map([['trusted.y', ptrValue(i64(3n, 4n))]]),
      xdata: null,
    });
    assert.deepEqual(bytes(r.dict?.get('trusted.y')), i64(7n));
  } finally {
    await b.close();
  }
});

test('XATTROP: malformed requests are EINVAL, nothing half-applied, and the brick keeps serving', async () => {
  const b = await makeBrick();
  try {
    const { gfid } = await create(b, 'f');
    const path = join(b.dir, 'f');
    const one = (key: string, v: DictValue, flags = 0) =>
      b.call('XATTROP', { gfid, flags, dict: new Map([[key, v]]), xdata: null });
    await fails(one(KEY, ptrValue(Buffer.alloc(7, 1))), 'EINVAL');
    await fails(one(KEY, ptrValue(i32(1)), 1), 'EINVAL');
    await fails(one(KEY, ptrValue(i32(1)), 5), 'EINVAL');
    await fails(one(KEY, { type: DictType.INT, value: 1n }), 'EINVAL');
    await fails(one(KEY, ptrValue(i32(1)), 7), 'EINVAL');
    await fails(one(KEY, ptrValue(i32(1)), 0xffffffff), 'EINVAL');
    await fails(one('', ptrValue(i32(1))), 'EINVAL');
    // A bad key among good ones: checked before anything is written.
    await fails(
      b.call('XATTROP', {
        gfid,
        flags: 0,
        dict: new Map([
          ['trusted.afr.dirty', ptrValue(i32(1, 0, 0))],
          [KEY, ptrValue(Buffer.alloc(5, 1))],
        ]),
        xdata: null,
      }),
      'EINVAL',
    );
    await assert.rejects(lgetxattr(path, 'trusted.afr.dirty'), { code: 'ENODATA' });
    const many = new Map(Array.from({ length: 300 }, (_, i) => [`trusted.k${i}`, ptrValue(i32(1))] as const));
    await fails(b.call('XATTROP', { gfid, flags: 0, dict: many, xdata: null }), 'EINVAL');
    // Stored value longer than the request: ERANGE, as stock's getxattr into a short buffer.
    await one('trusted.long', ptrValue(i32(1, 1, 1)));
    await fails(one('trusted.long', ptrValue(i32(1))), 'ERANGE');
    // Still serving.
    const r = await one(KEY, strValue('\u0000\u0000\u0000'));
    assert.deepEqual(bytes(r.dict?.get(KEY)), Buffer.alloc(4));
  } finally {
    await b.close();
  }
});

test('XATTROP: concurrent adds from many callers on one inode lose nothing (fd and gfid variants)', async () => {
  const b = await makeBrick();
  try {
    const { gfid, fd } = await create(b, 'f');
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        i % 2
          ? b.call('XATTROP', { gfid, flags: 0, dict: new Map([[KEY, ptrValue(i32(1, 2, 0))]]), xdata: null })
          : b.call('FXATTROP', {
              gfid,
              fd,
              flags: 1,
              dict: new Map([['trusted.n64', ptrValue(i64(3n))]]),
              xdata: null,
            }),
      ),
    );
    assert.deepEqual(await lgetxattr(join(b.dir, 'f'), KEY), i32(20, 40, 0));
    assert.deepEqual(await lgetxattr(join(b.dir, 'f'), 'trusted.n64'), i64(60n));
  } finally {
    await b.close();
  }
});
