// The client API suite over a local graph (no network): storage/posix under
// performance/io-threads and debug/io-stats, built from a volfile text with
// Volume.fromVolfile. It pins the API's behaviour independent of protocol/client.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Volume } from '../../src/client/index.js';
import type { OptionSchema, TranslatorType } from '../../src/xlator/index.js';
import { ioStats } from '../../src/xlators/io-stats/index.js';
import { stockPassthroughs } from '../../src/xlators/passthrough/index.js';
import { posix } from '../../src/xlators/posix/index.js';
import { clientSuite } from './suite.js';

const registry = new Map<string, TranslatorType<OptionSchema>>(
  [posix, ioStats, ...stockPassthroughs].map((t) => [t.type, t as TranslatorType<OptionSchema>]),
);

let dir = '';
const volfile = () => `
volume lv-posix
    type storage/posix
    option directory ${dir}
end-volume

volume lv-io-threads
    type performance/io-threads
    subvolumes lv-posix
end-volume

volume lv
    type debug/io-stats
    subvolumes lv-io-threads
end-volume
`;

clientSuite({
  name: 'local',
  async start() {
    dir = mkdtempSync(join('/var/tmp', 'glusterts-client-local-'));
  },
  async stop() {
    rmSync(dir, { recursive: true, force: true });
  },
  connect: (opts = {}) => Volume.fromVolfile(volfile(), { ...opts, registry, name: 'lv' }),
});
