/**
 * Driving real peers for tests and benchmarks: processes, stock GlusterFS, glusterts as a
 * child process, FUSE mounts, fio, QEMU's tools, and summaries of repeated samples.
 */
export * from './process.js';
export * from './detect.js';
export * from './portmap.js';
export * from './stock-gluster.js';
export * from './glusterts.js';
export * from './fuse.js';
export * from './fio.js';
export * from './qemu.js';
export * from './stats.js';
