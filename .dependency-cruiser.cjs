// The layer order of docs/architecture.md, checked by dependency-cruiser (`npm run lint:deps`).
// Type-only imports count: a layer that names another layer's types depends on it.

// Bottom to top. A folder may import its own layer's files and every layer below it, never
// a layer above, and not its siblings in the same layer.
const LAYERS = [
  ['errors'], // error base classes: every layer may import them
  ['xdr'],
  ['rpc'],
  ['protocol'],
  ['xlator'],
  ['xlators'],
  ['brick', 'mgmt', 'client', 'heal'],
  ['nbd'],
  ['peers'], // drives real programs (stock GlusterFS, glusterts processes, FUSE, fio, QEMU)
  ['bench'],
  ['cli'],
];

// src/sys (the native syscall addon) is a leaf beside the layers. Only code that stores file
// data on a local disk imports it: storage/posix keeps bricks on disk, the brick process
// sets up its storage, and the NBD export's file backend serves a local image with O_DIRECT.
const SYS_USERS = ['xlators/posix', 'brick', 'nbd/backends'];

const alt = (folders) => `^src/(${folders.join('|')})/`;

const layerRules = LAYERS.flatMap((layer, i) => {
  const below = LAYERS.slice(0, i).flat();
  return layer.map((folder) => ({
    name: `layer-${folder}`,
    comment: `src/${folder} may import only ${below.length ? below.map((f) => `src/${f}`).join(', ') : 'itself'} (and src/sys where allowed)`,
    severity: 'error',
    from: { path: `^src/${folder}/` },
    to: { path: '^src/', pathNot: alt([folder, ...below, 'sys']) },
  }));
});

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'layer-unplaced',
      comment: 'every folder under src/ has a place in LAYERS (or is src/sys)',
      severity: 'error',
      from: { path: '^src/', pathNot: alt([...LAYERS.flat(), 'sys']) },
      to: { path: '^src/' },
    },
    {
      name: 'sys-is-a-leaf',
      comment: 'src/sys imports nothing from the project but the error base',
      severity: 'error',
      from: { path: '^src/sys/' },
      to: { path: '^src/', pathNot: alt(['sys', 'errors']) },
    },
    {
      name: 'sys-users',
      comment: `only ${SYS_USERS.map((f) => `src/${f}`).join(', ')} import src/sys`,
      severity: 'error',
      from: { path: '^src/', pathNot: alt(['sys', ...SYS_USERS]) },
      to: { path: '^src/sys/' },
    },
    {
      // Exception: features/index's watchlist options and non-zero rule (index/watchlist.ts),
      // which features/heal-ranges shares because it watches the same keys as the index.
      name: 'xlators-apart',
      comment:
        'a translator does not import another translator; the registries (src/xlators/*.ts) are the one place that names them all',
      severity: 'error',
      from: { path: '^src/xlators/([^/]+)/', pathNot: '^src/xlators/index/' },
      // Shared, translator-free modules: AFR's watched keys, a byte-range set, the end of an
      // AFR data lock.
      to: {
        path: '^src/xlators/',
        pathNot:
          '^src/xlators/($1/|index/watchlist[.]ts$|heal-ranges/range-set[.]ts$|rejoin-guard/afr-locks[.]ts$)',
      },
    },
    {
      // features/index keeps hard links to storage/posix's gfid handles on the same brick and
      // lists them as iatts: it shares posix's on-disk layout (handle paths, stat → iatt),
      // never its fops.
      name: 'xlators-apart-index',
      comment: 'features/index imports only storage/posix on-disk layout and iatt conversion',
      severity: 'error',
      from: { path: '^src/xlators/index/' },
      to: { path: '^src/xlators/', pathNot: '^src/xlators/(index/|posix/(on-disk|iatt)[.]ts$)' },
    },
    {
      name: 'src-not-tests',
      comment: 'shipped code never imports tests or the benchmark scripts',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      // Type-only edges are erased at compile time, so a handle that names its owner's type
      // (File -> Volume, an fd state -> the directory cursor) is not a load-order cycle.
      name: 'no-circular',
      comment: 'no module loads itself through others',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only', 'type-import'] } },
    },
    {
      name: 'no-unresolvable',
      comment: 'every relative import resolves to a file',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true, dependencyTypesNot: ['core'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|test/fixtures)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.json', '.node'] },
  },
};
