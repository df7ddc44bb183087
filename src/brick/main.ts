#!/usr/bin/env node
/** Entry point of a brick process; see process.ts for the contract with the daemon. */
// First: sizes the IO thread pool before anything can start it.
import './threadpool.js';
import { BRICK_TRANSLATORS } from '../xlators/brick-registry.js';
import { GraphError, OptionError } from '../xlator/index.js';
import { runBrickProcess } from './process.js';
import { CONFIG_ERROR_PREFIX, EXIT_CONFIG } from '../protocol/index.js';

runBrickProcess(process.argv.slice(2), BRICK_TRANSLATORS).then(
  () => process.exit(0),
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    // A volfile the brick will not run (an unknown or unenforceable option): restarting
    // cannot help, so the daemon reads this line and the exit status and stops trying.
    if (err instanceof GraphError || err instanceof OptionError) {
      console.error(`${CONFIG_ERROR_PREFIX}${message}`);
      process.exit(EXIT_CONFIG);
    }
    console.error(`glusterts brick: ${message}`);
    process.exit(1);
  },
);
