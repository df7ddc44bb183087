/**
 * debug/io-stats: the statistics point of a graph. Stock puts it just below
 * protocol/server on a brick (named after the brick path, which clients give as
 * remote-subvolume) and at the top of client graphs. Here it implements no fop: every
 * layer's runner already counts calls, errors and latency, so io-stats only reads those
 * of the layers below it (its own numbers equal its child's, since it adds nothing) and
 * renders them like `gluster volume profile`.
 *
 * It accepts stock's io-stats options so generated volfiles load; none changes what
 * passes through. Latency is always measured (the runner's two clock reads per call).
 */
import { defineTranslator, type Translator } from '../../xlator/translator.js';
import { layersBelow, profileOf, renderProfile, type LayerProfile } from './profile.js';

export { layersBelow, profileOf, renderProfile, type FopProfile, type LayerProfile } from './profile.js';

export interface IoStatsTranslator extends Translator {
  /** The statistics of every layer below, top-down. */
  profile(): LayerProfile[];
  /** The same as a `gluster volume profile`-like table. */
  report(): string;
  /** Starts counting afresh (`gluster volume profile ... info clear`). */
  clear(): void;
}

const flag = (description: string) => ({ type: 'bool', default: false, description }) as const;
const text = (def: string, description: string) => ({ type: 'string', default: def, description }) as const;
const num = (def: number, description: string) =>
  ({ type: 'int', default: def, min: 0, description }) as const;

const options = {
  'latency-measurement': flag('stock: measure latency; glusterts always does'),
  'count-fop-hits': flag('stock: count fops; glusterts always does'),
  'dump-fd-stats': flag('stock: per-fd statistics; accepted, not kept'),
  'log-level': text('INFO', 'stock: log level of the process; accepted'),
  'sys-log-level': text('CRITICAL', 'stock: syslog level; accepted'),
  'log-format': text('with-msg-id', 'stock: log format; accepted'),
  logger: text('gluster-log', 'stock: log destination; accepted'),
  'log-buf-size': num(5, 'stock: log suppression buffer; accepted'),
  'log-flush-timeout': num(120, 'stock: log flush timeout; accepted'),
  threads: num(16, 'stock: io-threads count when global-threading is on; accepted'),
  'global-threading': flag('stock: global thread pool; accepted (Node has one event loop)'),
  'volume-id': text('', 'stock: the volume UUID'),
  'unique-id': text('', 'stock: name in dumps (the brick path on bricks)'),
  'ios-dump-interval': num(0, 'stock: periodic JSON dumps; accepted, not done'),
  'ios-dump-format': text('json', 'stock: periodic dump format; accepted'),
  'ios-sample-interval': num(0, 'stock: fop sampling; accepted, not done'),
  'ios-sample-buf-size': num(65535, 'stock: sample buffer; accepted'),
  'ios-dnscache-ttl-sec': num(86400, 'stock: sample DNS cache; accepted'),
} as const;

export const ioStats = defineTranslator({
  type: 'debug/io-stats',
  options,
  children: 'one',
  create({ name, options: o, children }): IoStatsTranslator {
    const title = `${o['unique-id'] || name} (debug/io-stats)`;
    const profile = () => layersBelow(children).map(profileOf);
    return {
      fops: {},
      profile,
      report: () => renderProfile(title, profile()),
      clear: () => layersBelow(children).forEach((l) => l.stats.clear()),
    };
  },
});
