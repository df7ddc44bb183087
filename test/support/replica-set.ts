/**
 * A replica set in one process, for the replicate and heal tests: three storage/posix →
 * features/locks → features/index bricks in temp dirs (the index as stock's brick graph stacks
 * it), each behind a switch that takes it "down" (ENOTCONN, its sessions' locks dropped, as a
 * real brick does when a client's connection drops) and back, under cluster/replicate. Tests
 * look at the brick directories directly.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Volume } from '../../src/client/index.js';
import { HealIo, healContext, replicasOf } from '../../src/heal/index.js';
import { Errno, FopError } from '../../src/protocol/errno.js';
import { Fops, type FopName } from '../../src/protocol/fops.js';
import { lgetxattr } from '../../src/sys/index.js';
import {
  defineTranslator,
  type FopContext,
  type FopTable,
  type Layer,
  type OptionSchema,
  type Session,
  type TranslatorType,
} from '../../src/xlator/index.js';
import { healRanges } from '../../src/xlators/heal-ranges/index.js';
import { index } from '../../src/xlators/index/index.js';
import { ioStats } from '../../src/xlators/io-stats/index.js';
import { locks } from '../../src/xlators/locks/index.js';
import { posix } from '../../src/xlators/posix/index.js';
import { decodeCounters, replicate, type Counters, type Replica } from '../../src/xlators/replicate/index.js';

export class Switch {
  private current: 'up' | 'down' = 'up';
  onDown: (() => void) | undefined;
  /** Wraps each fop that reaches the brick while up (to delay it or edit its reply). */
  intercept: ((fop: FopName, req: unknown, next: () => Promise<unknown>) => Promise<unknown>) | undefined;
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
  type: 'test/heal-switch',
  children: 'one',
  options: {},
  create({ name, children }) {
    const sw = switches.get(name) ?? new Switch();
    switches.set(name, sw);
    const sessions = new Set<Session>();
    sw.onDown = () => {
      // A disconnect ends the session in every layer of the brick (locks sits below index).
      for (const s of sessions)
        for (let l: Layer | undefined = children[0]; l; l = l.children[0])
          void l.translator.sessionEnded?.(s);
    };
    const fops: Record<string, unknown> = {};
    for (const fop of Object.keys(Fops) as FopName[]) {
      fops[fop] = (req: unknown, ctx: FopContext) => {
        if (sw.state === 'down') return Promise.reject(new FopError(Errno.ENOTCONN, `${name} is down`));
        sessions.add(ctx.session);
        const next = () => children[0]!.call(fop, req as never, ctx);
        return sw.intercept ? sw.intercept(fop, req, next) : next();
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

export const registry = new Map<string, TranslatorType<OptionSchema>>(
  [posix, locks, healRanges, index, ioStats, replicate, switchType].map((t) => [
    t.type,
    t as TranslatorType<OptionSchema>,
  ]),
);

export interface HealFixture {
  volume: Volume;
  replica: Replica;
  io: HealIo;
  dirs: string[];
  switches: Switch[];
  /** The changelog key of each brick (trusted.afr.<name>). */
  keys: string[];
  /** A changelog xattr of `path` on brick i: 'dirty' or a brick index (zeros when absent). */
  changelog(i: number, path: string, key: 'dirty' | number): Promise<Counters>;
  /** Whether that xattr exists at all (stock never writes a pending key nobody charged). */
  hasChangelog(i: number, path: string, key: 'dirty' | number): Promise<boolean>;
  /** The gfid names in brick i's xattrop and dirty index folders. */
  indexed(i: number): string[];
  close(): Promise<void>;
}

export async function healFixture(
  /** healRanges: bricks carry features/heal-ranges below the index, as replicated volumes' data bricks do. */
  opts: {
    arbiter?: boolean;
    postOpDelaySecs?: number;
    healRanges?: boolean;
    readSubvolumeIndex?: number;
  } = {},
): Promise<HealFixture> {
  const dirs = [0, 1, 2].map(() => mkdtempSync(join('/var/tmp', 'glusterts-heal-')));
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

${
  opts.healRanges
    ? `
volume b${i}-ranges
    type features/heal-ranges
    option index-base ${d}/.glusterfs/indices
    option xattrop-pending-watchlist trusted.afr.tv-
    option xattrop-dirty-watchlist trusted.afr.dirty
    subvolumes b${i}-locks
end-volume
`
    : ''
}
volume b${i}-index
    type features/index
    option index-base ${d}/.glusterfs/indices
    option xattrop-pending-watchlist trusted.afr.tv-
    option xattrop-dirty-watchlist trusted.afr.dirty
    subvolumes b${i}-${opts.healRanges ? 'ranges' : 'locks'}
end-volume

volume ${names[i]}
    type test/heal-switch
    subvolumes b${i}-index
end-volume
`,
    )
    .join('');
  const volfile = `${bricks}
volume tv-replicate-0
    type cluster/replicate
    option afr-pending-xattr ${names.join(',')}
    option quorum-type auto
    option arbiter-count ${opts.arbiter ? 1 : 0}
    option post-op-delay-secs ${opts.postOpDelaySecs ?? 0}
    option read-subvolume-index ${opts.readSubvolumeIndex ?? -1}
    subvolumes ${names.join(' ')}
end-volume

volume tv
    type debug/io-stats
    subvolumes tv-replicate-0
end-volume
`;
  const volume = await Volume.fromVolfile(volfile, { registry, name: 'tv' });
  const replica = replicasOf(volume.graph)[0]!;
  return {
    volume,
    replica,
    io: new HealIo(replica, healContext()),
    dirs,
    switches: names.map((nm) => switches.get(nm)!),
    keys: names.map((nm) => `trusted.afr.${nm}`),
    async hasChangelog(i, path, key) {
      const k = key === 'dirty' ? 'trusted.afr.dirty' : `trusted.afr.${names[key]}`;
      return lgetxattr(join(dirs[i]!, path), k).then(
        () => true,
        () => false,
      );
    },
    async changelog(i, path, key) {
      const k = key === 'dirty' ? 'trusted.afr.dirty' : `trusted.afr.${names[key]}`;
      try {
        return decodeCounters(await lgetxattr(join(dirs[i]!, path), k));
      } catch {
        return [0, 0, 0];
      }
    },
    indexed(i) {
      const base = join(dirs[i]!, '.glusterfs', 'indices');
      const gfids = (kind: string) => {
        try {
          return readdirSync(join(base, kind)).filter((n) => !n.startsWith(`${kind}-`));
        } catch {
          return [];
        }
      };
      return [...gfids('xattrop'), ...gfids('dirty')];
    },
    async close() {
      try {
        await volume.close();
      } finally {
        for (const nm of names) switches.delete(nm);
        for (const d of dirs) rmSync(d, { recursive: true, force: true });
      }
    },
  };
}
