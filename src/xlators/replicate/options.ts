/**
 * cluster/replicate's options: the ones glusterts acts on, and the rest of what stock glusterd
 * 10.3 writes or `volume set` can put in a client volfile, accepted so stock volfiles load.
 */
const ignored = (description: string) =>
  ({ type: 'string', default: '', description: `accepted, ignored: ${description}` }) as const;
const bool = (value: boolean, description: string) =>
  ({ type: 'bool', default: value, description }) as const;

export const replicateOptions = {
  'afr-pending-xattr': {
    type: 'string',
    default: '',
    description:
      'comma-separated names whose trusted.afr.<name> keys hold the changelog, one per child in order ' +
      '(glusterd writes <vol>-client-<global brick index>); default: the children’s names',
  },
  'quorum-type': {
    type: 'enum',
    default: '',
    values: ['', 'none', 'auto', 'fixed'],
    description:
      'client quorum: auto = more than half the bricks (or half including the first); unset means auto for 3 or more bricks, none below (as stock AFR)',
  },
  'quorum-count': {
    type: 'int',
    default: 0,
    min: 0,
    max: 64,
    description: 'bricks needed with quorum-type fixed',
  },
  'arbiter-count': {
    type: 'int',
    default: 0,
    min: 0,
    max: 1,
    description: '1: the last child is an arbiter (names, metadata and changelogs only; never a data source)',
  },
  'eager-lock': bool(true, 'keep the data lock and pre-op across consecutive writes on an inode'),
  'post-op-delay-secs': {
    type: 'int',
    default: 1,
    min: 0,
    max: 60,
    description: 'how long an idle eager lock is kept before the post-op and unlock',
  },
  'read-hash-mode': {
    type: 'int',
    default: 1,
    min: 0,
    max: 5,
    description: '0 = first readable brick, 1 = by gfid hash (default); 2..5 are treated as 1',
  },
  'read-subvolume': { type: 'string', default: '', description: 'the child to prefer for reads, by name' },
  'read-subvolume-index': {
    type: 'int',
    default: -1,
    min: -1,
    max: 64,
    description: 'the child to prefer for reads, by index (-1: none)',
  },
  'favorite-child-policy': {
    type: 'enum',
    default: 'none',
    values: ['none', 'size', 'ctime', 'mtime', 'majority'],
    description: 'how heal resolves a split-brain on its own (none: an administrator decides)',
  },
  'granular-entry-heal': bool(true, 'record each created/deleted name for entry heal'),
  'choose-local': bool(true, 'prefer a brick on this host for reads'),
  'self-heal-daemon': bool(true, 'the self-heal daemon heals this volume'),
  'iam-self-heal-daemon': bool(false, 'this graph is the self-heal daemon'),
  'data-self-heal-algorithm': ignored('glusterts heals the ranges it recorded, or compares checksums'),
  'data-self-heal': ignored('client-side heal is off in 10.x; the daemon heals'),
  'metadata-self-heal': ignored('client-side heal is off in 10.x; the daemon heals'),
  'entry-self-heal': ignored('client-side heal is off in 10.x; the daemon heals'),
  'background-self-heal-count': ignored('client-side heal'),
  'heal-wait-queue-length': ignored('client-side heal'),
  'self-heal-window-size': ignored('heal block count'),
  'data-change-log': ignored('always on'),
  'metadata-change-log': ignored('always on'),
  'entry-change-log': ignored('always on'),
  'optimistic-change-log': ignored('always on'),
  'pre-op-compat': ignored('always on: the pre-op is a separate XATTROP'),
  'ensure-durability': ignored('writes are acknowledged only after a quorum of bricks acknowledged them'),
  'full-lock': ignored('data locks always cover the whole file'),
  'use-compound-fops': ignored('removed in 10.x'),
  'use-anonymous-inode': ignored('heal of renames'),
  'consistent-metadata': ignored('metadata from the read child'),
  'consistent-io': ignored('quorum decides'),
  'halo-enabled': ignored('halo replication'),
  'halo-max-latency': ignored('halo replication'),
  'halo-max-replicas': ignored('halo replication'),
  'halo-min-replicas': ignored('halo replication'),
  'halo-nfsd-max-latency': ignored('halo replication'),
  'halo-shd-max-latency': ignored('halo replication'),
  'heal-timeout': {
    type: 'int',
    default: 600,
    min: 5,
    max: 86400,
    description: 'self-heal daemon crawl interval, seconds',
  },
  'shd-max-threads': ignored('self-heal daemon parallelism'),
  'shd-wait-qlength': ignored('self-heal daemon queue'),
  'locking-scheme': ignored('granular locking'),
  'thin-arbiter': ignored('thin arbiter is not supported'),
  'quorum-reads': ignored('removed in 10.x'),
  'node-uuid': ignored('self-heal daemon locality'),
  'afr-dirty-xattr': { type: 'string', default: 'trusted.afr.dirty', description: 'the dirty changelog key' },
  'metadata-splitbrain-forced-heal': ignored('split-brain heal'),
  'split-brain-choice': ignored('split-brain inspection'),
  'subvolume-index-heal': ignored('self-heal daemon'),
} as const;
