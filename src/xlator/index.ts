export * from './options.js';
export * from './volfile.js';
export * from './fd.js';
export * from './translator.js';
export * from './layer.js';
export * from './graph.js';
export * from './fanout.js';
export * from './wire.js';
