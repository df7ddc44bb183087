/**
 * The "trimmed client stack": a volfile reduced to the translators that decide where data
 * goes and what it says — protocol/client, cluster/distribute, cluster/replicate,
 * debug/io-stats. Every other translator with exactly one subvolume (caches, io-threads,
 * utime, …) is removed and its parent wired to its child. A translator with several
 * subvolumes that is not kept (cluster/disperse) cannot be dropped without losing data placement,
 * so trimming refuses it with its name. Leaves are always kept.
 */
import { GraphError } from '../xlator/graph.js';
import { topVolume, type Volfile, type VolumeDecl } from '../xlator/volfile.js';

/** Translator types a trimmed client graph keeps. */
export const TRIMMED_KEEPS: readonly string[] = [
  'protocol/client',
  'cluster/distribute',
  'cluster/replicate',
  'debug/io-stats',
];

export function trimVolfile(volfile: Volfile): Volfile {
  const replacement = new Map<string, string>();
  const kept: VolumeDecl[] = [];
  for (const decl of volfile.volumes) {
    // Leaves hold the data (protocol/client; storage/posix in local graphs): always kept.
    if (TRIMMED_KEEPS.includes(decl.type) || decl.subvolumes.length === 0) {
      kept.push({ ...decl, subvolumes: decl.subvolumes.map((s) => replacement.get(s) ?? s) });
      continue;
    }
    if (decl.subvolumes.length !== 1) {
      throw new GraphError(
        `volume ${decl.name}: a trimmed client stack cannot drop ${decl.type} ` +
          `(it has ${decl.subvolumes.length} subvolumes); keeps only ${TRIMMED_KEEPS.join(', ')}`,
      );
    }
    const child = decl.subvolumes[0]!;
    replacement.set(decl.name, replacement.get(child) ?? child);
  }
  const topName = topVolume(volfile).name;
  const newTop = replacement.get(topName) ?? topName;
  // The top is the last volume declared: move it there if a dropped layer was on top.
  const ordered = [...kept.filter((v) => v.name !== newTop), kept.find((v) => v.name === newTop)!];
  return { volumes: ordered };
}
