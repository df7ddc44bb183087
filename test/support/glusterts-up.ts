/** Test-side entry to the `glusterts up` runner, which lives in src/bench/glusterts-up.ts. */
export * from '../../src/bench/glusterts-up.js';
