/**
 * `glusterts peer probe|detach|status` and `glusterts pool list`: requests to the daemon over
 * its CLI socket, printed the way the gluster CLI 10.3 prints them (docs/pool.md).
 */
import type { PeerState } from '../../mgmt/pool.js';
import { UsageError, cliRequest, confirm } from './volume.js';

export const PEER_USAGE = `  peer probe HOST[:PORT]     add a host's daemon to this daemon's pool (see docs/pool.md)
  peer detach HOST           remove a host without bricks from the pool
            --yes           (or --mode=script) no question
  peer status                the other hosts of the pool
  pool list                  every host of the pool, this one as localhost`;

/** The gluster CLI's question before a detach (not asked with --yes / --mode=script). */
export const DETACH_QUESTION =
  'All clients mounted through the peer which is getting detached need to be remounted using one of the ' +
  'other active peers in the trusted storage pool to ensure client gets notification on any changes done ' +
  'on the gluster configuration and if the same has been done do you want to proceed? (y/n) ';

const state = (p: PeerState) => (p.connected ? 'Connected' : 'Disconnected');

/** `gluster peer status`: the other hosts. */
export function formatPeerStatus(peers: readonly PeerState[]): string {
  const others = peers.filter((p) => !p.self);
  return (
    `Number of Peers: ${others.length}\n` +
    others
      .map((p) => `\nHostname: ${p.host}\nUuid: ${p.uuid}\nState: Peer in Cluster (${state(p)})\n`)
      .join('')
  );
}

/** `gluster pool list`: the other hosts, then this one as localhost. */
export function formatPoolList(peers: readonly PeerState[]): string {
  const rows = [...peers.filter((p) => !p.self), ...peers.filter((p) => p.self)].map(
    (p) => `${p.uuid}\t${p.self ? 'localhost' : p.host}\t${state(p)} \n`,
  );
  return 'UUID\t\t\t\t\tHostname \tState\n' + rows.join('');
}

export interface PeerCommandOptions {
  yes?: boolean;
  input?: NodeJS.ReadableStream;
}

/** `peer …` (group 'peer') or `pool list` (group 'pool'); returns the exit code. */
export async function peer(
  data: string,
  group: 'peer' | 'pool',
  args: readonly string[],
  opts: PeerCommandOptions = {},
): Promise<number> {
  const [sub, ...rest] = args;
  if (group === 'pool') {
    if (sub !== 'list' || rest.length) throw new UsageError('usage: glusterts pool list');
    const reply = await cliRequest(data, { op: 'peer-status' });
    if (!reply.ok) return failed('pool list', reply.error);
    process.stdout.write(formatPoolList(reply.result as PeerState[]));
    return 0;
  }
  switch (sub) {
    case 'probe':
    case 'detach': {
      if (rest.length !== 1)
        throw new UsageError(`usage: glusterts peer ${sub} HOST${sub === 'probe' ? '[:PORT]' : ''}`);
      if (sub === 'detach' && !opts.yes && !(await confirm(DETACH_QUESTION, opts.input ?? process.stdin)))
        return 1;
      const reply = await cliRequest(data, {
        op: sub === 'probe' ? 'peer-probe' : 'peer-detach',
        host: rest[0]!,
      });
      if (!reply.ok) return failed(`peer ${sub}`, reply.error);
      console.log(`peer ${sub}: ${String(reply.result)}`);
      return 0;
    }
    case 'status': {
      if (rest.length) throw new UsageError('usage: glusterts peer status');
      const reply = await cliRequest(data, { op: 'peer-status' });
      if (!reply.ok) return failed('peer status', reply.error);
      process.stdout.write(formatPeerStatus(reply.result as PeerState[]));
      return 0;
    }
    default:
      throw new UsageError(`unknown peer command ${sub ?? '(none)'}\n${PEER_USAGE}`);
  }
}

function failed(label: string, error: string): number {
  console.error(`${label}: failed: ${error}`);
  return 1;
}
