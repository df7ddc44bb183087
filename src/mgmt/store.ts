/**
 * The daemon's state directory:
 *
 *     DATA/glusterd.info                 the daemon's uuid
 *     DATA/cli.socket                    the CLI's unix socket (mode 0600)
 *     DATA/vols/<vol>/info.json          one volume's record (replicaCount/arbiterCount optional)
 *     DATA/vols/<vol>/<vol>.tcp-fuse.vol the client volfile (what GETSPEC <vol> answers)
 *     DATA/vols/<vol>/bricks/<key>.vol   each brick's volfile (what the brick process loads)
 *     DATA/logs/bricks/<dashed>.log      each brick process's stdout and stderr
 *     DATA/bricks/                       where `glusterts up` puts its brick
 *
 * Every write is atomic: a temporary file in the same directory, fsync, rename, fsync of
 * the directory. A crash leaves the old file or the new one, never a mix. A record or volfile
 * whose text did not change is not written again (`volume start NAME force` rewrote seven
 * unchanged files, fourteen fsyncs, before it started the brick a heal waits for).
 */
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { checkVolumeName, type VolumeRecord, type VolumeStatus } from './volume.js';

const STATUSES: readonly VolumeStatus[] = ['created', 'started', 'stopped'];

/** Writes `data` to `path` atomically and durably. */
export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o644): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${process.pid}.${randomUUID()}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(dir);
}

/** writeFileAtomic unless `path` already holds exactly `text` (written the same way before). */
function writeIfChanged(path: string, text: string): void {
  let old: string | undefined;
  try {
    old = readFileSync(path, 'utf8');
  } catch {
    /* missing or unreadable: write it */
  }
  if (old !== text) writeFileAtomic(path, text);
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class VolumeStore {
  readonly volsDir: string;
  readonly logsDir: string;

  constructor(readonly dataDir: string) {
    this.volsDir = join(dataDir, 'vols');
    this.logsDir = join(dataDir, 'logs', 'bricks');
    mkdirSync(this.volsDir, { recursive: true });
    mkdirSync(this.logsDir, { recursive: true });
  }

  get cliSocketPath(): string {
    return join(this.dataDir, 'cli.socket');
  }

  /** The daemon's uuid, created on first use. */
  daemonUuid(): string {
    const path = join(this.dataDir, 'glusterd.info');
    if (existsSync(path)) {
      const m = /^UUID=([0-9a-f-]{36})$/m.exec(readFileSync(path, 'utf8'));
      if (m) return m[1]!;
    }
    const uuid = randomUUID();
    writeFileAtomic(path, `UUID=${uuid}\noperating-version=100000\n`);
    return uuid;
  }

  volumeDir(name: string): string {
    return join(this.volsDir, name);
  }

  /** Every stored volume; a malformed record is reported and skipped, never fatal. */
  load(onError: (name: string, err: Error) => void = () => undefined): VolumeRecord[] {
    const out: VolumeRecord[] = [];
    for (const entry of readdirSync(this.volsDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const file = join(this.volsDir, entry.name, 'info.json');
      if (!existsSync(file)) continue;
      try {
        out.push(parseVolumeRecord(JSON.parse(readFileSync(file, 'utf8')), entry.name));
      } catch (err) {
        onError(entry.name, err instanceof Error ? err : new Error(String(err)));
      }
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  save(vol: VolumeRecord): void {
    const dir = this.volumeDir(vol.name);
    mkdirSync(join(dir, 'bricks'), { recursive: true });
    writeIfChanged(join(dir, 'info.json'), JSON.stringify(vol, null, 2) + '\n');
  }

  /** Writes a generated volfile next to the volume's record; returns its path. */
  saveVolfile(vol: string, relPath: string, text: string): string {
    const path = join(this.volumeDir(vol), relPath);
    mkdirSync(dirname(path), { recursive: true });
    writeIfChanged(path, text);
    return path;
  }

  remove(name: string): void {
    const dir = this.volumeDir(name);
    // The record goes first so a crash half way leaves no volume rather than a broken one.
    const info = join(dir, 'info.json');
    if (existsSync(info)) unlinkSync(info);
    fsyncDir(dir);
    rmSync(dir, { recursive: true, force: true });
    fsyncDir(this.volsDir);
  }
}

/** Checks a stored volume record (info.json, or the pool's copy); `name` is where it was found. */
export function parseVolumeRecord(v: unknown, name: string): VolumeRecord {
  const fail = (why: string): never => {
    throw new Error(`volume record: ${why}`);
  };
  if (typeof v !== 'object' || v === null) return fail('not an object');
  const r = v as Record<string, unknown>;
  if (typeof r.name !== 'string' || r.name !== name) return fail('name does not match where it is stored');
  checkVolumeName(r.name);
  if (typeof r.id !== 'string' || !/^[0-9a-f-]{36}$/.test(r.id)) return fail('bad id');
  if (!STATUSES.includes(r.status as VolumeStatus)) return fail('bad status');
  if (!Array.isArray(r.bricks) || r.bricks.length === 0) return fail('no bricks');
  const bricks = r.bricks.map((b: unknown) => {
    const o = b as Record<string, unknown> | null;
    if (typeof o?.host !== 'string' || typeof o.path !== 'string' || !o.path.startsWith('/'))
      return fail('bad brick');
    return { host: o.host, path: o.path };
  });
  const options: Record<string, string> = {};
  if (typeof r.options !== 'object' || r.options === null) return fail('bad options');
  for (const [k, val] of Object.entries(r.options)) {
    if (typeof val !== 'string') return fail(`option ${k} is not a string`);
    options[k] = val;
  }
  const layout = parseLayout(r, bricks.length, fail);
  return { name: r.name, id: r.id, status: r.status as VolumeStatus, bricks, options, ...layout };
}

/**
 * The optional replica fields. Records written before replication existed have neither
 * and stay distribute volumes; a replica count that does not divide the bricks is refused.
 */
function parseLayout(
  r: Record<string, unknown>,
  brickCount: number,
  fail: (why: string) => never,
): Pick<VolumeRecord, 'replicaCount' | 'arbiterCount'> {
  const { replicaCount: replica, arbiterCount: arbiter } = r;
  if (replica === undefined) {
    if (arbiter !== undefined) fail('arbiterCount without replicaCount');
    return {};
  }
  if (!Number.isInteger(replica) || (replica as number) < 1 || brickCount % (replica as number) !== 0)
    fail('bad replicaCount');
  if (arbiter === undefined) return { replicaCount: replica as number };
  if (arbiter !== 0 && (arbiter !== 1 || replica !== 3)) fail('bad arbiterCount');
  return { replicaCount: replica as number, arbiterCount: arbiter };
}
