/**
 * An fsx-style checker (what Ceph's rbd_fsx is to librbd): random reads, writes, truncates,
 * discards and zero-fills against one file, each checked against an in-memory shadow of what
 * the file must hold. Seeded and replayable: the same seed and options give the same
 * operations, so a failing run is reproduced exactly by its seed. Written bytes encode the
 * operation number, so a mismatch names the operation that wrote the wrong byte.
 */

/** The calls fsx needs; a client library `File` satisfies it. */
export interface FsxFile {
  pread(length: number, position: number): Promise<Buffer>;
  pwrite(buffer: Buffer, position: number): Promise<number>;
  ftruncate(length: number): Promise<void>;
  discard(offset: number, length: number): Promise<void>;
  zerofill(offset: number, length: number): Promise<void>;
  fsync(): Promise<void>;
  fstat(): Promise<{ size: number | bigint }>;
}

export type FsxOpName = 'read' | 'write' | 'truncate' | 'discard' | 'zerofill' | 'fsync';

export interface FsxOptions {
  seed: number;
  /** Operations to run (or until `signal` aborts, whichever is first). */
  ops: number;
  /** Largest file size fsx creates. */
  maxSize?: number;
  /** Largest single read/write/discard/zero-fill. */
  maxIo?: number;
  /** Relative weights of the operations; 0 disables one. */
  weights?: Partial<Record<FsxOpName, number>>;
  signal?: AbortSignal;
  /**
   * Called when an operation fails at the file (not a mismatch); return true to retry it
   * (e.g. a transient ENOTCONN during a fault test), false to fail the run.
   */
  retry?: (err: unknown, op: FsxOp) => boolean | Promise<boolean>;
}

export interface FsxOp {
  index: number;
  name: FsxOpName;
  offset: number;
  length: number;
}

export interface FsxReport {
  seed: number;
  ops: number;
  bytesWritten: number;
  bytesRead: number;
  retries: number;
  counts: Record<FsxOpName, number>;
}

export class FsxMismatch extends Error {
  constructor(
    readonly seed: number,
    readonly op: FsxOp,
    readonly at: number,
    readonly expected: number,
    readonly actual: number,
    readonly history: readonly FsxOp[],
  ) {
    super(
      `fsx seed ${seed}: op #${op.index} ${op.name} [${op.offset}, +${op.length}) read ${actual} at ` +
        `${at}, expected ${expected}; last ops: ` +
        history.map((h) => `#${h.index} ${h.name} ${h.offset}+${h.length}`).join(', '),
    );
    this.name = 'FsxMismatch';
  }
}

/** mulberry32: a small, fast, seedable PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DEFAULT_WEIGHTS: Record<FsxOpName, number> = {
  read: 30,
  write: 40,
  truncate: 5,
  discard: 8,
  zerofill: 8,
  fsync: 4,
};

/** Byte `i` of what operation `index` writes: non-zero and tied to the op and the offset. */
function pattern(index: number, offset: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = ((index * 31 + offset + i) % 255) + 1;
  return out;
}

export async function runFsx(file: FsxFile, opts: FsxOptions): Promise<FsxReport> {
  const maxSize = opts.maxSize ?? 4 * 1024 * 1024;
  const maxIo = opts.maxIo ?? 256 * 1024;
  const weights = { ...DEFAULT_WEIGHTS, ...opts.weights };
  const names = Object.keys(weights) as FsxOpName[];
  const total = names.reduce((s, n) => s + weights[n], 0);
  const rand = prng(opts.seed);
  const int = (n: number) => Math.floor(rand() * n);
  const history: FsxOp[] = [];
  const counts = Object.fromEntries(names.map((n) => [n, 0])) as Record<FsxOpName, number>;
  const report: FsxReport = { seed: opts.seed, ops: 0, bytesWritten: 0, bytesRead: 0, retries: 0, counts };

  let shadow: Buffer = Buffer.alloc(0);
  const start = await file.fstat();
  if (Number(start.size) !== 0) await file.ftruncate(0);

  const pick = (): FsxOpName => {
    let r = rand() * total;
    for (const n of names) if ((r -= weights[n]) < 0) return n;
    return 'read';
  };
  const range = (limit: number): [number, number] => {
    const offset = int(Math.max(1, limit));
    return [offset, 1 + int(Math.min(maxIo, Math.max(1, limit - offset)))];
  };

  for (let index = 0; index < opts.ops && !opts.signal?.aborted; index++) {
    const name = pick();
    let offset = 0;
    let length = 0;
    if (name === 'write') [offset, length] = range(maxSize);
    else if (name === 'truncate') offset = int(maxSize + 1);
    else if (name !== 'fsync') [offset, length] = range(Math.max(shadow.length, 1));
    const op: FsxOp = { index, name, offset, length };
    history.push(op);
    if (history.length > 16) history.shift();

    const data = name === 'write' ? pattern(index, offset, length) : undefined;
    for (;;) {
      try {
        await apply(file, op, data, shadow, report, opts.seed, history);
        break;
      } catch (err) {
        if (err instanceof FsxMismatch || !opts.retry || !(await opts.retry(err, op))) throw err;
        report.retries++;
      }
    }
    shadow = nextShadow(shadow, op, data);
    counts[name]++;
    report.ops++;
  }
  // A final whole-file comparison catches damage outside the ranges the reads happened to hit.
  await verify(
    file,
    { index: report.ops, name: 'read', offset: 0, length: shadow.length },
    shadow,
    report,
    opts.seed,
    history,
  );
  return report;
}

async function apply(
  file: FsxFile,
  op: FsxOp,
  data: Buffer | undefined,
  shadow: Buffer,
  report: FsxReport,
  seed: number,
  history: FsxOp[],
): Promise<void> {
  switch (op.name) {
    case 'read':
      return verify(file, op, shadow, report, seed, history);
    case 'write':
      await file.pwrite(data!, op.offset);
      report.bytesWritten += op.length;
      return;
    case 'truncate':
      return file.ftruncate(op.offset);
    case 'discard':
      if (op.offset + op.length > shadow.length) return;
      return file.discard(op.offset, op.length);
    case 'zerofill':
      if (op.offset + op.length > shadow.length) return;
      return file.zerofill(op.offset, op.length);
    case 'fsync':
      return file.fsync();
  }
}

function nextShadow(shadow: Buffer, op: FsxOp, data: Buffer | undefined): Buffer {
  switch (op.name) {
    case 'write': {
      const end = op.offset + op.length;
      const next = end > shadow.length ? Buffer.concat([shadow, Buffer.alloc(end - shadow.length)]) : shadow;
      data!.copy(next, op.offset);
      return next;
    }
    case 'truncate':
      return op.offset <= shadow.length
        ? Buffer.from(shadow.subarray(0, op.offset))
        : Buffer.concat([shadow, Buffer.alloc(op.offset - shadow.length)]);
    case 'discard':
    case 'zerofill':
      if (op.offset + op.length <= shadow.length) shadow.fill(0, op.offset, op.offset + op.length);
      return shadow;
    default:
      return shadow;
  }
}

async function verify(
  file: FsxFile,
  op: FsxOp,
  shadow: Buffer,
  report: FsxReport,
  seed: number,
  history: FsxOp[],
): Promise<void> {
  const stat = await file.fstat();
  if (Number(stat.size) !== shadow.length)
    throw new FsxMismatch(seed, op, -1, shadow.length, Number(stat.size), history);
  const end = Math.min(op.offset + op.length, shadow.length);
  for (let pos = op.offset; pos < end;) {
    const want = Math.min(end - pos, 1024 * 1024);
    const got = await file.pread(want, pos);
    report.bytesRead += got.length;
    const expected = shadow.subarray(pos, pos + want);
    if (got.length !== want || !got.equals(expected)) {
      let i = 0;
      while (i < got.length && got[i] === expected[i]) i++;
      throw new FsxMismatch(seed, op, pos + i, expected[i] ?? -1, got[i] ?? -1, history);
    }
    pos += want;
  }
}
