// An in-memory export for server tests: every call is recorded, and calls can be held
// until the test releases them.
import type {
  Capabilities,
  ExportBackend,
  ExportEntry,
  ExportProvider,
  Extent,
  WriteOptions,
  ZeroOptions,
} from '../../src/nbd/index.js';

export class MemoryBackend implements ExportBackend {
  readonly data: Buffer;
  readonly events: string[] = [];
  capabilities: Capabilities = {
    flush: true,
    fua: true,
    trim: true,
    zero: true,
    fastZero: false,
    blockStatus: true,
    cache: true,
    multiConn: false,
    readOnly: false,
  };
  /** While set, pwrite and pread wait for it. */
  gate: Promise<void> | undefined;
  active = 0;
  maxActive = 0;
  closed = false;

  constructor(readonly size: number) {
    this.data = Buffer.alloc(size);
  }

  private async enter(): Promise<void> {
    this.active += 1;
    this.maxActive = Math.max(this.maxActive, this.active);
    if (this.gate) await this.gate;
  }

  async pread(buf: Buffer, offset: number): Promise<void> {
    await this.enter();
    this.data.copy(buf, 0, offset, offset + buf.length);
    this.events.push(`read ${offset}+${buf.length}`);
    this.active -= 1;
  }

  async pwrite(buffers: readonly Buffer[], offset: number, opts: WriteOptions = {}): Promise<void> {
    await this.enter();
    let at = offset;
    for (const b of buffers) at += b.copy(this.data, at);
    this.events.push(`write ${offset}+${at - offset}${opts.fua ? ' fua' : ''}`);
    this.active -= 1;
  }

  async flush(): Promise<void> {
    this.events.push('flush');
  }

  async trim(offset: number, length: number, opts: WriteOptions = {}): Promise<void> {
    this.data.fill(0, offset, offset + length);
    this.events.push(`trim ${offset}+${length}${opts.fua ? ' fua' : ''}`);
  }

  async zero(offset: number, length: number, opts: ZeroOptions = {}): Promise<void> {
    this.data.fill(0, offset, offset + length);
    this.events.push(`zero ${offset}+${length}${opts.fua ? ' fua' : ''}`);
  }

  async blockStatus(offset: number, length: number): Promise<Extent[]> {
    return [{ length, hole: false, zero: false }];
  }

  async close(): Promise<void> {
    this.closed = true;
    this.events.push('close');
  }
}

export class MemoryProvider implements ExportProvider {
  readonly opened: MemoryBackend[] = [];
  constructor(
    private readonly make: () => MemoryBackend,
    private readonly names = ['mem'],
  ) {}
  async list(): Promise<ExportEntry[]> {
    return this.names.map((name) => ({ name }));
  }
  async exists(name: string): Promise<boolean> {
    return this.names.includes(name);
  }
  async open(name: string): Promise<MemoryBackend | null> {
    if (!this.names.includes(name)) return null;
    const b = this.make();
    this.opened.push(b);
    return b;
  }
}
