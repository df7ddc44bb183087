/**
 * The translator types a client graph (src/client) may contain, by volfile `type`.
 * Graph.build refuses any other type by name.
 */
import type { OptionSchema, TranslatorRegistry, TranslatorType } from '../xlator/index.js';
import { client } from './client/index.js';
import { distribute } from './distribute/index.js';
import { replicate } from './replicate/index.js';
import { shard } from './shard/index.js';
import { ioStats } from './io-stats/index.js';
import { passthroughTypes, stockPassthroughs, type PassthroughSpec } from './passthrough/index.js';

function registry(types: readonly TranslatorType<any>[]): TranslatorRegistry {
  return new Map(types.map((t) => [t.type, t as TranslatorType<OptionSchema>]));
}

/**
 * Client-side caches and optimisations stock glusterd puts in client volfiles. Each only
 * delays, merges, prefetches or remembers what the layers below answer; without it every
 * fop goes through at once and every answer is the brick's own, so passing through is
 * semantically safe (only the optimisation is lost). Checked against the GlusterFS 10
 * sources (xlators/performance/..., xlators/features/utime). Anything else a client
 * volfile names that is not registered below (cluster/disperse, …) is
 * refused by Graph.build with its type.
 */
export const CLIENT_PASSTHROUGHS: readonly PassthroughSpec[] = [
  {
    type: 'performance/write-behind',
    why: 'acknowledges writes early and flushes them later (write-behind.c); without it each write is acknowledged by the brick, which is strictly safer',
  },
  {
    type: 'performance/read-ahead',
    why: 'prefetches pages on sequential reads (read-ahead.c); without it reads go to the brick as asked',
  },
  {
    type: 'performance/readdir-ahead',
    why: 'prefetches directory entries (readdir-ahead.c); without it READDIRP goes to the brick as asked',
  },
  {
    type: 'performance/io-cache',
    why: 'caches file pages (io-cache.c); without it reads come from the brick',
  },
  {
    type: 'performance/md-cache',
    why: 'caches stat and xattrs (md-cache.c); without it every attribute comes from the brick, fresh',
  },
  {
    type: 'performance/quick-read',
    why: 'caches small files fetched with LOOKUP (quick-read.c); without it they are read with READ',
  },
  {
    type: 'performance/open-behind',
    why: 'delays OPEN until the first fop that needs the fd (open-behind.c); without it OPEN is sent at once',
  },
  {
    type: 'performance/nl-cache',
    why: 'caches negative lookups (nl-cache.c); without it every LOOKUP reaches the brick',
  },
  {
    type: 'features/utime',
    why:
      'makes bricks store client-supplied ctime/mtime (utime.c, consistent times across replicas); ' +
      'without it the brick stamps times from its own clock, which a single-copy volume cannot tell apart ' +
      '(replicas may differ by a clock tick: docs/replication.md, "Times across replicas")',
  },
];

/** Everything a client graph (src/client) may contain. */
export const CLIENT_TRANSLATORS: TranslatorRegistry = registry([
  client,
  distribute,
  replicate,
  shard,
  ioStats,
  ...stockPassthroughs.filter((t) => t.type === 'performance/io-threads'),
  ...passthroughTypes(
    CLIENT_PASSTHROUGHS,
    'client pass-through: a cache or optimisation, see docs/client.md',
  ),
]);
