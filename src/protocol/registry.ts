/** Every program glusterts can encode and decode, looked up by number and version. */
import { CALLBACK_PROGRAM } from './callback.js';
import { DUMP_PROGRAM } from './dump.js';
import { FOP_PROGRAM } from './fops.js';
import { HANDSHAKE_PROGRAM } from './handshake.js';
import { PORTMAP_PROGRAM } from './portmap.js';
import type { ProgramDef } from './procedure.js';

export const PROGRAMS: readonly ProgramDef[] = [
  DUMP_PROGRAM,
  HANDSHAKE_PROGRAM,
  PORTMAP_PROGRAM,
  FOP_PROGRAM,
  CALLBACK_PROGRAM,
];

export function findProgram(prog: number, vers: number): ProgramDef | undefined {
  return PROGRAMS.find((p) => p.prog === prog && p.vers === vers);
}
