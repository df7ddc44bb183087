export * from './message.js';
export * from './auth.js';
export * from './errors.js';
export * from './record.js';
export { writeRecord } from './send.js';
export * from './client.js';
export * from './connection.js';
export * from './server.js';
export * from './socket-reader.js';
