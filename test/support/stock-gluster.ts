/**
 * Test-side entry to the private stock GlusterFS runner, which lives in
 * src/bench/stock-gluster.ts (so `glusterts bench` can use it too). Adds requirePeer,
 * which turns a missing peer into a skipped test (or a failure under CI).
 */
import { peerMissing } from '../../src/bench/stock-gluster.js';

export * from '../../src/bench/stock-gluster.js';

/** The subset of node:test's TestContext that requirePeer uses. */
export interface SkippableContext {
  skip(message?: string): void;
}

/**
 * Checks that a peer program is available. `name` is a program (`qemu-img`, `fio`, …) or one
 * of the pseudo-names `stock-gluster` (glusterd, glusterfsd, CLI, FUSE client, root) and
 * `qemu-gluster` (qemu-img plus QEMU's gluster block driver).
 * - Present: returns true.
 * - Missing and CI=true: throws, so the test FAILS (CI must have every peer).
 * - Missing otherwise: skips the test with a message naming the Debian package; returns false.
 * Usage: `if (!requirePeer('fio', t)) return;`
 */
export function requirePeer(name: string | string[], t: SkippableContext): boolean {
  for (const n of Array.isArray(name) ? name : [name]) {
    const why = peerMissing(n);
    if (!why) continue;
    if (process.env.CI === 'true') throw new Error(`peer missing under CI: ${why}`);
    t.skip(`peer missing: ${why}`);
    return false;
  }
  return true;
}
