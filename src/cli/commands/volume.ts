/**
 * `glusterts volume …`: sends one request to the running daemon over its CLI socket
 * (DATA/cli.socket) and prints the answer the way the gluster CLI does.
 */
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Errno, GlusterTsError } from '../../errors/index.js';
// Direct modules, not the rpc/protocol indexes: `volume start` is on the heal's critical path.
import { encodeCredential, glusterV2 } from '../../rpc/auth.js';
import { RpcClient } from '../../rpc/client.js';
import { callProcedure } from '../../protocol/call.js';
import { CLI_PROGRAM_ID, CliProcs, type CliReply, type CliRequest } from '../../mgmt/cli-program.js';
import type { VolumeStatusReport } from '../../mgmt/manager.js';
import { VolumeStore } from '../../mgmt/store.js';
import { brickCountLabel, isArbiterBrick, volumeTypeName, type VolumeRecord } from '../../mgmt/volume.js';

export const VOLUME_USAGE = `  volume create NAME [replica COUNT [arbiter 1]] [HOST:]BRICKPATH... [force]
            --yes           (or --mode=script) no question for replica 2
  volume start NAME [force]
  volume stop NAME
  volume delete NAME
  volume info [NAME]
  volume status [NAME]
  volume set NAME KEY VALUE
  volume set NAME group GROUP   (virt, distributed-virt, gluster-block, db-workload, ...)
  volume get NAME KEY|all
  volume reset NAME [KEY|all]
            --data DIR      the daemon's state directory (default ./glusterts-data)`;

/** The command line is wrong: exit status 2 and the usage text. */
export class UsageError extends GlusterTsError {
  static readonly codes = ['CLI_USAGE'] as const;
  constructor(message: string) {
    super('CLI_USAGE', Errno.EINVAL, message);
  }
}

/** Sends a request to the daemon whose state directory is `data`. */
export async function cliRequest(data: string, req: CliRequest, timeoutMs = 60_000): Promise<CliReply> {
  const path = new VolumeStore(resolve(data)).cliSocketPath;
  let client: RpcClient;
  try {
    client = await RpcClient.connect({ path });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED')
      throw new Error(
        `no glusterts daemon is running on ${resolve(data)} (start one with 'glusterts up' or 'glusterts daemon')`,
      );
    throw err;
  }
  try {
    const reply = await callProcedure(
      client,
      CLI_PROGRAM_ID,
      CliProcs.REQUEST,
      { json: JSON.stringify(req) },
      { cred: encodeCredential(glusterV2(process.pid)), timeoutMs },
    );
    return JSON.parse(reply.json) as CliReply;
  } finally {
    client.close();
  }
}

const CREATE_USAGE = 'volume create NAME [replica COUNT [arbiter 1]] [HOST:]BRICKPATH... [force]';

/**
 * `[replica N [arbiter 1]] BRICK…` as the gluster CLI 10.3 reads it, with its messages.
 * `replica 2 arbiter 1` means two data bricks and an arbiter, so it becomes replica 3
 * arbiter 1, as glusterd stores it.
 */
function parseReplicaWords(words: readonly string[]): {
  layout: { replica?: number; arbiter?: number };
  bricks: string[];
} {
  const count = (w: string | undefined) => (w !== undefined && /^\d{1,4}$/.test(w) ? Number(w) : NaN);
  if (words[0] === 'arbiter') throw new UsageError('arbiter option must be preceded by replica option.');
  if (words[0] !== 'replica') return { layout: {}, bricks: [...words] };
  const replica = count(words[1]);
  if (!(replica > 1)) throw new UsageError('replica count should be greater than 1');
  if (words[2] !== 'arbiter') return { layout: { replica }, bricks: words.slice(2) };
  if (count(words[3]) !== 1 || (replica !== 2 && replica !== 3))
    throw new UsageError(
      'For arbiter configuration, replica count must be 2 and arbiter count must be 1. ' +
        'The 3rd brick of the replica will be the arbiter',
    );
  return { layout: { replica: 3, arbiter: 1 }, bricks: words.slice(4) };
}

/** The gluster CLI's question before a replica 2 volume (not asked with `force`). */
export const REPLICA_2_QUESTION =
  'Replica 2 volumes are prone to split-brain. Use Arbiter or Replica 3 to avoid this. ' +
  'See: http://docs.gluster.org/en/latest/Administrator-Guide/Split-brain-and-ways-to-deal-with-it/.\n' +
  'Do you still want to continue?\n (y/n) ';

/** Prints `question` and reads one line; only y or yes (any case) agrees. EOF is no. */
export async function confirm(question: string, input: NodeJS.ReadableStream): Promise<boolean> {
  process.stdout.write(question);
  const rl = createInterface({ input, terminal: false });
  try {
    for await (const line of rl) return /^y(es)?$/i.test(line.trim());
    return false;
  } finally {
    rl.close();
  }
}

export interface VolumeCommandOptions {
  /** Answer yes to the gluster CLI's questions (`--yes`, or stock's `--mode=script`). */
  yes?: boolean;
  /** Where answers are read from (default stdin). */
  input?: NodeJS.ReadableStream;
}

/** Parses `volume SUBCOMMAND ARGS` into a request. */
export function parseVolumeArgs(args: readonly string[]): CliRequest {
  const [sub, ...rest] = args;
  const force = rest.at(-1) === 'force' || rest.includes('--force');
  const plain = rest.filter((a) => a !== '--force');
  const need = (n: number, usage: string) => {
    if (plain.length !== n) throw new UsageError(`usage: glusterts volume ${usage}`);
  };
  switch (sub) {
    case 'create': {
      const words = plain.at(-1) === 'force' ? plain.slice(0, -1) : plain;
      const [name, ...after] = words;
      const { layout, bricks } = parseReplicaWords(after);
      if (name === undefined || bricks.length === 0) throw new UsageError(`usage: glusterts ${CREATE_USAGE}`);
      return { op: 'create', name, bricks, force, ...layout };
    }
    case 'start': {
      const words = plain.at(-1) === 'force' ? plain.slice(0, -1) : plain;
      if (words.length !== 1) throw new UsageError('usage: glusterts volume start NAME [force]');
      return { op: 'start', name: words[0]!, force };
    }
    case 'stop':
    case 'delete':
      need(1, `${sub} NAME`);
      return { op: sub, name: plain[0]! };
    case 'set':
      if (plain[1] === 'group' && plain.length !== 3)
        throw new UsageError('usage: glusterts volume set NAME group GROUP');
      need(3, 'set NAME KEY VALUE');
      return { op: 'set', name: plain[0]!, key: plain[1]!, value: plain[2]! };
    case 'get':
      need(2, 'get NAME KEY|all');
      return { op: 'get', name: plain[0]!, key: plain[1]! };
    case 'reset': {
      // As the gluster CLI: `reset NAME [KEY|all] [force]`; force changes nothing here.
      const words = plain.at(-1) === 'force' ? plain.slice(0, -1) : plain;
      if (words.length < 1 || words.length > 2)
        throw new UsageError('usage: glusterts volume reset NAME [KEY|all] [force]');
      return { op: 'reset', name: words[0]!, ...(words[1] === undefined ? {} : { key: words[1] }) };
    }
    case 'info':
    case 'status':
      if (plain.length > 1) throw new UsageError(`usage: glusterts volume ${sub} [NAME]`);
      return plain[0] === undefined || plain[0] === 'all' ? { op: sub } : { op: sub, name: plain[0] };
    default:
      throw new UsageError(`unknown volume command ${sub ?? '(none)'}\n${VOLUME_USAGE}`);
  }
}

/** Runs a volume command; returns the exit code. */
export async function volume(
  data: string,
  args: readonly string[],
  opts: VolumeCommandOptions = {},
): Promise<number> {
  const req = parseVolumeArgs(args);
  if (req.op === 'create' && req.replica === 2 && !req.force && !opts.yes) {
    // As the gluster CLI: anything but yes leaves nothing created, prints the usage, exits 1.
    if (!(await confirm(REPLICA_2_QUESTION, opts.input ?? process.stdin))) {
      console.error(`\nUsage:\nglusterts ${CREATE_USAGE}\n`);
      return 1;
    }
  }
  const reply = await cliRequest(data, req);
  const label = req.op === 'get' ? 'volume get option' : `volume ${req.op}`;
  // As the gluster CLI: "volume set: failed: …" but "volume create: NAME: failed: …".
  const unnamed = req.op === 'set' || req.op === 'get' || req.op === 'reset';
  const named = 'name' in req && req.name !== undefined && !unnamed ? `${label}: ${req.name}` : label;
  if (!reply.ok) {
    console.error(`${named}: failed: ${reply.error}`);
    return 1;
  }
  for (const w of reply.warnings ?? []) console.error(`${named}: warning: ${w}`);
  switch (req.op) {
    case 'create':
      console.log(`${named}: success: please start the volume to access data`);
      break;
    case 'start':
    case 'stop':
    case 'delete':
      console.log(`${named}: success`);
      break;
    case 'set':
      console.log(`${label}: success`);
      break;
    case 'reset':
      console.log(`${label}: success: reset volume successful`);
      break;
    case 'get':
      process.stdout.write(formatGet(reply.result as [string, string][]));
      break;
    case 'info':
      process.stdout.write(formatInfo(reply.result as VolumeRecord[]));
      break;
    case 'status':
      process.stdout.write(formatStatus(reply.result as VolumeStatusReport[], req.name !== undefined));
      return (reply.result as VolumeStatusReport[]).some((v) => v.status === 'started') ||
        req.name === undefined
        ? 0
        : 1;
  }
  return 0;
}

const STATUS_WORD = { created: 'Created', started: 'Started', stopped: 'Stopped' } as const;

/** `gluster volume info`'s layout. */
export function formatInfo(vols: readonly VolumeRecord[]): string {
  if (vols.length === 0) return 'No volumes present\n';
  return vols
    .map((v) => {
      const lines = [
        '',
        `Volume Name: ${v.name}`,
        `Type: ${volumeTypeName(v)}`,
        `Volume ID: ${v.id}`,
        `Status: ${STATUS_WORD[v.status]}`,
        'Snapshot Count: 0',
        `Number of Bricks: ${brickCountLabel(v)}`,
        'Transport-type: tcp',
        'Bricks:',
        ...v.bricks.map(
          (b, i) => `Brick${i + 1}: ${b.host}:${b.path}${isArbiterBrick(v, i) ? ' (arbiter)' : ''}`,
        ),
      ];
      const opts = Object.entries(v.options);
      if (opts.length) lines.push('Options Reconfigured:', ...opts.map(([k, val]) => `${k}: ${val}`));
      return lines.join('\n') + '\n';
    })
    .join('');
}

/** `gluster volume get`'s table: lines of 80 characters, the value from column 42. */
export function formatGet(rows: readonly (readonly [string, string])[]): string {
  const line = (a: string, b: string) => `${a.padEnd(40)} ${b.padEnd(39)}\n`;
  return line('Option', 'Value') + line('------', '-----') + rows.map(([k, v]) => line(k, v)).join('');
}

const RULE = '-'.repeat(78);

/** `gluster volume status`'s layout. */
export function formatStatus(vols: readonly VolumeStatusReport[], oneVolume: boolean): string {
  const started = vols.filter((v) => v.status === 'started');
  if (oneVolume && vols[0] && vols[0].status !== 'started') return `Volume ${vols[0].name} is not started\n`;
  if (started.length === 0) return 'No volumes present\n';
  return started
    .map((v) => {
      const rows = v.bricks.map((b) => {
        const label = `Brick ${b.brick}`;
        const columns =
          `${String(b.port ?? 'N/A').padEnd(10)}${'0'.padEnd(11)}` +
          `${(b.online ? 'Y' : 'N').padEnd(8)}${b.pid ?? 'N/A'}`;
        // Like the gluster CLI, a name too long for its column gets a line of its own.
        const row =
          label.length < 44 ? `${label.padEnd(44)}${columns}` : `${label}\n${' '.repeat(44)}${columns}`;
        // glusterts's own: why a brick that refused its configuration stays offline.
        return b.error === undefined ? row : `${row}\n  offline: ${b.error}`;
      });
      return [
        `Status of volume: ${v.name}`,
        `${'Gluster process'.padEnd(44)}${'TCP Port'.padEnd(10)}${'RDMA Port'.padEnd(11)}${'Online'.padEnd(8)}Pid`,
        RULE,
        ...rows,
        ' ',
        `Task Status of Volume ${v.name}`,
        RULE,
        'There are no active volume tasks',
        ' ',
      ].join('\n');
    })
    .join('\n')
    .concat('\n');
}
