// The one error model: every error class in src derives from GlusterTsError and declares its
// codes, errno is a number everywhere, and docs/errors.md documents every code. The classes
// are found by reading the sources, so a new class that skips the base fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Errno, GlusterTsError, errnoName, isErrnoName } from '../../src/errors/index.js';
import { GlusterError } from '../../src/client/errors.js';
import { FopError } from '../../src/protocol/errno.js';
import { RpcError } from '../../src/rpc/errors.js';
import { XdrError } from '../../src/xdr/errors.js';

const ROOT = new URL('../../../', import.meta.url).pathname;

interface ClassDecl {
  name: string;
  parent: string;
  file: string;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every `class X extends Y` in src. */
const classes: ClassDecl[] = sources(join(ROOT, 'src')).flatMap((file) =>
  [
    ...readFileSync(file, 'utf8').matchAll(
      /^\s*(?:export\s+)?(?:abstract\s+)?class\s+(\w+)\s+extends\s+(\w+)/gm,
    ),
  ].map((m) => ({ name: m[1]!, parent: m[2]!, file: relative(join(ROOT, 'src'), file) })),
);
const byName = new Map(classes.map((c) => [c.name, c]));

/** The class's ancestors, nearest first, as far as src declares them. */
function ancestors(name: string): string[] {
  const chain: string[] = [];
  for (let c = byName.get(name); c; c = byName.get(c.parent)) chain.push(c.parent);
  return chain;
}

const errorClasses = classes.filter(
  (c) => c.name !== 'GlusterTsError' && /Error|Abort/.test(ancestors(c.name).join()),
);

interface ErrorClass {
  prototype: object;
  codes?: unknown;
}

async function load(c: ClassDecl): Promise<ErrorClass> {
  const module = (await import(join(ROOT, 'dist/src', c.file.replace(/\.ts$/, '.js')))) as Record<
    string,
    unknown
  >;
  const cls = module[c.name] as ErrorClass | undefined;
  assert.ok(cls, `${c.file}: ${c.name} is not exported`);
  return cls;
}

test('every error class in src derives from GlusterTsError and lists non-empty codes', async () => {
  assert.ok(errorClasses.length >= 17, `found ${errorClasses.map((c) => c.name).join(', ')}`);
  for (const c of errorClasses) {
    assert.ok(
      ancestors(c.name).includes('GlusterTsError'),
      `${c.file}: ${c.name} extends ${c.parent}, not GlusterTsError`,
    );
    const cls = await load(c);
    assert.ok(cls.prototype instanceof GlusterTsError, c.name);
    const codes = cls.codes;
    assert.ok(Array.isArray(codes) && codes.length > 0, `${c.name}.codes is empty`);
    for (const code of codes)
      assert.ok(typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code), `${c.name}: ${code}`);
  }
});

test('code, numeric errno and its name, and cause on every layer', () => {
  const rpc = new RpcError('RPC_TIMEOUT', 'call 1 timed out');
  assert.deepEqual(
    [rpc.code, rpc.errno, rpc.errnoName, rpc.name],
    ['RPC_TIMEOUT', 110, 'ETIMEDOUT', 'RpcError'],
  );
  const fop = FopError.of('ENOENT', 'no such entry', {});
  assert.deepEqual([fop.code, fop.errno, fop.errnoName], ['ENOENT', 2, 'ENOENT']);
  const wrapped = GlusterError.from(rpc, 'glfs_pread', '/a');
  assert.deepEqual([wrapped.code, wrapped.errno, wrapped.errnoName], ['ETIMEDOUT', 110, 'ETIMEDOUT']);
  assert.equal(wrapped.cause, rpc);
  assert.match(wrapped.message, /^ETIMEDOUT: glfs_pread '\/a' \(RPC_TIMEOUT\)$/);
  // A brick's errno outside the table keeps its number.
  const outside = GlusterError.from(new FopError(84), 'glfs_open');
  assert.deepEqual([outside.code, outside.errno], ['E#84', 84]);
  // A name outside the table (a DNS failure) is EIO, the name kept in the message.
  const dns = GlusterError.from(
    Object.assign(new Error('getaddrinfo ENOTFOUND x'), { code: 'ENOTFOUND' }),
    'glfs_init',
  );
  assert.deepEqual([dns.code, dns.errno], ['EIO', Errno.EIO]);
});

test('inside a fop, only errno-kind errors keep their errno: an error of another layer is a bug (EIO)', () => {
  const sys = Object.assign(new Error('ENODATA: getxattr'), {
    code: 'ENODATA',
    errno: 61,
    syscall: 'getxattr',
  });
  assert.equal(FopError.from(sys).errno, Errno.ENODATA);
  assert.equal(FopError.from(Object.assign(new Error('x'), { errno: -28 })).errno, Errno.ENOSPC);
  assert.equal(FopError.from(new GlusterError('ENOENT', 'glfs_stat')).errno, Errno.ENOENT);
  const bug = FopError.from(new XdrError('XDR_TRUNCATED', 'short'));
  assert.deepEqual([bug.code, bug.errno], ['EIO', Errno.EIO]);
  assert.match(bug.message, /^internal error: short$/);
  assert.equal(FopError.from(new Error('boom')).errno, Errno.EIO);
});

test('the errno table: names and numbers round-trip; aliases keep the first name', () => {
  for (const [name, n] of Object.entries(Errno)) {
    assert.ok(isErrnoName(name));
    assert.equal(Errno[errnoName(n) as keyof typeof Errno], n);
  }
  assert.equal(errnoName(95), 'EOPNOTSUPP');
  assert.equal(errnoName(9999), 'E#9999');
});

test('docs/errors.md lists every code of every error class', async () => {
  const doc = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
  const documented = new Set([...doc.matchAll(/^\|\s*`([A-Z][A-Z0-9_]*)`/gm)].map((m) => m[1]!));
  const missing = new Set<string>();
  for (const c of errorClasses) {
    for (const code of (await load(c)).codes as string[])
      if (!documented.has(code)) missing.add(`${code} (${c.name})`);
  }
  assert.deepEqual([...missing], [], 'codes missing from a table row of docs/errors.md');
  // No stale rows either: every documented code is one some class can carry.
  const known = new Set<string>();
  for (const c of errorClasses) for (const code of (await load(c)).codes as string[]) known.add(code);
  assert.deepEqual(
    [...documented].filter((code) => !known.has(code)),
    [],
    'docs/errors.md documents codes no error class has',
  );
});
