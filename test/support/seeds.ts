/**
 * Minimal valid messages for every procedure of every program, derived from the codecs
 * themselves: the shortest run of zero bytes each codec accepts whole. All-zero input
 * is a valid encoding of every field type (empty strings, empty dicts, empty lists,
 * zero sizes), so this needs no hand-written samples and covers new procedures as soon
 * as they enter the table.
 */
import { XdrError, XdrReader, type Codec } from '../../src/xdr/index.js';
import { PROGRAMS, type ProcDef, type ProgramDef } from '../../src/protocol/index.js';

export interface Seed {
  program: ProgramDef;
  def: ProcDef;
  side: 'args' | 'results';
  bytes: Buffer;
}

function minimalEncoding(codec: Codec<unknown>): Buffer | undefined {
  for (let len = 0; len <= 4096; len += 4) {
    const zeros = Buffer.alloc(len);
    try {
      const r = new XdrReader(zeros);
      codec.read(r);
      r.finish();
      return zeros;
    } catch (e) {
      if (!(e instanceof XdrError)) throw e;
    }
  }
  return undefined;
}

export function procedureSeeds(): Seed[] {
  const seeds: Seed[] = [];
  for (const program of PROGRAMS) {
    for (const def of program.procs.values()) {
      for (const side of ['args', 'results'] as const) {
        const bytes = minimalEncoding(def[side]);
        if (!bytes) throw new Error(`${program.name} ${def.name} ${side}: no minimal encoding`);
        seeds.push({ program, def, side, bytes });
      }
    }
  }
  return seeds;
}
