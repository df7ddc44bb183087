/**
 * The translator types a brick graph may contain, by volfile `type`. Graph.build looks
 * translators up here; a volfile naming anything else is refused with the name. Kept apart
 * from the client registry so clients never load storage code (or its native addon).
 */
import type { OptionSchema, TranslatorRegistry, TranslatorType } from '../xlator/index.js';
import { accessControl } from './access-control/index.js';
import { arbiter } from './arbiter/index.js';
import { failedWrites } from './failed-writes/index.js';
import { healRanges } from './heal-ranges/index.js';
import { index } from './index/index.js';
import { ioStats } from './io-stats/index.js';
import { locks } from './locks/index.js';
import { stockPassthroughs } from './passthrough/index.js';
import { posix } from './posix/index.js';
import { rejoinGuard } from './rejoin-guard/index.js';

function registry(types: readonly TranslatorType<any>[]): TranslatorRegistry {
  return new Map(types.map((t) => [t.type, t as TranslatorType<OptionSchema>]));
}

/** Everything a brick graph may contain. */
export const BRICK_TRANSLATORS: TranslatorRegistry = registry([
  posix,
  accessControl,
  arbiter,
  locks,
  index,
  healRanges,
  rejoinGuard,
  failedWrites,
  ioStats,
  ...stockPassthroughs,
]);
