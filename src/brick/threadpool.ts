/**
 * Brick IO runs on libuv's thread pool, 4 threads by default: too few for a brick, where
 * every READ/WRITE is a blocking pread/pwrite (O_DIRECT ones wait for the device) and
 * QEMU keeps many in flight. Stock bricks run 16 io-threads; so do we, unless the user
 * set UV_THREADPOOL_SIZE. libuv reads it when the pool first starts, so this module is
 * imported before anything else in the brick process.
 */
export const BRICK_IO_THREADS = 16;

process.env.UV_THREADPOOL_SIZE ??= String(BRICK_IO_THREADS);
