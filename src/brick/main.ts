#!/usr/bin/env node
/** Entry point of a brick process; see process.ts for the contract with the daemon. */
// First: sizes the IO thread pool before anything can start it.
import './threadpool.js';
import { BRICK_TRANSLATORS } from '../xlators/brick-registry.js';
import { runBrickProcess } from './process.js';

runBrickProcess(process.argv.slice(2), BRICK_TRANSLATORS).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`glusterts brick: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
