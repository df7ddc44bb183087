/**
 * Turns a loopback capture of real GlusterFS traffic into a golden wire fixture
 * (test/fixtures/wire/<scenario>.json; format in docs/fixtures.md).
 *
 *   node dist/scripts/pcap-to-fixtures.js --pcap x.pcapng --scenario NAME --out FILE
 *        [--description TEXT] [--client TEXT] [--peer TEXT] [--all]
 *
 * Steps: tshark dumps every TCP segment (stream, endpoints, raw seq, flags, payload); each
 * direction of each stream is reassembled by sequence number (retransmitted or overlapping
 * bytes are dropped); the byte stream is cut into RPC records (RFC 5531 record marking,
 * multi-fragment records joined); each record's header is decoded with the project's
 * readHeader; replies are paired with calls by xid within the stream; then a small,
 * diverse subset is kept.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readHeader, MsgType, AcceptStat, ReplyStat, type OpaqueAuth } from '../src/rpc/message.js';
import { decodeCredential } from '../src/rpc/auth.js';
import { XdrReader } from '../src/xdr/index.js';
// The credential pid of the harness's own probes (portmap, DUMP): those streams are not stock traffic.
import { PROBE_PID } from '../src/peers/portmap.js';

export type Dir = 'c2s' | 's2c';

export interface FixtureRecord {
  stream: number;
  dir: Dir;
  kind: 'call' | 'reply';
  prog: number;
  vers: number;
  proc: number;
  xid: number;
  body: string;
}

export interface Fixture {
  scenario: string;
  description: string;
  peer: string;
  client: string;
  /** TCP streams that have kept records: who is the client (SYN sender) and who the server. */
  streams: { stream: number; client: string; server: string }[];
  /** Every record seen in the capture, by "dir kind prog/vers/proc" (before the subset was taken). */
  seen: Record<string, number>;
  records: FixtureRecord[];
}

interface Segment {
  frame: number;
  off: number;
  data: Buffer;
}

interface Flow {
  stream: number;
  src: string;
  dst: string;
  isn?: number;
  segs: Segment[];
}

interface RawRecord {
  stream: number;
  dir: Dir;
  frame: number;
  pos: number;
  body: Buffer;
}

interface Parsed extends RawRecord {
  kind: 'call' | 'reply';
  xid: number;
  prog: number;
  vers: number;
  proc: number;
  credFlavor?: number;
  /** A call carrying the harness's probe credential. */
  probe?: boolean;
  sig: string;
  partner?: Parsed;
}

/** Reads all TCP segments of a capture through tshark. */
async function readFlows(pcap: string): Promise<Map<string, Flow> & { clients: Map<number, string> }> {
  const fields = [
    'frame.number',
    'tcp.stream',
    'ip.src',
    'tcp.srcport',
    'ip.dst',
    'tcp.dstport',
    'tcp.seq_raw',
    'tcp.flags.syn',
    'tcp.flags.ack',
    'tcp.len',
    'tcp.payload',
  ];
  const args = ['-r', pcap, '-n', '-Y', 'tcp', '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=f'];
  for (const f of fields) args.push('-e', f);
  const child = spawn('tshark', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const flows = new Map<string, Flow>() as Map<string, Flow> & { clients: Map<number, string> };
  flows.clients = new Map();
  const rl = createInterface({ input: child.stdout, crlfDelay: Infinity });
  for await (const line of rl) {
    const [frame, stream, src, sport, dst, dport, seqRaw, syn, ack, len, payload] = line.split('\t');
    if (stream === undefined || seqRaw === undefined) continue;
    const s = Number(stream);
    const from = `${src}:${sport}`;
    const to = `${dst}:${dport}`;
    const key = `${s}|${from}`;
    let f = flows.get(key);
    if (!f) flows.set(key, (f = { stream: s, src: from, dst: to, segs: [] }));
    const seq = Number(seqRaw);
    if (syn === '1' || syn === 'True') {
      f.isn = (seq + 1) >>> 0;
      if (ack === '0' || ack === 'False') flows.clients.set(s, from);
      continue;
    }
    const n = Number(len ?? 0);
    if (n > 0 && payload) {
      f.segs.push({ frame: Number(frame), off: seq, data: Buffer.from(payload.replace(/:/g, ''), 'hex') });
    }
  }
  const code: number = await new Promise((r) => child.once('close', (c) => r(c ?? 1)));
  if (code !== 0) throw new Error(`tshark failed (${code}): ${stderr}`);
  return flows;
}

/** Reassembles one direction; returns the contiguous byte stream and, per byte range, its frame. */
function reassemble(f: Flow): { data: Buffer; frames: { end: number; frame: number }[] } {
  if (f.isn === undefined) return { data: Buffer.alloc(0), frames: [] };
  const isn = f.isn;
  const segs = f.segs
    .map((s) => ({ ...s, off: (s.off - isn) >>> 0 }))
    .filter((s) => s.off < 0x80000000)
    .sort((a, b) => a.off - b.off || a.frame - b.frame);
  const parts: Buffer[] = [];
  const frames: { end: number; frame: number }[] = [];
  let have = 0;
  for (const s of segs) {
    const end = s.off + s.data.length;
    if (end <= have) continue; // retransmission of bytes we already have
    if (s.off > have) break; // hole (lost segment): stop at the gap
    parts.push(s.data.subarray(have - s.off));
    have = end;
    frames.push({ end, frame: s.frame });
  }
  return { data: Buffer.concat(parts), frames };
}

/** Cuts a byte stream into RPC records (without fragment headers). */
function splitRecords(data: Buffer): { pos: number; end: number; body: Buffer }[] {
  const out: { pos: number; end: number; body: Buffer }[] = [];
  let p = 0;
  while (p + 4 <= data.length) {
    const start = p;
    const frags: Buffer[] = [];
    let complete = false;
    while (p + 4 <= data.length) {
      const mark = data.readUInt32BE(p);
      const len = mark & 0x7fffffff;
      if (p + 4 + len > data.length) return out; // truncated at capture end
      frags.push(data.subarray(p + 4, p + 4 + len));
      p += 4 + len;
      if (mark & 0x80000000) {
        complete = true;
        break;
      }
    }
    if (!complete) break;
    out.push({ pos: start, end: p, body: frags.length === 1 ? frags[0]! : Buffer.concat(frags) });
  }
  return out;
}

function frameAt(frames: { end: number; frame: number }[], byte: number): number {
  for (const f of frames) if (f.end > byte) return f.frame;
  return frames.at(-1)?.frame ?? 0;
}

function isProbe(auth: OpaqueAuth): boolean {
  try {
    const cred = decodeCredential(auth);
    return cred !== null && 'pid' in cred && cred.pid === PROBE_PID;
  } catch {
    return false;
  }
}

function parse(r: RawRecord): Parsed | undefined {
  try {
    const rd = new XdrReader(r.body);
    const h = readHeader(rd);
    if (h.type === MsgType.CALL) {
      return {
        ...r,
        kind: 'call',
        xid: h.xid,
        prog: h.prog,
        vers: h.vers,
        proc: h.proc,
        credFlavor: h.cred.flavor,
        probe: isProbe(h.cred),
        sig: `cred${h.cred.flavor}`,
      };
    }
    let sig: string;
    if (h.replyStat === ReplyStat.MSG_ACCEPTED && h.acceptStat === AcceptStat.SUCCESS) {
      const at = rd.offset;
      // Most results start with i32 op_ret, i32 op_errno (DUMP starts with a u64 gfs_id).
      sig = r.body.length >= at + 8 && r.body.readInt32BE(at) < 0 ? `err${r.body.readInt32BE(at + 4)}` : 'ok';
    } else if (h.replyStat === ReplyStat.MSG_ACCEPTED) sig = `accept${h.acceptStat}`;
    else sig = `denied${h.rejectStat}`;
    return { ...r, kind: 'reply', xid: h.xid, prog: -1, vers: -1, proc: -1, sig };
  } catch {
    return undefined;
  }
}

export interface ConvertOptions {
  scenario: string;
  description?: string;
  peer?: string;
  client?: string;
  /** Keep every record (no subset). */
  all?: boolean;
  perGroup?: number;
  maxLarge?: number;
}

const LARGE = 64 * 1024;
const FOP = 1298437;

export async function convertPcap(pcap: string, o: ConvertOptions): Promise<Fixture> {
  const flows = await readFlows(pcap);
  const perGroup = o.perGroup ?? 6;
  const maxLarge = o.maxLarge ?? 3;
  const records: Parsed[] = [];
  let undecodable = 0;
  for (const f of flows.values()) {
    const client = flows.clients.get(f.stream);
    if (!client) continue; // stream began before the capture: record boundaries unknown
    const dir: Dir = f.src === client ? 'c2s' : 's2c';
    const { data, frames } = reassemble(f);
    for (const rec of splitRecords(data)) {
      const p = parse({
        stream: f.stream,
        dir,
        frame: frameAt(frames, rec.end - 1),
        pos: rec.pos,
        body: rec.body,
      });
      if (p) records.push(p);
      else undecodable++;
    }
  }
  if (undecodable) process.stderr.write(`${o.scenario}: ${undecodable} undecodable records dropped\n`);
  records.sort((a, b) => a.frame - b.frame || a.stream - b.stream || a.pos - b.pos);

  // Pair replies with calls: same stream, opposite direction, same xid (first unanswered call).
  const pending = new Map<string, Parsed[]>();
  for (const r of records) {
    if (r.kind === 'call') {
      const k = `${r.stream}|${r.dir}|${r.xid}`;
      (pending.get(k) ?? pending.set(k, []).get(k)!).push(r);
    } else {
      const k = `${r.stream}|${r.dir === 'c2s' ? 's2c' : 'c2s'}|${r.xid}`;
      const call = pending.get(k)?.shift();
      if (call) {
        r.partner = call;
        call.partner = r;
        r.prog = call.prog;
        r.vers = call.vers;
        r.proc = call.proc;
      }
    }
  }
  // Streams opened by the harness's probes are not stock traffic.
  const probeStreams = new Set(records.filter((r) => r.probe).map((r) => r.stream));
  const stock = records.filter((r) => !probeStreams.has(r.stream));

  const seen: Record<string, number> = {};
  const gkey = (r: Parsed) => `${r.dir} ${r.kind} ${r.prog}/${r.vers}/${r.proc}`;
  for (const r of stock) seen[gkey(r)] = (seen[gkey(r)] ?? 0) + 1;

  let kept: Set<Parsed>;
  if (o.all) kept = new Set(stock);
  else {
    kept = new Set();
    const count = new Map<string, number>();
    let large = 0;
    const units = stock
      .filter((r) => r.kind === 'call' || !r.partner)
      .map((r) => (r.partner ? [r, r.partner] : [r]));
    const tryKeep = (unit: Parsed[]): boolean => {
      if (unit.some((r) => kept.has(r))) return false;
      const big = unit.filter((r) => r.body.length > LARGE).length;
      if (large + big > maxLarge) return false;
      if (unit.some((r) => (count.get(gkey(r)) ?? 0) >= perGroup)) return false;
      for (const r of unit) {
        kept.add(r);
        count.set(gkey(r), (count.get(gkey(r)) ?? 0) + 1);
      }
      large += big;
      return true;
    };
    // 1. Payload placement: one big WRITE call and one big READ reply.
    const bigWrite = units.find((u) => u[0]!.prog === FOP && u[0]!.proc === 13 && u[0]!.body.length > LARGE);
    const bigRead = units.find(
      (u) => u[0]!.prog === FOP && u[0]!.proc === 12 && (u[1]?.body.length ?? 0) > LARGE,
    );
    for (const u of [bigWrite, bigRead]) if (u) tryKeep(u);
    // 2. Diversity: the first unit of each (group, cred flavor, reply outcome, small/big).
    const sigs = new Set<string>();
    for (const u of units) {
      const s = `${gkey(u[0]!)}|${u.map((r) => r.sig).join(',')}|${u.some((r) => r.body.length > LARGE)}`;
      if (sigs.has(s)) continue;
      sigs.add(s);
      tryKeep(u);
    }
    // 3. Fill up to perGroup, in capture order.
    for (const u of units) tryKeep(u);
  }

  const out = stock.filter((r) => kept.has(r));
  const streams = [...new Set(out.map((r) => r.stream))].sort((a, b) => a - b);
  const endpoints = new Map<number, { client: string; server: string }>();
  for (const f of flows.values()) {
    const c = flows.clients.get(f.stream);
    if (c && f.src === c) endpoints.set(f.stream, { client: f.src, server: f.dst });
  }
  return {
    scenario: o.scenario,
    description: o.description ?? '',
    peer: o.peer ?? 'glusterfs 10.3 (Debian 12)',
    client: o.client ?? '',
    streams: streams.map((s) => ({ stream: s, ...(endpoints.get(s) ?? { client: '?', server: '?' }) })),
    seen: Object.fromEntries(
      Object.entries(seen).sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true })),
    ),
    records: out.map((r) => ({
      stream: r.stream,
      dir: r.dir,
      kind: r.kind,
      prog: r.prog,
      vers: r.vers,
      proc: r.proc,
      xid: r.xid,
      body: r.body.toString('base64'),
    })),
  };
}

/** Writes a fixture as JSON: one record per line, so diffs stay readable. */
export function writeFixture(path: string, fx: Fixture): void {
  mkdirSync(dirname(path), { recursive: true });
  const { records, ...head } = fx;
  const headJson = JSON.stringify(head, null, 2);
  const recs = records.map((r) => '    ' + JSON.stringify(r)).join(',\n');
  writeFileSync(path, `${headJson.slice(0, -2)},\n  "records": [\n${recs}\n  ]\n}\n`);
}

async function main(argv: string[]): Promise<void> {
  const a: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    if (!k.startsWith('--')) throw new Error(`unexpected argument ${k}`);
    if (k === '--all') a.all = true;
    else a[k.slice(2)] = argv[++i] ?? '';
  }
  if (typeof a.pcap !== 'string' || typeof a.scenario !== 'string' || typeof a.out !== 'string') {
    throw new Error(
      'usage: pcap-to-fixtures --pcap FILE --scenario NAME --out FILE [--description T] [--client T]',
    );
  }
  const fx = await convertPcap(a.pcap, {
    scenario: a.scenario,
    description: typeof a.description === 'string' ? a.description : '',
    client: typeof a.client === 'string' ? a.client : '',
    ...(typeof a.peer === 'string' ? { peer: a.peer } : {}),
    all: a.all === true,
  });
  writeFixture(a.out, fx);
  process.stdout.write(`${a.out}: ${fx.records.length} records\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
