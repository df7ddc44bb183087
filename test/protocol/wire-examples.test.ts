// Messages captured from stock GlusterFS 10.3 (the hex below) decode
// to the expected values and re-encode to the same bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XdrReader, XdrWriter } from '../../src/xdr/index.js';
import { AuthFlavor, decodeCredential } from '../../src/rpc/auth.js';
import {
  DictType,
  ROOT_GFID,
  decodeCall,
  decodeLegacyDict,
  decodeReply,
  DumpProcs,
  encodeCall,
  encodeLegacyDict,
  encodeReply,
  gfxDict,
  iattx,
  legacyDict,
  ptrValue,
  zeroIatt,
} from '../../src/protocol/index.js';

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/[^0-9a-f]/gi, ''), 'hex');
}

test('DUMP call from a stock client decodes and re-encodes byte for byte', () => {
  const wire = hex(
    '80000048 00000002 00000000 00000002 075bb86d 00000001 00000001 0005f397 00000018 ' +
      '00000000 00000000 00000000 00000000 00000004 00000000 00000000 00000000 00000000 0000caed',
  );
  const call = decodeCall(wire.subarray(4));
  assert.equal(call.header.xid, 2);
  assert.equal(call.def.name, 'DUMP');
  assert.equal(call.args.gfsId, 0xcaedn);
  const cred = decodeCredential(call.header.cred);
  assert.equal(cred?.flavor, AuthFlavor.GLUSTERFS_V2);
  assert.deepEqual(Buffer.concat(encodeCall(call.header, call.def, call.args)), wire);
});

test('PING reply decodes as op_ret 0 with empty xdata', () => {
  const body = hex('00000003 00000001 00000000 00000000 00000000 00000000 00000000 00000000 00000000');
  const reply = decodeReply(body, DumpProcs.PING as never);
  assert.deepEqual(reply.results, { opRet: 0, opErrno: 0, xdata: Buffer.alloc(0) });
  const again = Buffer.concat(encodeReply(reply.header, { name: 'PING', ...DumpProcs.PING }, reply.results));
  assert.deepEqual(again.subarray(4), body);
});

test('v400 STATFS call with an AUTH_GLUSTERFS v3 credential and a NULL xdata', () => {
  const wire = hex(
    '8000006c 00000008 00000000 00000002 0013d005 00000190 0000000e 0005f398 00000028 ' +
      '00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000004 00000000 ' +
      '00000000 00000000 ' +
      '00000000 00000000 00000000 00000001 00000000 ffffffff 00000000',
  );
  const call = decodeCall(wire.subarray(4));
  assert.equal(call.def.name, 'STATFS');
  assert.deepEqual(call.args.gfid, ROOT_GFID);
  assert.equal(call.args.xdata, null);
  assert.equal(decodeCredential(call.header.cred)?.flavor, AuthFlavor.GLUSTERFS_V3);
  assert.deepEqual(Buffer.concat(encodeCall(call.header, call.def, call.args)), wire);
});

test('gfx_dict: the captured user.test="hello" xattr dict, xdr_size 32', () => {
  const wire = hex(
    '00000020 00000001 00000001 0000000a 75736572 2e746573 74000000 00000006 00000005 68656c6c 6f000000',
  );
  const w = new XdrWriter();
  gfxDict.write(w, new Map([['user.test', ptrValue(Buffer.from('hello'))]]));
  assert.deepEqual(w.finish(), wire);
  const d = gfxDict.read(new XdrReader(wire));
  assert.equal(d?.get('user.test')?.type, DictType.PTR);
  assert.equal(d?.get('user.test')?.value.toString(), 'hello');
});

test('gfx_dict: NULL and empty dicts have distinct encodings', () => {
  const nul = new XdrWriter();
  gfxDict.write(nul, null);
  assert.deepEqual(nul.finish(), hex('00000000 ffffffff 00000000'));
  const empty = new XdrWriter();
  gfxDict.write(empty, new Map());
  assert.deepEqual(empty.finish(), hex('00000000 00000000 00000000'));
  assert.equal(gfxDict.read(new XdrReader(hex('00000000 ffffffff 00000000'))), null);
  assert.equal(gfxDict.read(new XdrReader(hex('00000000 00000000 00000000')))?.size, 0);
});

test('legacy dict: unaligned pairs, NUL after each key, values keep their NUL', () => {
  const d = legacyDict({ 'fops-version': '1298437' });
  const bytes = encodeLegacyDict(d);
  assert.deepEqual(
    bytes,
    Buffer.concat([hex('00000001 0000000c 00000008'), Buffer.from('fops-version\x001298437\x00')]),
  );
  assert.deepEqual(decodeLegacyDict(bytes), d);
  assert.equal(encodeLegacyDict(new Map()).length, 0, 'an empty dict is an empty opaque');
});

test('gfx_iattx is 148 bytes', () => {
  const w = new XdrWriter();
  iattx.write(w, zeroIatt());
  assert.equal(w.finish().length, 148);
});
