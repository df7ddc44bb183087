export { XdrError, type XdrErrorCode } from './errors.js';
export { XdrReader } from './reader.js';
export { XdrWriter } from './writer.js';
export { type Codec, type Infer } from './codec.js';
export * as x from './codec.js';
