/**
 * The CLI's private RPC program. glusterd serves its CLI on a unix socket with its own
 * program; glusterts does the same with one procedure whose argument and result are JSON
 * text. It is served only on DATA/cli.socket (mode 0600, so only the daemon's user can
 * connect) and never on the TCP port, so DUMP there lists glusterd's programs only.
 */
import { x } from '../xdr/index.js';
import { defineProgram } from '../protocol/procedure.js';

/** In the ONC "defined by the user" range (0x20000000–0x3fffffff). */
export const CLI_PROGRAM_ID = { prog: 0x2047_5453, vers: 1 } as const;

/** Request and reply bodies are small JSON documents. */
const MAX_REQUEST = 64 * 1024;
const MAX_REPLY = 16 * 1024 * 1024;

export const CliProcs = {
  NULL: { proc: 0, args: x.none, results: x.none },
  REQUEST: {
    proc: 1,
    args: x.struct({ json: x.string(MAX_REQUEST) }),
    results: x.struct({ json: x.string(MAX_REPLY) }),
  },
} as const;

export const CLI_PROGRAM = defineProgram('glusterts CLI', CLI_PROGRAM_ID, CliProcs);

export type CliRequest =
  | { op: 'create'; name: string; bricks: string[]; force: boolean; replica?: number; arbiter?: number }
  | { op: 'start'; name: string; force: boolean }
  | { op: 'stop'; name: string }
  | { op: 'delete'; name: string }
  | { op: 'set'; name: string; key: string; value: string }
  | { op: 'get'; name: string; key: string }
  | { op: 'reset'; name: string; key?: string }
  | { op: 'info'; name?: string }
  | { op: 'status'; name?: string }
  | { op: 'peer-probe'; host: string }
  | { op: 'peer-detach'; host: string }
  | { op: 'peer-status' };

export type CliReply = { ok: true; result: unknown; warnings?: string[] } | { ok: false; error: string };

/** Checks a decoded request's shape; the socket is private but the bytes are still input. */
export function parseCliRequest(text: string): CliRequest {
  const v = JSON.parse(text) as Record<string, unknown>;
  const str = (k: string): string => {
    const s = v[k];
    if (typeof s !== 'string') throw new Error(`request field ${k} must be a string`);
    return s;
  };
  const optName = (): { name?: string } => (v.name === undefined ? {} : { name: str('name') });
  if (typeof v !== 'object' || v === null) throw new Error('request must be an object');
  switch (v.op) {
    case 'create': {
      if (!Array.isArray(v.bricks) || !v.bricks.every((b) => typeof b === 'string'))
        throw new Error('request field bricks must be a list of strings');
      const count = (k: 'replica' | 'arbiter'): { [key: string]: number } => {
        if (v[k] === undefined) return {};
        if (!Number.isSafeInteger(v[k])) throw new Error(`request field ${k} must be an integer`);
        return { [k]: v[k] as number };
      };
      return {
        op: 'create',
        name: str('name'),
        bricks: v.bricks as string[],
        force: v.force === true,
        ...count('replica'),
        ...count('arbiter'),
      };
    }
    case 'start':
      return { op: 'start', name: str('name'), force: v.force === true };
    case 'stop':
    case 'delete':
      return { op: v.op, name: str('name') };
    case 'set':
      return { op: 'set', name: str('name'), key: str('key'), value: str('value') };
    case 'get':
      return { op: 'get', name: str('name'), key: str('key') };
    case 'reset':
      return { op: 'reset', name: str('name'), ...(v.key === undefined ? {} : { key: str('key') }) };
    case 'info':
    case 'status':
      return { op: v.op, ...optName() };
    case 'peer-probe':
    case 'peer-detach':
      return { op: v.op, host: str('host') };
    case 'peer-status':
      return { op: 'peer-status' };
    default:
      throw new Error(`unknown operation ${String(v.op)}`);
  }
}
