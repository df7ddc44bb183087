// Names and links as a user meets them through stock FUSE (glusterfs 10.3), on a glusterts
// volume and on a stock 10.3 volume side by side: the same shell commands, the same answers.
// - Every command that takes a name over 255 bytes says "File name too long" (glusterts used
//   to answer GARBAGE_ARGS, shown as "Transport endpoint is not connected").
// - After rename over a file with a second name, unlink of one of two names, link, rmdir and
//   directory renames, the other names and the parents show stock's link counts.
// Default mount and volume options, so the client stack has md-cache: the replaced inode's
// attributes are read once md-cache's 1 s has passed (docs/posix.md, "Names and links").
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  mountFuse,
  requirePeer,
  startGlusterts,
  startStockGluster,
  type RunningGlusterts,
  type StockGluster,
} from '../../src/peers/index.js';

const run = promisify(execFile);
const work = fs.mkdtempSync(join('/var/tmp', 'glusterts-names-links-'));
let g: RunningGlusterts | undefined;
let s: StockGluster | undefined;
const unmounts: (() => Promise<void>)[] = [];

after(async () => {
  for (const u of unmounts) await u();
  await Promise.all([g?.stop(), s?.stop()]);
  fs.rmSync(work, { recursive: true, force: true });
});

/** Each line `label rc=N message`: what a user sees of each command (message = strerror). */
const NAMES = String.raw`
cd "$1"
L=$(printf 'a%.0s' $(seq 256)); U=$(printf 'é%.0s' $(seq 128)); M=$(printf 'm%.0s' $(seq 255))
t() { local label=$1; shift; local out; out=$("$@" 2>&1); echo "$label rc=$? $(printf '%s' "$out" | sed -n '$s/.*: //p')"; }
echo data > f; mkdir d
t touch-256 touch $L
t touch-utf8-256 touch $U
t mkdir-256 mkdir $L
t mkfifo-256 mkfifo $L
t symlink-256 ln -s f $L
t link-256 ln f $L
t mv-to-256 mv f $L
t mvdir-to-256 mv d $L
t stat-256 stat $L
t rm-256 rm $L
t rmdir-256 rmdir $L
t touch-255 touch $M
t link-255 ln f d/$M
t mv-255 mv $M d/x
t rm-255 rm d/$M
t target-4095 ln -s $(printf 'c%.0s' $(seq 4095)) t4095
t target-4096 ln -s $(printf 'c%.0s' $(seq 4096)) t4096
t xattr-255 setfattr -n user.$(printf 'x%.0s' $(seq 250)) -v 1 f
t xattr-256 setfattr -n user.$(printf 'x%.0s' $(seq 251)) -v 1 f
t ls sh -c 'ls | wc -l'
`;

/** Link counts and ctimes of the names that stay, and of the parents, before and after. */
const LINKS = String.raw`
cd "$1"
echo s > src; echo d > dst; ln dst dst2
echo a > a; ln a b
echo c > c
echo z > z; ln z z2; ln -s anywhere sym
mkdir p p/d1 p/d2 q q/gone
stat -c 'before %n %h %.9Z' dst2 b c z2 p q
sleep 0.1
mv src dst; rm a; ln c c2; mv sym z; mv p/d1 p/d2; mv p/d2 q/; rmdir q/gone
sleep 1.2
stat -c 'after %n %h %.9Z' dst2 b c c2 z2 p q
`;

/** `when` → name → { nlink, ctime } from the LINKS output. */
function parseLinks(out: string): Record<string, Record<string, { nlink: number; ctime: number }>> {
  const r: Record<string, Record<string, { nlink: number; ctime: number }>> = { before: {}, after: {} };
  for (const line of out.trim().split('\n')) {
    const [when, name, nlink, ctime] = line.split(' ');
    r[when!]![name!] = { nlink: Number(nlink), ctime: Number(ctime) };
  }
  return r;
}

test('names over NAME_MAX and link counts after rename/unlink/link: the same as on stock, through stock FUSE', async (t) => {
  if (!requirePeer(['stock-gluster', 'setfattr'], t)) return;
  [g, s] = await Promise.all([
    startGlusterts({ host: '127.0.0.4' }),
    startStockGluster({ host: '127.0.0.2', dir: join(work, 'stock') }),
  ]);
  const mt = join(work, 'glusterts');
  const ms = join(work, 'stock-mnt');
  unmounts.push(await mountFuse(g.host, g.volume, mt), await mountFuse(s.host, s.volume, ms));
  const sh = async (script: string, mnt: string) => (await run('bash', ['-c', script, 'sh', mnt])).stdout;

  // Names: line by line identical, and what Linux answers.
  const [namesTs, namesStock] = [await sh(NAMES, mt), await sh(NAMES, ms)];
  assert.equal(namesTs, namesStock);
  const answer = new Map(
    namesTs
      .trim()
      .split('\n')
      .map((l) => [l.split(' ')[0]!, l.slice(l.indexOf(' ') + 1)]),
  );
  for (const label of [
    'touch',
    'touch-utf8',
    'mkdir',
    'mkfifo',
    'symlink',
    'link',
    'mv-to',
    'mvdir-to',
    'stat',
    'rm',
    'rmdir',
  ])
    assert.equal(answer.get(`${label}-256`), 'rc=1 File name too long', label);
  for (const label of ['touch-255', 'link-255', 'mv-255', 'rm-255', 'target-4095', 'xattr-255'])
    assert.equal(answer.get(label), 'rc=0 ', label);
  assert.equal(answer.get('target-4096'), 'rc=1 File name too long');
  assert.equal(answer.get('xattr-256'), 'rc=1 Numerical result out of range');

  // Links: the same link counts as stock and as POSIX, once md-cache's second has passed.
  const [linksTs, linksStock] = [await sh(LINKS, mt), await sh(LINKS, ms)];
  const ts = parseLinks(linksTs);
  const stock = parseLinks(linksStock);
  const nlinks = (m: Record<string, { nlink: number }>) =>
    Object.fromEntries(Object.entries(m).map(([n, v]) => [n, v.nlink]));
  assert.deepEqual(nlinks(ts.after!), nlinks(stock.after!), `glusterts:\n${linksTs}\nstock:\n${linksStock}`);
  assert.deepEqual(nlinks(ts.after!), { dst2: 1, b: 1, c: 2, c2: 2, z2: 1, p: 2, q: 3 });
  // The ctime of each inode that lost or gained a name moved, as rename(2), unlink(2) and
  // link(2) move it (stock 10.3 with features.ctime keeps the replaced inode's old ctime:
  // docs/posix.md).
  for (const n of ['dst2', 'b', 'c', 'z2', 'p', 'q'])
    assert.ok(ts.after![n]!.ctime > ts.before![n]!.ctime, `${n}: ctime\n${linksTs}`);
});
