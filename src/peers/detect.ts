/**
 * Which peers (stock GlusterFS, QEMU tools, fio, libnbd, …) are installed, and which Debian
 * package provides a missing one. Tests turn a missing peer into a skip (or, under CI=true,
 * a failure) with requirePeer; `glusterts bench` leaves out the rows that need it.
 */
import { existsSync } from 'node:fs';
import { which } from './process.js';

/** Program (or pseudo-program) → the Debian 12 package that provides it. */
export const PEER_PACKAGES: Readonly<Record<string, string>> = Object.freeze({
  glusterd: 'glusterfs-server',
  glusterfsd: 'glusterfs-server',
  gluster: 'glusterfs-cli',
  glusterfs: 'glusterfs-client',
  'mount.glusterfs': 'glusterfs-client',
  'stock-gluster': 'glusterfs-server glusterfs-client',
  'qemu-img': 'qemu-utils',
  'qemu-io': 'qemu-utils',
  'qemu-nbd': 'qemu-utils',
  'qemu-storage-daemon': 'qemu-utils',
  'qemu-gluster': 'qemu-block-extra',
  'qemu-system-x86_64': 'qemu-system-x86',
  fio: 'fio',
  nbdinfo: 'libnbd-bin',
  nbdcopy: 'libnbd-bin',
  nbdfuse: 'libnbd-bin',
  nbdkit: 'nbdkit',
  tshark: 'tshark',
  dumpcap: 'tshark',
  setfattr: 'attr',
  getfattr: 'attr',
  unshare: 'util-linux',
  nsenter: 'util-linux',
  fallocate: 'util-linux',
  stdbuf: 'coreutils',
  etcd: 'etcd-server',
  etcdctl: 'etcd-client',
  ip: 'iproute2',
  netns: 'iproute2',
});

const QEMU_GLUSTER_MODULES = [
  '/usr/lib/x86_64-linux-gnu/qemu/block-gluster.so',
  '/usr/lib/aarch64-linux-gnu/qemu/block-gluster.so',
];

/**
 * What is missing for a peer: '' when present, else a reason naming the Debian package.
 * `name` is a program (`qemu-img`, `fio`, …) or one of the pseudo-names `stock-gluster`
 * (glusterd, glusterfsd, CLI, FUSE client, root), `qemu-gluster` (qemu-img plus QEMU's
 * gluster block driver) and `netns` (`ip netns` as root: test/support/netns-hosts.ts).
 */
export function peerMissing(name: string): string {
  if (name === 'stock-gluster') {
    for (const p of ['glusterd', 'glusterfsd', 'gluster', 'glusterfs', 'unshare', 'nsenter']) {
      const m = peerMissing(p);
      if (m) return m;
    }
    if (process.getuid?.() !== 0)
      return 'stock GlusterFS needs root (mount namespace, bricks with trusted.* xattrs)';
    return '';
  }
  if (name === 'netns') {
    if (!which('ip')) return 'ip not found (install Debian package iproute2)';
    if (process.getuid?.() !== 0) return 'network namespaces (hosts of a pool) need root';
    return '';
  }
  if (name === 'qemu-gluster') {
    if (!which('qemu-img')) return `qemu-img not found (install Debian package qemu-utils)`;
    if (!QEMU_GLUSTER_MODULES.some((p) => existsSync(p)))
      return 'QEMU gluster block driver (block-gluster.so) not found (install Debian package qemu-block-extra)';
    return '';
  }
  if (which(name)) return '';
  const pkg = PEER_PACKAGES[name];
  return `${name} not found${pkg ? ` (install Debian package ${pkg})` : ''}`;
}

/** True when the stock GlusterFS server and client binaries are installed and we are root. */
export function haveStockGluster(): boolean {
  return peerMissing('stock-gluster') === '';
}

/** The part of node:test's TestContext that requirePeer uses. */
export interface SkippableContext {
  skip(message?: string): void;
}

/**
 * Checks that peers are available (names as for peerMissing).
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
