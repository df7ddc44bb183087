/**
 * Minimal valid messages for every procedure of every program, derived from the codecs
 * themselves: the shortest run of zero bytes each codec accepts whole. All-zero input
 * is a valid encoding of every field type (empty strings, empty dicts, empty lists,
 * zero sizes), so this needs no hand-written samples and covers new procedures as soon
 * as they enter the table.
 */
import { PROGRAMS, zeroEncoding, type ProcDef, type ProgramDef } from '../../src/protocol/index.js';

export interface Seed {
  program: ProgramDef;
  def: ProcDef;
  side: 'args' | 'results';
  bytes: Buffer;
}

export function procedureSeeds(): Seed[] {
  const seeds: Seed[] = [];
  for (const program of PROGRAMS) {
    for (const def of program.procs.values()) {
      for (const side of ['args', 'results'] as const) {
        const bytes = zeroEncoding(def[side]);
        if (!bytes) throw new Error(`${program.name} ${def.name} ${side}: no minimal encoding`);
        seeds.push({ program, def, side, bytes });
      }
    }
  }
  return seeds;
}
