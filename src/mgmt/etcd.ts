/**
 * A small etcd v3 client over etcd's JSON gateway (HTTP POST to /v3/…, keys and values in
 * base64, 64-bit numbers as decimal strings), with node:http only: range, transactions,
 * a watch stream and the member calls the pool needs. Every call has a deadline, so an
 * etcd that lost its quorum makes an operation fail instead of hang.
 */
import http from 'node:http';
import { Errno, GlusterTsError } from '../errors/index.js';

export interface EtcdKv {
  key: string;
  value: string;
  modRevision: number;
  createRevision: number;
}

export interface EtcdMember {
  id: string;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

/** One comparison of a transaction: the key's last-modified revision (0: absent). */
export interface EtcdCompare {
  key: string;
  modRevision: number;
}

export type EtcdOp = { put: string; value: string } | { delete: string };

export interface EtcdWatchEvent {
  type: 'put' | 'delete';
  kv: EtcdKv;
}

export class EtcdError extends GlusterTsError {
  static readonly codes = ['ETCD_FAILED'] as const;
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super('ETCD_FAILED', Errno.EIO, message);
  }
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: unknown) => (typeof s === 'string' ? Buffer.from(s, 'base64').toString('utf8') : '');
const num = (v: unknown) => (v === undefined ? 0 : Number(v));

/** The key just after every key that starts with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): string {
  const buf = Buffer.from(prefix, 'utf8');
  for (let i = buf.length - 1; i >= 0; i--) {
    if (buf[i]! < 0xff) {
      buf[i]!++;
      return buf.subarray(0, i + 1).toString('latin1');
    }
  }
  return '\0';
}

function parseKv(kv: Record<string, unknown>): EtcdKv {
  return {
    key: unb64(kv.key),
    value: unb64(kv.value),
    modRevision: num(kv.mod_revision ?? kv.modRevision),
    createRevision: num(kv.create_revision ?? kv.createRevision),
  };
}

function parseMember(m: Record<string, unknown>): EtcdMember {
  return {
    id: String(m.ID ?? m.id ?? ''),
    name: String(m.name ?? ''),
    peerUrls: (m.peerURLs ?? m.peer_urls ?? []) as string[],
    clientUrls: (m.clientURLs ?? m.client_urls ?? []) as string[],
    isLearner: m.isLearner === true || m.is_learner === true,
  };
}

/** range_end strings from prefixEnd may hold bytes >= 0x80: encode them byte for byte. */
const b64Bytes = (s: string) => Buffer.from(s, 'latin1').toString('base64');

export class EtcdClient {
  private readonly url: URL;

  constructor(
    endpoint: string,
    private readonly timeoutMs = 5000,
  ) {
    this.url = new URL(endpoint);
  }

  get endpoint(): string {
    return this.url.origin;
  }

  private post(path: string, body: unknown, timeoutMs = this.timeoutMs): Promise<Record<string, unknown>> {
    const text = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.url.hostname,
          port: this.url.port,
          path,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            let parsed: Record<string, unknown>;
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
            } catch {
              reject(
                new EtcdError(`etcd ${path}: unreadable answer (HTTP ${res.statusCode})`, res.statusCode),
              );
              return;
            }
            if (res.statusCode !== 200) {
              const msg = String(parsed.message ?? parsed.error ?? `HTTP ${res.statusCode}`);
              reject(new EtcdError(`etcd ${path}: ${msg}`, res.statusCode));
              return;
            }
            resolve(parsed);
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(
          new EtcdError(`etcd at ${this.url.origin} did not answer ${path} within ${timeoutMs} ms`),
        ),
      );
      req.on('error', (err) =>
        reject(err instanceof EtcdError ? err : new EtcdError(`etcd at ${this.url.origin}: ${err.message}`)),
      );
      req.end(text);
    });
  }

  /** Every key under `prefix`, and the store's revision the answer reflects. */
  async range(prefix: string): Promise<{ kvs: EtcdKv[]; revision: number }> {
    const r = await this.post('/v3/kv/range', { key: b64(prefix), range_end: b64Bytes(prefixEnd(prefix)) });
    const kvs = ((r.kvs ?? []) as Record<string, unknown>[]).map(parseKv);
    return { kvs, revision: num((r.header as Record<string, unknown> | undefined)?.revision) };
  }

  async get(key: string): Promise<EtcdKv | undefined> {
    const r = await this.post('/v3/kv/range', { key: b64(key) });
    const kv = (r.kvs as Record<string, unknown>[] | undefined)?.[0];
    return kv && parseKv(kv);
  }

  /**
   * All of `ops` if every comparison holds, nothing otherwise. Resolves whether they
   * were applied, and the revision after the transaction.
   */
  async txn(compare: EtcdCompare[], ops: EtcdOp[]): Promise<{ succeeded: boolean; revision: number }> {
    const r = await this.post('/v3/kv/txn', {
      compare: compare.map((c) => ({
        key: b64(c.key),
        target: 'MOD',
        result: 'EQUAL',
        mod_revision: String(c.modRevision),
      })),
      success: ops.map((op) =>
        'put' in op
          ? { request_put: { key: b64(op.put), value: b64(op.value) } }
          : { request_delete_range: { key: b64(op.delete) } },
      ),
    });
    return {
      succeeded: r.succeeded === true,
      revision: num((r.header as Record<string, unknown> | undefined)?.revision),
    };
  }

  async put(key: string, value: string): Promise<void> {
    await this.post('/v3/kv/put', { key: b64(key), value: b64(value) });
  }

  async members(): Promise<EtcdMember[]> {
    const r = await this.post('/v3/cluster/member/list', {});
    return ((r.members ?? []) as Record<string, unknown>[]).map(parseMember);
  }

  /** Adds a member as a learner (it does not count towards the quorum until promoted). */
  async addLearner(peerUrl: string): Promise<{ id: string; members: EtcdMember[] }> {
    const r = await this.post('/v3/cluster/member/add', { peerURLs: [peerUrl], isLearner: true });
    return {
      id: parseMember(r.member as Record<string, unknown>).id,
      members: ((r.members ?? []) as Record<string, unknown>[]).map(parseMember),
    };
  }

  async promote(id: string): Promise<void> {
    await this.post('/v3/cluster/member/promote', { ID: id });
  }

  async removeMember(id: string): Promise<void> {
    await this.post('/v3/cluster/member/remove', { ID: id });
  }

  /** Whether this member answers and the cluster has a leader. */
  async healthy(): Promise<boolean> {
    try {
      const r = await this.post('/v3/maintenance/status', {}, 2000);
      return num(r.leader) !== 0;
    } catch {
      return false;
    }
  }

  /**
   * Streams the changes under `prefix` from revision `fromRevision` on. The stream ends
   * (onEnd) when the connection does; the caller restarts it from the last revision seen.
   */
  watch(
    prefix: string,
    fromRevision: number,
    onEvents: (events: EtcdWatchEvent[], revision: number) => void,
    onEnd: (err?: Error) => void,
  ): () => void {
    const body = JSON.stringify({
      create_request: {
        key: b64(prefix),
        range_end: b64Bytes(prefixEnd(prefix)),
        start_revision: String(fromRevision),
      },
    });
    let ended = false;
    const end = (err?: Error) => {
      if (ended) return;
      ended = true;
      onEnd(err);
    };
    const req = http.request(
      {
        host: this.url.hostname,
        port: this.url.port,
        path: '/v3/watch',
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          // The gateway writes one JSON document per line.
          for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (!line) continue;
            let msg: Record<string, unknown>;
            try {
              msg = JSON.parse(line) as Record<string, unknown>;
            } catch {
              req.destroy(new EtcdError('etcd watch: unreadable event'));
              return;
            }
            const result = msg.result as Record<string, unknown> | undefined;
            if (!result) {
              req.destroy(new EtcdError(`etcd watch: ${JSON.stringify(msg.error ?? msg)}`));
              return;
            }
            if (result.canceled === true || result.compact_revision !== undefined) {
              req.destroy(
                new EtcdError(`etcd watch canceled: ${String(result.cancel_reason ?? 'compacted')}`),
              );
              return;
            }
            const events = ((result.events ?? []) as Record<string, unknown>[]).map((e) => ({
              type: e.type === 'DELETE' ? ('delete' as const) : ('put' as const),
              kv: parseKv(e.kv as Record<string, unknown>),
            }));
            const revision = num((result.header as Record<string, unknown> | undefined)?.revision);
            if (events.length) onEvents(events, revision);
          }
        });
        res.on('end', () => end());
        res.on('error', (err) => end(err));
        res.on('close', () => end());
      },
    );
    req.on('error', (err) => end(err));
    req.end(body);
    return () => {
      ended = true;
      req.destroy();
    };
  }
}
