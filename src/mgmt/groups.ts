/**
 * `volume set NAME group GROUP`: named sets of options applied together. The built-in groups
 * are the ones Debian's glusterfs-server 10.3 ships in /var/lib/glusterd/groups (same keys,
 * values and order; test/mgmt/groups.test.ts compares them with the installed files). As
 * glusterd reads `<working dir>/groups/<GROUP>`, a file `DATA/groups/<GROUP>` (key=value
 * lines) adds a group or replaces a built-in one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const BUILTIN_GROUPS: Readonly<Record<string, readonly (readonly [string, string])[]>> = {
  'db-workload': [
    ['performance.open-behind', 'on'],
    ['performance.write-behind', 'off'],
    ['performance.stat-prefetch', 'off'],
    ['performance.quick-read', 'off'],
    ['performance.strict-o-direct', 'on'],
    ['performance.read-ahead', 'off'],
    ['performance.io-cache', 'off'],
    ['performance.readdir-ahead', 'off'],
    ['performance.client-io-threads', 'on'],
    ['server.event-threads', '4'],
    ['client.event-threads', '4'],
    ['performance.read-after-open', 'yes'],
  ],
  'distributed-virt': [
    ['performance.quick-read', 'off'],
    ['performance.read-ahead', 'off'],
    ['performance.io-cache', 'off'],
    ['performance.low-prio-threads', '32'],
    ['network.remote-dio', 'enable'],
    ['features.shard', 'on'],
    ['user.cifs', 'off'],
    ['client.event-threads', '4'],
    ['server.event-threads', '4'],
    ['performance.client-io-threads', 'on'],
    ['cluster.lookup-optimize', 'off'],
  ],
  'gluster-block': [
    ['performance.quick-read', 'off'],
    ['performance.read-ahead', 'off'],
    ['performance.io-cache', 'off'],
    ['performance.stat-prefetch', 'off'],
    ['performance.open-behind', 'off'],
    ['performance.readdir-ahead', 'off'],
    ['performance.strict-o-direct', 'on'],
    ['performance.client-io-threads', 'on'],
    ['performance.io-thread-count', '32'],
    ['performance.high-prio-threads', '32'],
    ['performance.normal-prio-threads', '32'],
    ['performance.low-prio-threads', '32'],
    ['performance.least-prio-threads', '4'],
    ['client.event-threads', '8'],
    ['server.event-threads', '8'],
    ['network.remote-dio', 'disable'],
    ['cluster.eager-lock', 'enable'],
    ['cluster.quorum-type', 'auto'],
    ['cluster.data-self-heal-algorithm', 'full'],
    ['cluster.locking-scheme', 'granular'],
    ['cluster.shd-max-threads', '8'],
    ['cluster.shd-wait-qlength', '10000'],
    ['features.shard', 'on'],
    ['features.shard-block-size', '64MB'],
    ['user.cifs', 'off'],
    ['server.allow-insecure', 'on'],
    ['cluster.choose-local', 'off'],
    ['cluster.lookup-optimize', 'off'],
  ],
  'metadata-cache': [
    ['features.cache-invalidation', 'on'],
    ['features.cache-invalidation-timeout', '600'],
    ['performance.stat-prefetch', 'on'],
    ['performance.cache-invalidation', 'on'],
    ['performance.md-cache-timeout', '600'],
    ['network.inode-lru-limit', '200000'],
  ],
  'nl-cache': [
    ['features.cache-invalidation', 'on'],
    ['features.cache-invalidation-timeout', '600'],
    ['performance.nl-cache', 'on'],
    ['performance.nl-cache-timeout', '600'],
    ['network.inode-lru-limit', '200000'],
  ],
  samba: [
    ['features.cache-invalidation', 'on'],
    ['features.cache-invalidation-timeout', '600'],
    ['performance.cache-samba-metadata', 'on'],
    ['performance.stat-prefetch', 'on'],
    ['performance.cache-invalidation', 'on'],
    ['performance.md-cache-timeout', '600'],
    ['network.inode-lru-limit', '200000'],
    ['performance.nl-cache', 'on'],
    ['performance.nl-cache-timeout', '600'],
    ['performance.readdir-ahead', 'on'],
    ['performance.parallel-readdir', 'on'],
    ['performance.write-behind', 'off'],
  ],
  virt: [
    ['performance.quick-read', 'off'],
    ['performance.read-ahead', 'off'],
    ['performance.io-cache', 'off'],
    ['performance.low-prio-threads', '32'],
    ['network.remote-dio', 'disable'],
    ['performance.strict-o-direct', 'on'],
    ['cluster.eager-lock', 'enable'],
    ['cluster.quorum-type', 'auto'],
    ['cluster.server-quorum-type', 'server'],
    ['cluster.data-self-heal-algorithm', 'full'],
    ['cluster.locking-scheme', 'granular'],
    ['cluster.shd-max-threads', '8'],
    ['cluster.shd-wait-qlength', '10000'],
    ['features.shard', 'on'],
    ['user.cifs', 'off'],
    ['cluster.choose-local', 'off'],
    ['client.event-threads', '4'],
    ['server.event-threads', '4'],
    ['performance.client-io-threads', 'on'],
    ['network.ping-timeout', '20'],
    ['server.tcp-user-timeout', '20'],
    ['server.keepalive-time', '10'],
    ['server.keepalive-interval', '2'],
    ['server.keepalive-count', '5'],
    ['cluster.lookup-optimize', 'off'],
  ],
};

/** A group file's `key=value` lines (blank lines and `#` comments skipped). */
export function parseGroupFile(text: string): [string, string][] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const i = l.indexOf('=');
      return i > 0 ? [l.slice(0, i).trim(), l.slice(i + 1).trim()] : [l, ''];
    });
}

/** Group names are file names in one directory: no path separators, no leading dot. */
const GROUP_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/**
 * The options of group `name`: `groupsDir/<name>` when it exists, else the built-in group.
 * Throws with glusterd's text when there is neither.
 */
export function loadGroup(name: string, groupsDir: string): [string, string][] {
  const path = join(groupsDir, name);
  if (!GROUP_NAME.test(name)) throw new Error(`Unable to open file '${path}'. Error: Invalid argument`);
  try {
    return parseGroupFile(readFileSync(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const builtin = Object.hasOwn(BUILTIN_GROUPS, name) ? BUILTIN_GROUPS[name] : undefined;
  if (builtin) return builtin.map(([k, v]) => [k, v]);
  throw new Error(
    `Unable to open file '${path}'. Error: No such file or directory ` +
      `(built-in groups: ${Object.keys(BUILTIN_GROUPS).join(', ')})`,
  );
}
