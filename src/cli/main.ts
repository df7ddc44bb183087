#!/usr/bin/env -S node --initial-old-space-size=64
/** The `glusterts` command: parses arguments and dispatches to src/cli/commands. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

// Each command's modules are imported when that command runs: a short command such as
// `volume start NAME force` (on the heal's critical path: it brings a brick back) loads
// about 30 modules instead of the ~180 of every command together (issue 10, heal time).
const DEFAULT_DATA = 'glusterts-data';

async function usage(): Promise<string> {
  const [{ BENCH_USAGE }, { HEAL_USAGE, SHD_USAGE }, { DEFAULT_NBD_PORT }, { VOLUME_USAGE }, { PEER_USAGE }] =
    await Promise.all([
      import('./commands/bench.js'),
      import('./commands/heal.js'),
      import('./commands/nbd.js'),
      import('./commands/volume.js'),
      import('./commands/peer.js'),
    ]);
  return `usage: glusterts <command> [options]

commands:
  up      run the embedded default in the foreground (SIGINT/SIGTERM stop it): the
          management daemon, volume NAME with one brick, started and ready for QEMU
            --data DIR      state directory            (default ./${DEFAULT_DATA})
            --host ADDR     address to listen on       (default 127.0.0.1)
            --port N        management port            (default 24007; 0 = any free port)
            --volume NAME   the default volume's name  (default vms)
            --nbd-port N    NBD export port            (default ${DEFAULT_NBD_PORT}; off = no NBD export)
  daemon  run the management daemon alone in the foreground
            --data DIR --host ADDR --port N as for up; --socket PATH also serves a unix socket
            a probed daemon runs an etcd member on ADDR:2379/2380 (docs/pool.md)
${VOLUME_USAGE}
${PEER_USAGE}
${HEAL_USAGE}
${SHD_USAGE}
  nbd     serve volume images over NBD (export names VOLUME/PATH) until SIGINT/SIGTERM
            --host ADDR --nbd-port N   where to listen    (default 127.0.0.1:${DEFAULT_NBD_PORT})
            --server HOST[:PORT]       volfile server     (default 127.0.0.1:24007)
            --tls-cert F --tls-key F [--tls-ca F] [--require-tls]   NBD STARTTLS (X.509)
            --trimmed                  connect volumes with the trimmed client stack
            --volume NAME              connect NAME at start-up (repeatable; others on first use)
  dump    HOST[:PORT]     list the RPC programs a GlusterFS server (glusterd or brick) offers
  cp      SRC DST         copy a file; either side a gluster://host[:port]/volume/path URL or a local path
  cat     URL             write a volume's file to stdout
  ls      [-l] URL        list a directory of a volume (-l: long format)
  stat    URL             a file's attributes and gfid
  rm      [-r] URL        remove a file (-r: a directory tree)
${BENCH_USAGE}
  help    this text
  version the package version`;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function parsePort(s: string): number {
  const port = Number(s);
  if (!/^\d+$/.test(s) || port > 65535) throw new Error(`--port: not a port: ${s}`);
  return port;
}

const serverOptions = {
  data: { type: 'string', default: DEFAULT_DATA },
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string', default: '24007' },
} as const;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up': {
      const [{ DEFAULT_NBD_PORT }, { up }] = await Promise.all([
        import('./commands/nbd.js'),
        import('./commands/up.js'),
      ]);
      const { values } = parseArgs({
        args: rest,
        options: {
          ...serverOptions,
          volume: { type: 'string', default: 'vms' },
          'nbd-port': { type: 'string', default: String(DEFAULT_NBD_PORT) },
        },
      });
      const port = parsePort(values.port);
      const nbdPort = values['nbd-port'] === 'off' ? -1 : parsePort(values['nbd-port']);
      await up({
        data: values.data,
        host: values.host,
        port,
        volume: values.volume,
        nbdPort,
        defaultData: DEFAULT_DATA,
      });
      return 0;
    }
    case 'nbd': {
      const [
        { DEFAULT_NBD_PORT, startNbdExport, tlsFromFiles },
        { untilSignal },
        { parseHostPort },
        { UsageError },
      ] = await Promise.all([
        import('./commands/nbd.js'),
        import('./commands/daemon.js'),
        import('./commands/dump.js'),
        import('./commands/volume.js'),
      ]);
      const { values } = parseArgs({
        args: rest,
        options: {
          host: { type: 'string', default: '127.0.0.1' },
          'nbd-port': { type: 'string', default: String(DEFAULT_NBD_PORT) },
          server: { type: 'string', default: '127.0.0.1:24007' },
          'tls-cert': { type: 'string' },
          'tls-key': { type: 'string' },
          'tls-ca': { type: 'string' },
          'require-tls': { type: 'boolean', default: false },
          trimmed: { type: 'boolean', default: false },
          volume: { type: 'string', multiple: true, default: [] },
        },
      });
      const volfileServer = parseHostPort(values.server);
      const tls = tlsFromFiles(values['tls-cert'], values['tls-key'], values['tls-ca']);
      if (values['require-tls'] && !tls) throw new UsageError('--require-tls needs --tls-cert and --tls-key');
      const stop = untilSignal();
      const nbd = await startNbdExport({
        host: values.host,
        port: parsePort(values['nbd-port']),
        volfileServer,
        ...(tls ? { tls } : {}),
        ...(values['require-tls'] ? { requireTls: true } : {}),
        ...(values.trimmed ? { trimmed: true } : {}),
        volumes: values.volume,
        log: (m) => console.error(`glusterts nbd: ${m}`),
      });
      console.log(
        `NBD export listening on ${nbd.address.host}:${nbd.address.port}, volumes from ${values.server}`,
      );
      console.log(`  e.g. qemu-img info nbd://${nbd.address.host}:${nbd.address.port}/VOLUME/PATH`);
      const signal = await stop;
      console.log(`${signal}: stopping`);
      await nbd.close();
      return 0;
    }
    case 'daemon': {
      const { daemon } = await import('./commands/daemon.js');
      const { values } = parseArgs({ args: rest, options: { ...serverOptions, socket: { type: 'string' } } });
      const port = parsePort(values.port);
      await daemon({
        data: values.data,
        host: values.host,
        port,
        ...(values.socket !== undefined ? { socketPath: values.socket } : {}),
      });
      return 0;
    }
    case 'volume': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          data: { type: 'string', default: DEFAULT_DATA },
          force: { type: 'boolean' },
          yes: { type: 'boolean' },
          mode: { type: 'string' },
          server: { type: 'string', default: '127.0.0.1:24007' },
        },
      });
      if (positionals[0] === 'heal') {
        const { heal } = await import('./commands/heal.js');
        return heal(values.data, positionals.slice(1), values.server);
      }
      const { UsageError, volume } = await import('./commands/volume.js');
      const args = values.force ? [...positionals, 'force'] : positionals;
      if (values.mode !== undefined && values.mode !== 'script')
        throw new UsageError(`--mode takes only "script" (got ${values.mode})`);
      try {
        return await volume(values.data, args, { yes: values.yes === true || values.mode === 'script' });
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        console.error(`glusterts: ${err.message}`);
        return 2;
      }
    }
    case 'peer':
    case 'pool': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          data: { type: 'string', default: DEFAULT_DATA },
          yes: { type: 'boolean' },
          mode: { type: 'string' },
        },
      });
      const [{ peer }, { UsageError }] = await Promise.all([
        import('./commands/peer.js'),
        import('./commands/volume.js'),
      ]);
      try {
        if (values.mode !== undefined && values.mode !== 'script')
          throw new UsageError(`--mode takes only "script" (got ${values.mode})`);
        return await peer(values.data, command, positionals, {
          yes: values.yes === true || values.mode === 'script',
        });
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        console.error(`glusterts: ${err.message}`);
        return 2;
      }
    }
    case 'shd': {
      const { values } = parseArgs({
        args: rest,
        options: {
          volume: { type: 'string' },
          server: { type: 'string', default: '127.0.0.1:24007' },
          progress: { type: 'string' },
          // What the management daemon's supervisor appends: its address is the volfile server.
          mgmt: { type: 'string' },
          volfile: { type: 'string' },
          'brick-name': { type: 'string' },
        },
      });
      if (!values.volume) throw new Error('shd needs --volume NAME');
      const { shd } = await import('./commands/heal.js');
      await shd({
        volume: values.volume,
        server: values.mgmt ?? values.server,
        ...(values.progress ? { progress: values.progress } : {}),
      });
      return 0;
    }
    case 'dump': {
      const { positionals } = parseArgs({ args: rest, allowPositionals: true });
      if (positionals.length !== 1) throw new Error('dump takes one HOST[:PORT]');
      const { dump } = await import('./commands/dump.js');
      await dump(positionals[0]!);
      return 0;
    }
    case 'cp':
      return (await import('./commands/cp.js')).cp(rest);
    case 'cat':
      return (await import('./commands/cat.js')).cat(rest);
    case 'ls':
      return (await import('./commands/ls.js')).ls(rest);
    case 'stat':
      return (await import('./commands/stat.js')).stat(rest);
    case 'rm':
      return (await import('./commands/rm.js')).rm(rest);
    case 'bench':
      return (await import('./commands/bench.js')).bench(rest);
    case 'version':
    case '--version':
      console.log(version());
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(await usage());
      return 0;
    default:
      console.error(`glusterts: unknown command ${command}\n\n${await usage()}`);
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
