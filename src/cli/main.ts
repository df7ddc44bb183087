#!/usr/bin/env node
/** The `glusterts` command: parses arguments and dispatches to src/cli/commands. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { dump } from './commands/dump.js';
import { up } from './commands/up.js';

const USAGE = `usage: glusterts <command> [options]

commands:
  up      run the embedded default in the foreground (SIGINT/SIGTERM stop it)
            --data DIR      state directory            (default ./glusterts-data)
            --host ADDR     address to listen on       (default 127.0.0.1)
            --port N        management port            (default 24007; 0 = any free port)
            --volume NAME   the default volume's name  (default vms)
  dump    HOST[:PORT]     list the RPC programs a GlusterFS server (glusterd or brick) offers
  help    this text
  version the package version`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up': {
      const { values } = parseArgs({
        args: rest,
        options: {
          data: { type: 'string', default: 'glusterts-data' },
          host: { type: 'string', default: '127.0.0.1' },
          port: { type: 'string', default: '24007' },
          volume: { type: 'string', default: 'vms' },
        },
      });
      const port = Number(values.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new Error(`--port: not a port: ${values.port}`);
      await up({ data: values.data!, host: values.host!, port, volume: values.volume! });
      return 0;
    }
    case 'dump': {
      const { positionals } = parseArgs({ args: rest, allowPositionals: true });
      if (positionals.length !== 1) throw new Error('dump takes one HOST[:PORT]');
      await dump(positionals[0]!);
      return 0;
    }
    case 'version':
    case '--version':
      console.log(version());
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      console.error(`glusterts: unknown command ${command}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(`glusterts: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
