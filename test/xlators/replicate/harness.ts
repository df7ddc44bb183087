/**
 * A replica set in one process: three storage/posix + features/locks bricks in temp dirs under
 * cluster/replicate, each behind a `test/switch` layer that can take its brick "down"
 * (every fop fails ENOTCONN, as protocol/client answers for a lost brick) and bring it back.
 * Tests then look at the brick directories directly, as an administrator would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Volume } from '../../../src/client/index.js';
import { Errno, FopError } from '../../../src/protocol/errno.js';
import { Fops, type FopName } from '../../../src/protocol/fops.js';
import { lgetxattr } from '../../../src/sys/index.js';
import {
  defineTranslator,
  type FopContext,
  type FopTable,
  type OptionSchema,
  type Session,
  type TranslatorType,
} from '../../../src/xlator/index.js';
import { ioStats } from '../../../src/xlators/io-stats/index.js';
import { locks } from '../../../src/xlators/locks/index.js';
import { posix } from '../../../src/xlators/posix/index.js';
import { decodeCounters, replicate, type Counters } from '../../../src/xlators/replicate/index.js';

/**
 * A brick's reachability, switched by the test. Going down is a disconnect: the brick forgets
 * the sessions' locks, as a real brick does when a client's connection drops.
 */
export class Switch {
  private current: 'up' | 'down' = 'up';
  onDown: (() => void) | undefined;
  get state(): 'up' | 'down' {
    return this.current;
  }
  set state(s: 'up' | 'down') {
    if (s === 'down' && this.current === 'up') this.onDown?.();
    this.current = s;
  }
}

const switches = new Map<string, Switch>();

const switchType = defineTranslator({
  type: 'test/switch',
  children: 'one',
  options: {},
  create({ name, children }) {
    const sw = switches.get(name) ?? new Switch();
    switches.set(name, sw);
    const sessions = new Set<Session>();
    sw.onDown = () => {
      for (const s of sessions) void children[0]!.translator.sessionEnded?.(s);
    };
    const fops: Record<string, unknown> = {};
    for (const fop of Object.keys(Fops) as FopName[]) {
      fops[fop] = (req: unknown, ctx: FopContext) => {
        if (sw.state === 'down') return Promise.reject(new FopError(Errno.ENOTCONN, `${name} is down`));
        sessions.add(ctx.session);
        return children[0]!.call(fop, req as never, ctx);
      };
    }
    return {
      fops: fops as FopTable,
      get state() {
        return sw.state;
      },
    };
  },
});

const registry = new Map<string, TranslatorType<OptionSchema>>(
  [posix, locks, ioStats, replicate, switchType].map((t) => [t.type, t as TranslatorType<OptionSchema>]),
);

export interface ReplicaFixture {
  volume: Volume;
  dirs: string[];
  switches: Switch[];
  /** The changelog key of each brick (trusted.afr.<name>). */
  keys: string[];
  /** A changelog xattr of `path` on brick i (zeros when absent). */
  changelog(i: number, path: string, key: string): Promise<Counters | undefined>;
  close(): Promise<void>;
}

export async function replicaFixture(
  opts: { bricks?: number; arbiter?: boolean; postOpDelaySecs?: number; quorum?: string } = {},
): Promise<ReplicaFixture> {
  const n = opts.bricks ?? 3;
  const dirs = Array.from({ length: n }, () => mkdtempSync(join('/var/tmp', 'glusterts-afr-')));
  const tag = Math.random().toString(36).slice(2, 8);
  const names = dirs.map((_, i) => `tv-client-${i}-${tag}`);
  const bricks = dirs
    .map(
      (d, i) => `
volume b${i}-posix
    type storage/posix
    option directory ${d}
end-volume

volume b${i}-locks
    type features/locks
    subvolumes b${i}-posix
end-volume

volume ${names[i]}
    type test/switch
    subvolumes b${i}-locks
end-volume
`,
    )
    .join('');
  const volfile = `${bricks}
volume tv-replicate-0
    type cluster/replicate
    option afr-pending-xattr ${names.join(',')}
    option quorum-type ${opts.quorum ?? 'auto'}
    option arbiter-count ${opts.arbiter ? 1 : 0}
    option post-op-delay-secs ${opts.postOpDelaySecs ?? 1}
    subvolumes ${names.join(' ')}
end-volume

volume tv
    type debug/io-stats
    subvolumes tv-replicate-0
end-volume
`;
  const volume = await Volume.fromVolfile(volfile, { registry, name: 'tv' });
  return {
    volume,
    dirs,
    switches: names.map((nm) => switches.get(nm)!),
    keys: names.map((nm) => `trusted.afr.${nm}`),
    async changelog(i, path, key) {
      const k = key === 'dirty' ? 'trusted.afr.dirty' : `trusted.afr.${names[Number(key)]}`;
      try {
        return decodeCounters(await lgetxattr(join(dirs[i]!, path), k));
      } catch {
        return undefined;
      }
    },
    async close() {
      await volume.close();
      for (const nm of names) switches.delete(nm);
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}
