/**
 * Volfiles, GlusterFS's graph description, in its own syntax:
 *
 *     volume NAME
 *         type CATEGORY/TYPE
 *         option KEY VALUE
 *         subvolumes CHILD [CHILD...]
 *     end-volume
 *
 * A volume must be declared before another names it; the last one is the graph's top.
 * `#` starts a comment. Parsing keeps declaration order so printing round-trips.
 */
import { Errno, GlusterTsError } from '../errors/index.js';
export interface VolumeDecl {
  name: string;
  type: string;
  /** Option values as written (the rest of the line after the key). */
  options: Map<string, string>;
  subvolumes: string[];
}

export interface Volfile {
  volumes: VolumeDecl[];
}

export class VolfileError extends GlusterTsError {
  static readonly codes = ['VOLFILE_INVALID'] as const;
  constructor(
    message: string,
    readonly line: number,
  ) {
    super('VOLFILE_INVALID', Errno.EINVAL, `volfile line ${line}: ${message}`);
  }
}

/** Bounds for untrusted volfiles (GETSPEC replies): generous for real graphs. */
const MAX_VOLUMES = 4096;
const MAX_LINE = 64 * 1024;

export function parseVolfile(text: string): Volfile {
  const volumes: VolumeDecl[] = [];
  const byName = new Map<string, VolumeDecl>();
  let current: VolumeDecl | undefined;
  let typeSeen = false;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!;
    if (raw.length > MAX_LINE) throw new VolfileError('line too long', lineNo);
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const [keyword = '', ...rest] = line.split(/\s+/);
    switch (keyword) {
      case 'volume': {
        if (current) throw new VolfileError(`"volume" inside volume ${current.name}`, lineNo);
        const name = rest[0];
        if (!name || rest.length !== 1) throw new VolfileError('expected "volume NAME"', lineNo);
        if (byName.has(name)) throw new VolfileError(`volume ${name} declared twice`, lineNo);
        if (volumes.length >= MAX_VOLUMES) throw new VolfileError('too many volumes', lineNo);
        current = { name, type: '', options: new Map(), subvolumes: [] };
        typeSeen = false;
        break;
      }
      case 'type':
        if (!current) throw new VolfileError('"type" outside a volume', lineNo);
        if (rest.length !== 1 || !/^[\w.-]+\/[\w.-]+$/.test(rest[0]!)) {
          throw new VolfileError('expected "type CATEGORY/NAME"', lineNo);
        }
        current.type = rest[0]!;
        typeSeen = true;
        break;
      case 'option': {
        if (!current) throw new VolfileError('"option" outside a volume', lineNo);
        const key = rest[0];
        if (!key) throw new VolfileError('expected "option KEY VALUE"', lineNo);
        // The value is the rest of the line, inner spacing kept.
        const value = line.slice(line.indexOf(key, 'option'.length) + key.length).trim();
        current.options.set(key, value);
        break;
      }
      case 'subvolumes':
        if (!current) throw new VolfileError('"subvolumes" outside a volume', lineNo);
        for (const child of rest) {
          if (!byName.has(child))
            throw new VolfileError(`subvolume ${child} is not declared before ${current.name}`, lineNo);
          current.subvolumes.push(child);
        }
        break;
      case 'end-volume':
        if (!current) throw new VolfileError('"end-volume" without "volume"', lineNo);
        if (!typeSeen) throw new VolfileError(`volume ${current.name} has no type`, lineNo);
        volumes.push(current);
        byName.set(current.name, current);
        current = undefined;
        break;
      default:
        throw new VolfileError(`unknown keyword "${keyword}"`, lineNo);
    }
  }
  if (current) throw new VolfileError(`volume ${current.name} is not closed`, lines.length);
  if (volumes.length === 0) throw new VolfileError('no volumes', lines.length);
  return { volumes };
}

/** Prints a volfile the way glusterd writes them (four-space indent, blank line between). */
export function printVolfile(v: Volfile): string {
  return v.volumes
    .map((vol) => {
      const lines = [`volume ${vol.name}`, `    type ${vol.type}`];
      for (const [k, val] of vol.options) lines.push(`    option ${k} ${val}`);
      if (vol.subvolumes.length) lines.push(`    subvolumes ${vol.subvolumes.join(' ')}`);
      lines.push('end-volume');
      return lines.join('\n');
    })
    .join('\n\n')
    .concat('\n');
}

/** The graph's top: the last volume declared. */
export function topVolume(v: Volfile): VolumeDecl {
  return v.volumes[v.volumes.length - 1]!;
}
