/**
 * V8 flags for glusterts' long-running data-path processes (bricks, the self-heal daemon,
 * the NBD export, the client benchmark load). V8 starts an incremental mark-compact as soon as the old generation's
 * headroom is smaller than the young generation's target size; with Node's defaults a small
 * heap (~8 MB old) has ~12 MB headroom against a 16 MB young generation, so a process that
 * allocates one buffer per IO ran a full mark-compact every 200–700 ms, each stopping the
 * event loop for 10–65 ms on the shared 2-core machine (`--trace-gc`, seq reads through the
 * NBD export: ~13 mark-compacts in 10 s; with this flag none). A larger initial old
 * generation only moves the first limit: memory is committed as it is used. These flags
 * cannot be set once the heap exists (v8.setFlagsFromString has no effect on the limits),
 * so they go on the command line: the daemon's brick and shd launchers (src/mgmt), src/peers and
 * src/bench pass them, and the `glusterts` bin's shebang carries the same flag.
 */
export const DATA_PATH_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=64'];
