/**
 * Codec micro-benchmark: encode+decode throughput of whole RPC records for LOOKUP
 * (a small message, both directions) and 128 KiB READ/WRITE (payload-carrying
 * messages, which must cost the same whatever the payload size: it is never copied).
 * One core, in-process; prints a table and, with --json FILE, writes the figures.
 *
 *   npm run bench            # or: node dist/bench/codec.js [--seconds N] [--json FILE]
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { AUTH_NONE_VERIFIER, successReply } from '../src/rpc/message.js';
import { encodeCredential, glusterV3 } from '../src/rpc/auth.js';
import {
  FOP_PROGRAM,
  Program,
  ROOT_GFID,
  decodeCall,
  decodeReply,
  dict,
  encodeCall,
  encodeReply,
  gfuuidValue,
  randomGfid,
  zeroIatt,
  type ProcDef,
} from '../src/protocol/index.js';

const args = process.argv.slice(2);
const seconds = Number(args[args.indexOf('--seconds') + 1] ?? 1) || 1;
const jsonOut = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;

const cred = encodeCredential(glusterV3(1234));
const header = (proc: number) => ({ xid: 99, ...Program.FOP, proc, cred, verf: AUTH_NONE_VERIFIER });
const proc = (n: number): ProcDef => FOP_PROGRAM.procs.get(n)!;
const LOOKUP = proc(27);
const READ = proc(12);
const WRITE = proc(13);
const stat = { ...zeroIatt(), gfid: randomGfid(), flags: 0x17ff, size: 1 << 30, mode: 0o100644, nlink: 1 };

/** Encodes, flattens (as a socket would see it), and decodes one record per iteration. */
function roundTrip(encode: () => Buffer[], decode: (record: Buffer) => unknown): () => number {
  return () => {
    const chunks = encode();
    // The first chunk holds mark+header+XDR; payload chunks are handed to the socket as
    // they are. Decoding works on a received record: simulate one without a copy of the
    // payload when it is a single chunk.
    const record = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    decode(record.subarray(4));
    return chunks[0]!.length;
  };
}

const payload = Buffer.alloc(128 * 1024, 0x5a);
// A received WRITE/READ record, built once: decoding it must not touch the payload.
const writeRecord = Buffer.concat(
  encodeCall(header(13), WRITE, {
    gfid: stat.gfid,
    fd: 0,
    offset: 0,
    size: payload.length,
    flag: 0,
    xdata: null,
    payload,
  }),
).subarray(4);
const readRecord = Buffer.concat(
  encodeReply(successReply(99), READ, {
    opRet: payload.length,
    opErrno: 0,
    stat,
    size: payload.length,
    xdata: null,
    payload,
  }),
).subarray(4);

const cases: Record<string, () => number> = {
  'LOOKUP call (named, gfid-req)': roundTrip(
    () =>
      encodeCall(header(27), LOOKUP, {
        gfid: Buffer.alloc(16),
        pargfid: ROOT_GFID,
        flags: 0,
        bname: 'disk.qcow2',
        xdata: dict({ 'gfid-req': gfuuidValue(stat.gfid) }),
      }),
    (r) => decodeCall(r),
  ),
  'LOOKUP reply (two iatts)': roundTrip(
    () =>
      encodeReply(successReply(99), LOOKUP, {
        opRet: 0,
        opErrno: 0,
        xdata: null,
        prestat: stat,
        poststat: stat,
      }),
    (r) => decodeReply(r, LOOKUP),
  ),
  'WRITE 128 KiB call': () => {
    const chunks = encodeCall(header(13), WRITE, {
      gfid: stat.gfid,
      fd: 0,
      offset: 0,
      size: payload.length,
      flag: 0,
      xdata: null,
      payload,
    });
    decodeCall(writeRecord);
    return chunks[0]!.length + payload.length;
  },
  'READ 128 KiB reply': () => {
    const chunks = encodeReply(successReply(99), READ, {
      opRet: payload.length,
      opErrno: 0,
      stat,
      size: payload.length,
      xdata: null,
      payload,
    });
    decodeReply(readRecord, READ);
    return chunks[0]!.length + payload.length;
  },
};

interface Row {
  case: string;
  messagesPerSecond: number;
  mbPerSecond: number;
}
const rows: Row[] = [];
for (const [name, fn] of Object.entries(cases)) {
  for (let i = 0; i < 20000; i++) fn(); // warm up the JIT
  let n = 0;
  let bytes = 0;
  const start = process.hrtime.bigint();
  const until = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < until) {
    for (let i = 0; i < 1000; i++) bytes += fn();
    n += 1000;
    now = process.hrtime.bigint();
  }
  const secs = Number(now - start) / 1e9;
  rows.push({
    case: name,
    messagesPerSecond: Math.round(n / secs),
    mbPerSecond: Math.round(bytes / secs / 1e6),
  });
}

console.log(`codec encode+decode, one core (${cpus()[0]?.model ?? 'cpu'}, node ${process.version})`);
console.log('| message | msgs/s | MB/s (incl. payload) |');
console.log('|---|---:|---:|');
for (const r of rows)
  console.log(
    `| ${r.case} | ${r.messagesPerSecond.toLocaleString('en')} | ${r.mbPerSecond.toLocaleString('en')} |`,
  );
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ node: process.version, seconds, rows }, null, 2));
