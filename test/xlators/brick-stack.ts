/**
 * A translator stack as the xlator tests build it: a volfile of layers (bottom first, each the
 * subvolume of the next), and a brick stack over a real brick directory (storage/posix at the
 * bottom) with one caller, restarts, and the CREATE most brick-side tests start from.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { gfuuidValue } from '../../src/protocol/dict.js';
import { ROOT_GFID, randomGfid, type Gfid } from '../../src/protocol/gfid.js';
import {
  Graph,
  OpenFd,
  parseVolfile,
  type FopContext,
  type OptionSchema,
  type TranslatorRegistry,
  type TranslatorType,
} from '../../src/xlator/index.js';
import { BRICK_TRANSLATORS } from '../../src/xlators/brick-registry.js';
import { context } from './posix/helpers.js';

export interface Layer {
  name: string;
  type: string;
  options?: Record<string, string | number>;
}

/** The volfile text of `layers`, bottom first. */
export function stackVolfile(layers: readonly Layer[]): string {
  return layers
    .map((l, i) => {
      const opts = Object.entries(l.options ?? {})
        .map(([k, v]) => ` option ${k} ${v}\n`)
        .join('');
      const below = i > 0 ? ` subvolumes ${layers[i - 1]!.name}\n` : '';
      return `volume ${l.name}\n type ${l.type}\n${opts}${below}end-volume\n`;
    })
    .join('');
}

/** Builds `layers` (strict options: a misspelt option fails the test) from `translators`. */
export function buildStack(layers: readonly Layer[], translators: TranslatorRegistry): Promise<Graph> {
  return Graph.build(parseVolfile(stackVolfile(layers)), translators, { strictOptions: true });
}

export interface BrickStackOptions {
  /** Temp directory name prefix under /var/tmp (ext4: O_DIRECT and trusted xattrs). */
  prefix: string;
  /** The layers above storage/posix, bottom first; given the brick directory. */
  above: (dir: string) => Layer[];
  /** Test translators the layers name, besides the brick's. */
  extra?: readonly TranslatorType<any>[];
  /** The caller of every fop (default: root with a zero lk_owner). */
  ctx?: FopContext;
}

export interface BrickStack {
  dir: string;
  ctx: FopContext;
  call(fop: string, req: unknown): Promise<any>;
  /** CREATE `name` (O_RDWR|O_CREAT, 0644) with a fresh gfid; the new file's gfid and fd. */
  create(name: string, parent?: Gfid): Promise<{ gfid: Gfid; fd: OpenFd }>;
  /** A clean stop (fini) and start on the same directory. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** A crash: the old graph is abandoned without fini, a new one starts on the same brick. */
  crash(): Promise<void>;
  /** fini and remove the directory. */
  close(): Promise<void>;
}

export async function brickStack(o: BrickStackOptions): Promise<BrickStack> {
  const dir = await mkdtemp(join('/var/tmp', `glusterts-${o.prefix}-`));
  const translators = new Map(BRICK_TRANSLATORS);
  for (const t of o.extra ?? []) translators.set(t.type, t as TranslatorType<OptionSchema>);
  const layers = [{ name: 'b-posix', type: 'storage/posix', options: { directory: dir } }, ...o.above(dir)];
  const build = () => buildStack(layers, translators);
  let graph = await build().catch(async (e: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw e;
  });
  const ctx = o.ctx ?? context();
  const call = (fop: string, req: unknown): Promise<any> => graph.top.call(fop as never, req as never, ctx);
  return {
    dir,
    ctx,
    call,
    async create(name, parent = ROOT_GFID) {
      const gfid = randomGfid();
      const fd = new OpenFd(gfid, 2, false);
      await call('CREATE', {
        pargfid: parent,
        flags: 0o102,
        mode: 0o644,
        umask: 0o022,
        bname: name,
        xdata: new Map([['gfid-req', gfuuidValue(gfid)]]),
        fd,
      });
      return { gfid, fd };
    },
    async restart() {
      await graph.fini();
      graph = await build();
    },
    stop: () => graph.fini(),
    async start() {
      graph = await build();
    },
    async crash() {
      graph = await build();
    },
    async close() {
      await graph.fini();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
