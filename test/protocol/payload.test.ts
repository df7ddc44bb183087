// READ and WRITE payloads sit raw after the XDR part of a record and are never copied
// by the codec: decoding yields a view of the record, encoding hands the caller's
// buffers through untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XdrError } from '../../src/xdr/index.js';
import { AUTH_NONE_VERIFIER, successReply } from '../../src/rpc/message.js';
import { encodeCredential, glusterV3 } from '../../src/rpc/auth.js';
import {
  FOP_PROGRAM,
  Program,
  decodeCall,
  decodeReply,
  dict,
  encodeCall,
  encodeReply,
  randomGfid,
  strValue,
  zeroIatt,
} from '../../src/protocol/index.js';

const WRITE = FOP_PROGRAM.procs.get(13)!;
const READ = FOP_PROGRAM.procs.get(12)!;

function callHeader(proc: number) {
  return { xid: 7, ...Program.FOP, proc, cred: encodeCredential(glusterV3(42)), verf: AUTH_NONE_VERIFIER };
}

test('WRITE: payload chunks are the caller buffers, placed after the xdata pairs', () => {
  const a = Buffer.alloc(3000, 0xaa);
  const b = Buffer.alloc(1000, 0xbb);
  const args = {
    gfid: randomGfid(),
    fd: 0,
    offset: 4096,
    size: 4000,
    flag: 0,
    xdata: dict({ k: strValue('v') }),
    payload: [a, b],
  };
  const chunks = encodeCall(callHeader(13), WRITE, args);
  assert.equal(chunks.length, 3);
  assert.equal(chunks[1], a, 'first payload chunk is the same Buffer object');
  assert.equal(chunks[2], b);
  const head = chunks[0]!;
  assert.equal(
    head.readUInt32BE(0),
    (0x80000000 | (head.length - 4 + 4000)) >>> 0,
    'record mark counts the payload',
  );

  const record = Buffer.concat(chunks).subarray(4);
  const decoded = decodeCall(record);
  assert.equal(decoded.args.payload.length, 4000);
  assert.equal(decoded.args.payload.buffer, record.buffer, 'decoded payload is a view of the record');
  assert.equal(decoded.args.payload.byteOffset, record.byteOffset + head.length - 4);
});

test('WRITE: a payload shorter or longer than size is malformed', () => {
  const args = {
    gfid: randomGfid(),
    fd: 0,
    offset: 0,
    size: 10,
    flag: 0,
    xdata: null,
    payload: Buffer.alloc(9),
  };
  const record = Buffer.concat(encodeCall(callHeader(13), WRITE, args)).subarray(4);
  assert.throws(
    () => decodeCall(record),
    (e: unknown) => e instanceof XdrError && e.code === 'XDR_BAD_VALUE',
  );
});

test('WRITE: an xdata whose xdr_size lies is malformed', () => {
  const args = {
    gfid: randomGfid(),
    fd: 0,
    offset: 0,
    size: 8,
    flag: 0,
    xdata: dict({ k: strValue('v') }),
    payload: Buffer.alloc(8),
  };
  const record = Buffer.concat(encodeCall(callHeader(13), WRITE, args)).subarray(4);
  const headerLen = record.length - 8 - 52 - 16;
  // xdr_size sits right after fd/offset/size/flag: header + 16 + 8 + 8 + 4 + 4.
  record.writeUInt32BE(4, headerLen + 40);
  assert.throws(
    () => decodeCall(record),
    (e: unknown) => e instanceof XdrError,
  );
});

test('READ reply: data follows the 172-byte head plus xdata, and decodes as a view', () => {
  const data = Buffer.alloc(1001, 7);
  const results = { opRet: 1001, opErrno: 0, stat: zeroIatt(), size: 1001, xdata: null, payload: data };
  const chunks = encodeReply(successReply(9), READ, results);
  assert.equal(chunks[1], data, 'payload is passed through, not copied');
  assert.equal(chunks[0]!.length, 4 + 24 + 172, 'mark + reply header + fixed read_rsp head');
  const record = Buffer.concat(chunks).subarray(4);
  const reply = decodeReply(record, READ);
  assert.equal(reply.results.payload.length, 1001);
  assert.equal(reply.results.payload.buffer, record.buffer);
  assert.equal(reply.results.payload.byteOffset, record.byteOffset + 24 + 172);
});

test('READ reply: more data than op_ret is malformed', () => {
  const results = { opRet: 4, opErrno: 0, stat: zeroIatt(), size: 4, xdata: null, payload: Buffer.alloc(8) };
  const record = Buffer.concat(encodeReply(successReply(9), READ, results)).subarray(4);
  assert.throws(
    () => decodeReply(record, READ),
    (e: unknown) => e instanceof XdrError,
  );
});
