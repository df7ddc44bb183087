/**
 * `glusterts volume heal NAME …` and `glusterts shd`. Like stock's glfsheal, the heal commands
 * are a client of the volume: they load its client graph and ask each brick's index directly,
 * printing what the gluster CLI 10.3 prints. `glusterts shd` is the self-heal daemon process
 * the management daemon runs for each replicated volume.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Volume } from '../../client/index.js';
import { MgmtConnection } from '../../client/mgmt.js';
import {
  favoriteChildPolicy,
  healContext,
  HealIo,
  healInode,
  indexHealPass,
  listIndex,
  replicasOf,
  SelfHealDaemon,
  needsHeal,
  views,
  type SplitBrainPolicy,
} from '../../heal/index.js';
import { gfidToString, parseGfid, ROOT_GFID } from '../../protocol/gfid.js';
import { parseVolfile } from '../../xlator/volfile.js';
import { findDirection, TxnType, type Replica } from '../../xlators/replicate/index.js';
import { untilSignal } from './daemon.js';
import { parseHostPort } from './dump.js';

export const HEAL_USAGE = `  volume heal NAME [info | info summary | info split-brain | statistics heal-count |
              split-brain bigger-file FILE | split-brain latest-mtime FILE |
              split-brain source-brick HOST:BRICK [FILE]]
            --server HOST[:PORT]  volfile server (default 127.0.0.1:24007)`;

interface BrickRef {
  replica: Replica;
  child: number;
  label: string;
}

/** `Brick HOST:PATH` of every brick, in volume order, from the client volfile's protocol/client options. */
function bricksOf(volume: Volume): BrickRef[] {
  const decls = new Map(parseVolfile(volume.volfile).volumes.map((d) => [d.name, d]));
  return replicasOf(volume.graph).flatMap((replica) =>
    replica.cfg.children.map((layer, child) => {
      const d = decls.get(layer.name);
      const host = d?.options.get('remote-host') ?? '?';
      const path = d?.options.get('remote-subvolume') ?? layer.name;
      return { replica, child, label: `${host}:${path}` };
    }),
  );
}

/** Where the shd of a volume keeps its progress for `heal info summary`. */
export function progressFile(data: string, volume: string): string {
  return `${data}/shd/${volume}.progress.json`;
}

async function withVolume<T>(name: string, server: string, body: (v: Volume) => Promise<T>): Promise<T> {
  const { host, port } = parseHostPort(server);
  const volume = await Volume.connect({ volume: name, servers: [{ host, port }] });
  try {
    return await body(volume);
  } finally {
    await volume.close();
  }
}

interface Entry {
  name: string;
  splitBrain: boolean;
}

/** The entries brick `b` has indexed that still need a heal, with their paths when known. */
async function entriesOf(b: BrickRef): Promise<Entry[]> {
  const io = new HealIo(b.replica, healContext());
  const seen = new Map<string, Buffer>();
  for (const kind of ['xattrop', 'dirty'] as const)
    for (const e of await listIndex(io, b.child, kind)) seen.set(gfidToString(e.gfid), e.gfid);
  const out: Entry[] = [];
  for (const [key, gfid] of seen) {
    if (gfid.equals(ROOT_GFID)) {
      out.push({ name: '/', splitBrain: false });
      continue;
    }
    const states = await io.inspect(gfid);
    const present = states.filter((s) => s.ok);
    if (!present.length) continue;
    const missing = present.length < states.length;
    const types = [TxnType.DATA, TxnType.METADATA, TxnType.ENTRY] as const;
    if (!missing && !types.some((t) => needsHeal(t, states))) continue;
    const bv = views(
      b.replica,
      states,
      states.map((s) => s.ok),
    );
    const splitBrain = types.some((t) => {
      if (!needsHeal(t, states) || bv.some((v) => !v.answered)) return false;
      const d = findDirection(t, bv, Math.floor(b.replica.n / 2) + 1);
      return d !== 'ENOTCONN' && d.splitBrain;
    });
    const path = await io.getxattr(b.child, gfid, 'glusterfs.gfid2path').catch(() => undefined);
    const name = path?.length ? path.toString('utf8').replace(/\0+$/, '') : `<gfid:${key}>`;
    out.push({ name, splitBrain });
  }
  return out;
}

function progressLine(data: string, name: string): string {
  const file = progressFile(data, name);
  if (!existsSync(file)) return '';
  try {
    const p = JSON.parse(readFileSync(file, 'utf8')) as {
      files: { done: number; total: number; etaSeconds: number | null }[];
      bytesPerSecond: number;
    };
    const done = p.files.reduce((s, f) => s + f.done, 0);
    const left = p.files.reduce((s, f) => s + f.total - f.done, 0);
    const eta = p.bytesPerSecond > 0 ? `${Math.ceil(left / p.bytesPerSecond)} s` : 'unknown';
    return `Heal progress: ${p.files.length} file(s) healing, ${done} bytes done, ${left} bytes left, ETA ${eta}\n`;
  } catch {
    return '';
  }
}

/** Resolves FILE (a path, or gfid:UUID) to a gfid by LOOKUPs on one brick (split-brain files fail lookups above). */
async function resolveFile(io: HealIo, file: string): Promise<Buffer> {
  if (file.startsWith('gfid:')) return parseGfid(file.slice(5));
  let gfid = ROOT_GFID;
  for (const part of file.split('/').filter(Boolean)) {
    let found: Buffer | undefined;
    for (const i of io.r.upChildren()) {
      const st = await io.lookupName(i, gfid, part).catch(() => undefined);
      if (st) {
        found = st.gfid;
        break;
      }
    }
    if (!found) throw new Error(`${file}: No such file or directory`);
    gfid = found;
  }
  return gfid;
}

async function splitBrain(volume: Volume, words: string[]): Promise<number> {
  const [how, ...rest] = words;
  const bricks = bricksOf(volume);
  let policy: SplitBrainPolicy;
  let files: string[];
  let replicas = replicasOf(volume.graph);
  if (how === 'bigger-file' || how === 'latest-mtime') {
    if (rest.length !== 1) throw new Error(`usage: volume heal NAME split-brain ${how} FILE`);
    policy = { kind: how };
    files = rest;
  } else if (how === 'source-brick') {
    const b = bricks.find((x) => x.label === rest[0]);
    if (!b) throw new Error(`${rest[0] ?? '(none)'}: not a brick of this volume`);
    policy = { kind: 'source-brick', brick: b.child };
    replicas = [b.replica];
    files = rest.slice(1);
    if (!files.length) {
      // Every split-brain entry the brick's set has indexed.
      const all = new Set<string>();
      for (const x of bricks.filter((y) => y.replica === b.replica))
        for (const e of await entriesOf(x).catch(() => [])) if (e.splitBrain) all.add(e.name);
      files = [...all];
    }
  } else
    throw new Error(
      'usage: volume heal NAME split-brain bigger-file|latest-mtime FILE | source-brick HOST:BRICK [FILE]',
    );
  let failed = 0;
  for (const file of files) {
    let healedHere = false;
    let why = 'File not in split-brain.';
    for (const r of replicas) {
      const io = new HealIo(r, healContext());
      const gfid = await resolveFile(io, file).catch(() => undefined);
      if (!gfid) continue;
      const h = await healInode(io, gfid, { policy });
      const bad = h.outcomes.find((o) => o.result === 'failed' || o.result === 'split-brain');
      if (bad) why = bad.reason ?? why;
      else if (h.outcomes.some((o) => o.result === 'healed')) healedHere = true;
    }
    if (healedHere) console.log(`Healed ${file}.`);
    else {
      console.log(`Healing ${file} failed: ${why}`);
      failed++;
    }
  }
  if (failed) console.log('Volume heal failed.');
  return failed ? 1 : 0;
}

/** `volume heal NAME …`; returns the exit status. */
export async function heal(
  data: string,
  args: readonly string[],
  server = '127.0.0.1:24007',
): Promise<number> {
  const [name, ...words] = args;
  if (!name) throw new Error(`usage:\n${HEAL_USAGE}`);
  const what = words.join(' ');
  return withVolume(name, server, async (volume) => {
    const bricks = bricksOf(volume);
    if (what === '') {
      for (const r of replicasOf(volume.graph)) await indexHealPass(new HealIo(r, healContext()));
      console.log(
        `Launching heal operation to perform index self heal on volume ${name} has been successful \nUse heal info commands to check status.`,
      );
      return 0;
    }
    if (words[0] === 'split-brain') return splitBrain(volume, words.slice(1));
    let out = '';
    if (what === 'statistics heal-count')
      out += `Gathering count of entries to be healed on volume ${name} has been successful \n`;
    for (const b of bricks) {
      const up = b.replica.isUp(b.child);
      const entries = up ? await entriesOf(b).catch(() => undefined) : undefined;
      const status = entries ? 'Connected' : 'Transport endpoint is not connected';
      switch (what) {
        case 'info':
        case 'info split-brain': {
          out += `Brick ${b.label}\n`;
          const shown = what === 'info' ? entries : entries?.filter((e) => e.splitBrain);
          for (const e of shown ?? [])
            out += what === 'info' && e.splitBrain ? `${e.name} - Is in split-brain\n` : `${e.name}\n`;
          out += `Status: ${status}\n`;
          out += `Number of entries${what === 'info' ? '' : ' in split-brain'}: ${shown ? shown.length : '-'}\n\n`;
          break;
        }
        case 'info summary': {
          const sb = entries?.filter((e) => e.splitBrain).length;
          out += `Brick ${b.label}\nStatus: ${status}\n`;
          out += `Total Number of entries: ${entries ? entries.length : '-'}\n`;
          out += `Number of entries in heal pending: ${entries ? entries.length - sb! : '-'}\n`;
          out += `Number of entries in split-brain: ${entries ? sb : '-'}\n`;
          out += `Number of entries possibly healing: ${entries ? 0 : '-'}\n\n`;
          break;
        }
        case 'statistics heal-count':
          out += `\nBrick ${b.label}\n`;
          out += entries
            ? `Number of entries: ${entries.length}\n`
            : 'Status: Brick is not connected\nNo gathered input for this brick\n';
          break;
        default:
          throw new Error(`unknown heal command "${what}"\n${HEAL_USAGE}`);
      }
    }
    if (what === 'info summary') out += progressLine(data, name);
    process.stdout.write(out);
    return 0;
  });
}

export const SHD_USAGE = `  shd     the self-heal daemon of one replicated volume, in the foreground
            --volume NAME --server HOST[:PORT] (default 127.0.0.1:24007)
            --progress FILE   where heal progress is written for 'volume heal NAME info summary'`;

/** `glusterts shd`: heals the volume until SIGINT/SIGTERM. */
export async function shd(opts: { volume: string; server: string; progress?: string }): Promise<void> {
  const stop = untilSignal();
  let stopped = false;
  void stop.then(() => (stopped = true));
  const { host, port } = parseHostPort(opts.server);
  // Started with the bricks: wait for the volume as long as it takes (stock's shd does too).
  let volume: Volume | undefined;
  while (!volume && !stopped) {
    volume = await Volume.connect({ volume: opts.volume, servers: [{ host, port }], timeoutMs: 5000 }).catch(
      (err: Error) => {
        console.log(`${new Date().toISOString()} ${opts.volume}: not connected yet: ${err.message}`);
        return undefined;
      },
    );
  }
  if (!volume) return;
  try {
    await healVolume(volume, opts, stop);
  } finally {
    await volume.close();
  }
}

/**
 * The self-heal settings in a volfile's cluster/replicate translators: heal-timeout (the
 * periodic crawl, seconds, default 600) and favorite-child-policy.
 */
export function shdSettings(volfile: string): { healTimeoutMs: number; policy?: SplitBrainPolicy } {
  const decls = parseVolfile(volfile).volumes.filter((d) => d.type === 'cluster/replicate');
  const opt = (key: string) => decls.map((d) => d.options.get(key)).find((v) => v !== undefined);
  // Number() reads what glusterd's strtol does here: decimal, 0x hex, surrounding blanks.
  const secs = Number(opt('heal-timeout') ?? 600);
  const policy = favoriteChildPolicy(opt('favorite-child-policy'));
  return {
    healTimeoutMs: (Number.isInteger(secs) && secs >= 5 ? secs : 600) * 1000,
    ...(policy ? { policy } : {}),
  };
}

async function healVolume(
  volume: Volume,
  opts: { volume: string; server: string; progress?: string },
  stop: Promise<NodeJS.Signals>,
): Promise<void> {
  const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
  // The heal settings come from the self-heal daemon's own volfile (heal-timeout is only
  // there, as glusterd writes it); a server without one leaves the client volfile's.
  const { host, port } = parseHostPort(opts.server);
  const shdSpec = await MgmtConnection.open([{ host, port }], `shd/${opts.volume}`, {
    timeoutMs: 5000,
  }).catch((err: Error) => {
    log(`no self-heal daemon volfile (${err.message}): settings from the client volfile`);
    return undefined;
  });
  const settings = shdSettings(shdSpec?.volfile ?? volume.volfile);
  const daemon = new SelfHealDaemon(replicasOf(volume.graph), healContext(), { ...settings, log });
  log(`heal-timeout ${settings.healTimeoutMs / 1000} s`);
  shdSpec?.on('brickSignedIn', (brick) => daemon.brickSignedIn(brick));
  shdSpec?.on('volfileChanged', (text) => {
    const next = shdSettings(text);
    if (next.healTimeoutMs !== daemon.healTimeout) log(`heal-timeout now ${next.healTimeoutMs / 1000} s`);
    daemon.reconfigure(next);
  });
  daemon.start();
  const writeProgress = () => {
    if (!opts.progress) return;
    mkdirSync(dirname(opts.progress), { recursive: true });
    writeFileSync(`${opts.progress}.tmp`, JSON.stringify(daemon.snapshot()));
    renameSync(`${opts.progress}.tmp`, opts.progress);
  };
  const timer = setInterval(writeProgress, 1000);
  try {
    await stop;
  } finally {
    clearInterval(timer);
    shdSpec?.close();
    await daemon.stop();
    writeProgress();
  }
}
