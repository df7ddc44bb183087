/**
 * The daemon-to-daemon program of a glusterts pool, served on the daemon's TCP port next to
 * glusterd's programs. Like the CLI's program it carries JSON text:
 *
 *     HELLO   who are you: uuid, address, whether it has volumes or is in a pool (probe)
 *     JOIN    start an etcd member that joins the pool's cluster (initial-cluster given)
 *     ATTACH  the member is a voting member now: take the pool's state as this host's
 *     LEAVE   this host was detached: stop the member, go back to a single-host state
 *
 * A stock glusterd does not offer it (PROG_UNAVAIL), which is how a probe tells the two apart.
 */
import { x } from '../xdr/index.js';

/** In the ONC "defined by the user" range, next to the CLI's program. */
export const PEER_PROGRAM_ID = { prog: 0x2047_5450, vers: 1 } as const;

const MAX_JSON = 64 * 1024;

export const PeerProcs = {
  NULL: { proc: 0, args: x.none, results: x.none },
  HELLO: {
    proc: 1,
    args: x.struct({ json: x.string(MAX_JSON) }),
    results: x.struct({ json: x.string(MAX_JSON) }),
  },
  JOIN: {
    proc: 2,
    args: x.struct({ json: x.string(MAX_JSON) }),
    results: x.struct({ json: x.string(MAX_JSON) }),
  },
  ATTACH: {
    proc: 3,
    args: x.struct({ json: x.string(MAX_JSON) }),
    results: x.struct({ json: x.string(MAX_JSON) }),
  },
  LEAVE: {
    proc: 4,
    args: x.struct({ json: x.string(MAX_JSON) }),
    results: x.struct({ json: x.string(MAX_JSON) }),
  },
} as const;

/** HELLO's answer. */
export interface PeerHello {
  uuid: string;
  host: string;
  port: number;
  volumes: number;
  pooled: boolean;
}

export type PeerReply<T = unknown> = { ok: true; result: T } | { ok: false; error: string };

/** Checks HELLO's answer: a peer that answers garbage is no peer. */
export function parseHello(text: string): PeerHello {
  const v = JSON.parse(text) as PeerReply<Record<string, unknown>>;
  if (!v || typeof v !== 'object' || v.ok !== true) throw new Error('not a HELLO answer');
  const r = v.result;
  if (
    typeof r?.uuid !== 'string' ||
    !/^[0-9a-f-]{36}$/.test(r.uuid) ||
    typeof r.host !== 'string' ||
    !Number.isInteger(r.port) ||
    !Number.isInteger(r.volumes) ||
    typeof r.pooled !== 'boolean'
  )
    throw new Error('malformed HELLO answer');
  return {
    uuid: r.uuid,
    host: r.host,
    port: r.port as number,
    volumes: r.volumes as number,
    pooled: r.pooled,
  };
}
