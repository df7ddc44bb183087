/**
 * Builds a running graph from a volfile: each declared volume becomes a Layer over the
 * translator its `type` names, children first; the last volume is the top. Unknown
 * translator types and bad options fail with an error naming the volume.
 */
import { Errno, GlusterTsError } from '../errors/index.js';
import { parseOptions, type OptionSchema } from './options.js';
import { Layer } from './layer.js';
import type { Session, TranslatorType } from './translator.js';
import { topVolume, type Volfile } from './volfile.js';

export type TranslatorRegistry = ReadonlyMap<string, TranslatorType<OptionSchema>>;

/** A volfile that does not make a graph: unknown type, cycle, missing subvolume, bad options. */
export class GraphError extends GlusterTsError {
  static readonly codes = ['GRAPH_INVALID'] as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super('GRAPH_INVALID', Errno.EINVAL, message, options);
  }
}

export interface BuildOptions {
  /** Reject options a translator does not declare (tests); default: ignore them. */
  strictOptions?: boolean;
}

export class Graph {
  private constructor(
    readonly layers: readonly Layer[],
    readonly top: Layer,
  ) {}

  static async build(
    volfile: Volfile,
    registry: TranslatorRegistry,
    opts: BuildOptions = {},
  ): Promise<Graph> {
    const built = new Map<string, Layer>();
    const layers: Layer[] = [];
    try {
      for (const decl of volfile.volumes) {
        const type = registry.get(decl.type);
        if (!type) {
          throw new GraphError(
            `volume ${decl.name}: translator type ${decl.type} is not implemented by glusterts ` +
              `(known: ${[...registry.keys()].sort().join(', ')})`,
          );
        }
        const children = decl.subvolumes.map((n) => built.get(n)!);
        if (type.children === 'none' && children.length > 0) {
          throw new GraphError(`volume ${decl.name}: ${decl.type} takes no subvolumes`);
        }
        if (type.children === 'one' && children.length !== 1) {
          throw new GraphError(`volume ${decl.name}: ${decl.type} needs exactly one subvolume`);
        }
        if (type.children === 'many' && children.length < 1) {
          throw new GraphError(`volume ${decl.name}: ${decl.type} needs subvolumes`);
        }
        let parsed;
        try {
          parsed = parseOptions(type.options, decl.options);
        } catch (e) {
          throw new GraphError(`volume ${decl.name}: ${(e as Error).message}`);
        }
        if (opts.strictOptions && parsed.unknown.length) {
          throw new GraphError(`volume ${decl.name}: unknown options ${parsed.unknown.join(', ')}`);
        }
        const translator = await type.create({ name: decl.name, options: parsed.options, children, decl });
        const layer = new Layer(decl.name, decl.type, translator, children);
        built.set(decl.name, layer);
        layers.push(layer);
      }
      for (const layer of layers) await layer.translator.init?.();
    } catch (e) {
      for (const layer of [...layers].reverse()) await layer.translator.fini?.().catch(() => undefined);
      throw e;
    }
    return new Graph(layers, built.get(topVolume(volfile).name)!);
  }

  /**
   * Resolves when the graph can serve (see Translator.whenReady). A translator with children
   * that has its own whenReady answers for its whole subtree (replicate serves with a quorum
   * of bricks up, not all of them); every other layer's whenReady is awaited.
   */
  async ready(signal?: AbortSignal): Promise<void> {
    const covered = new Set<Layer>();
    const cover = (l: Layer) => {
      for (const c of l.children) {
        if (covered.has(c)) continue;
        covered.add(c);
        cover(c);
      }
    };
    for (const l of this.layers) if (l.children.length && l.translator.whenReady) cover(l);
    await Promise.all(
      this.layers.filter((l) => !covered.has(l)).map((l) => l.translator.whenReady?.(signal)),
    );
  }

  find(name: string): Layer | undefined {
    return this.layers.find((l) => l.name === name);
  }

  /** Tells every translator a session ended (locks, caches), top-down. */
  async sessionEnded(session: Session): Promise<void> {
    for (const layer of [...this.layers].reverse()) await layer.translator.sessionEnded?.(session);
  }

  async fini(): Promise<void> {
    for (const layer of [...this.layers].reverse()) await layer.translator.fini?.();
  }
}
