/** The libgfapi role: Volume (glfs_t), File (glfs_fd_t), Directory; see docs/client.md. */
export * from './errors.js';
export * from './volume.js';
export * from './file.js';
export * from './directory.js';
export * from './stats.js';
export * from './stack.js';
export * from './uri.js';
export { describeServer, type VolfileServer } from './mgmt.js';
