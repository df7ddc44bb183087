/**
 * auth.addr: which client addresses may attach to an export (`auth.addr.<brick>.allow` and
 * `.reject`, the volume keys auth.allow and auth.reject), with stock 10.3's syntax and
 * precedence (docs/security.md):
 *
 * - A value is a comma list of entries. A value that starts with '/' or holds '(' is a list of
 *   per-directory rules `/dir(entry|entry)`: only the rule naming the mounted directory
 *   applies ("/" for a whole-volume mount); otherwise the list applies to every mount.
 * - An entry is a host name or address (compared after resolving both sides), a CIDR
 *   network `a.b.c.d/n` or `x::/n`, or a glob with `*`, `?` and `[…]`. A leading '!' negates it.
 * - A reject match refuses; otherwise an allow match accepts; otherwise addr has no opinion,
 *   and a client that no module accepts is refused (src/brick/auth.ts).
 *
 * Where stock 10.3 is wrong, this is right: a CIDR prefix that is not a whole number of
 * octets matches exactly its network (10.3 mis-matches such prefixes; fixed upstream later), and
 * '!' negates host names too (stock ignores it there, and keeps it set for the entries after a
 * negated one).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export type AuthVerdict = 'accept' | 'reject' | 'dont-care';

/** The entries of `value` that apply to a mount of `subdir` ("/" for the whole volume). */
export function entriesFor(value: string, subdir: string): string[] {
  const split = (s: string, sep: string) =>
    s
      .split(sep)
      .map((e) => e.trim())
      .filter(Boolean);
  if (!value.startsWith('/') && !value.includes('(')) return split(value, ',');
  for (const rule of split(value, ',')) {
    const m = /^(\/[^(]*)\(([^)]*)\)$/.exec(rule);
    if (m && normaliseDir(m[1]!) === normaliseDir(subdir)) return split(m[2]!, '|');
  }
  return [];
}

function normaliseDir(dir: string): string {
  const trimmed = dir.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

/** Host-name syntax as stock checks it: dot-separated alphanumeric labels, '-' inside. */
function isHostName(s: string): boolean {
  return s.length <= 255 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(s);
}

/** Whether `address` falls in `network` (`addr/prefix`), for any prefix length. */
export function inNetwork(network: string, address: string): boolean {
  const slash = network.indexOf('/');
  const base = network.slice(0, slash);
  const prefix = Number(network.slice(slash + 1));
  const family = isIP(base);
  if (family === 0 || isIP(address) !== family || !/^\d+$/.test(network.slice(slash + 1))) return false;
  const bits = family === 4 ? 32 : 128;
  if (prefix > bits) return false;
  const a = addressBytes(base);
  const b = addressBytes(address);
  for (let i = 0; i < bits / 8; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    const mask = (0xff00 >> keep) & 0xff;
    if ((a[i]! & mask) !== (b[i]! & mask)) return false;
  }
  return true;
}

function addressBytes(address: string): number[] {
  if (isIP(address) === 4) return address.split('.').map(Number);
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  let words = groups(head);
  let rest = groups(tail);
  const last = (tail === undefined ? words : rest).at(-1);
  const v4 = last !== undefined && isIP(last) === 4 ? last : undefined;
  const v4Words = v4 ? v4.split('.').map(Number) : [];
  if (v4) {
    if (tail === undefined) words = words.slice(0, -1);
    else rest = rest.slice(0, -1);
  }
  const hex = [...words, ...Array(8 - words.length - rest.length - (v4 ? 2 : 0)).fill('0'), ...rest].map(
    (w) => parseInt(w, 16),
  );
  return [...hex.flatMap((w) => [w >> 8, w & 0xff]), ...v4Words];
}

/** fnmatch without flags: '*', '?' and bracket classes. */
export function globMatch(pattern: string, text: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[' && pattern.indexOf(']', i + 2) > 0) {
      const end = pattern.indexOf(']', i + 2);
      let body = pattern.slice(i + 1, end);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's').test(text);
}

/** The addresses a name stands for (itself when it is one); none when it does not resolve. */
async function addressesOf(name: string): Promise<string[]> {
  if (isIP(name)) return [name];
  try {
    return (await lookup(name, { all: true })).map((a) => a.address);
  } catch {
    return [];
  }
}

async function entryMatches(entry: string, peer: string): Promise<boolean> {
  const negate = entry.startsWith('!');
  const body = negate ? entry.slice(1) : entry;
  let match: boolean;
  if (!body.startsWith('*') && isHostName(body)) {
    const [mine, theirs] = await Promise.all([addressesOf(body), addressesOf(peer)]);
    match = mine.some((a) => theirs.includes(a));
  } else if (body.includes('/')) match = inNetwork(body, peer);
  else match = globMatch(body, peer);
  return negate ? !match : match;
}

/** Whether any entry matches the peer address. */
export async function anyEntryMatches(entries: readonly string[], peer: string): Promise<boolean> {
  for (const e of entries) if (await entryMatches(e, peer)) return true;
  return false;
}

/** The addr module's verdict for a client at `peer` mounting `subdir`. */
export async function addrVerdict(
  rules: { allow?: string | undefined; reject?: string | undefined },
  peer: string,
  subdir: string,
): Promise<AuthVerdict> {
  if (rules.allow === undefined && rules.reject === undefined) return 'dont-care';
  if (rules.reject !== undefined && (await anyEntryMatches(entriesFor(rules.reject, subdir), peer)))
    return 'reject';
  if (rules.allow !== undefined && (await anyEntryMatches(entriesFor(rules.allow, subdir), peer)))
    return 'accept';
  return 'dont-care';
}
