/** The NBD server (fixed newstyle, TLS, structured replies, base:allocation); see docs/nbd.md. */
export * from './backend.js';
export { NbdServer, DEFAULTS, type NbdServerOptions, type NbdTlsOptions } from './server.js';
export { transmissionFlags } from './handshake.js';
export * from './protocol.js';
export { FileBackend, FileProvider, type FileProviderOptions } from './backends/file.js';
export { GlusterBackend, GlusterProvider, type GlusterProviderOptions } from './backends/gluster.js';
