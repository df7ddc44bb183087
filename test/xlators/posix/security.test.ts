// Hostile input: bad basenames, symlinks in the brick that point outside it, tampered and
// swapped directory handles, device nodes (CVE-2018-10923), reused or root gfids, huge
// sizes. Nothing outside the brick may be read, written or created.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  link,
  mkdtemp,
  readFile,
  readdir,
  rename,
  rm,
  stat,
  symlink,
  unlink,
  writeFile,
  mkdir as fsMkdir,
} from 'node:fs/promises';
import { join } from 'node:path';
import { gfuuidValue } from '../../../src/protocol/dict.js';
import { ROOT_GFID, gfidToString, randomGfid } from '../../../src/protocol/gfid.js';
import { zeroIatt } from '../../../src/protocol/iatt.js';
import { listxattr, mknod } from '../../../src/sys/index.js';
import { OpenFd } from '../../../src/xlator/index.js';
import { create, fails, lookup, makeBrick, mkdir, open, read, req, write } from './helpers.js';

test('basenames: "/", NUL, ".", "..", empty, too long and the handle store are refused for every entry fop', async () => {
  const b = await makeBrick();
  try {
    const d = await mkdir(b, 'd');
    const f = await create(b, 'f');
    const bad: [string, string][] = [
      ['../escape', 'EPERM'],
      ['a/b', 'EPERM'],
      ['nul\0x', 'EPERM'],
      ['.', 'EPERM'],
      ['..', 'EPERM'],
      ['', 'EINVAL'],
      ['x'.repeat(256), 'ENAMETOOLONG'],
    ];
    for (const [name, code] of bad) {
      const fd = new OpenFd(randomGfid(), 0, false);
      await fails(
        b.call('CREATE', {
          pargfid: d.gfid,
          flags: 0o102,
          mode: 0o644,
          umask: 0,
          bname: name,
          xdata: req(),
          fd,
        }),
        code,
      );
      await fails(
        b.call('MKDIR', { pargfid: d.gfid, mode: 0o755, umask: 0, bname: name, xdata: req() }),
        code,
      );
      await fails(
        b.call('MKNOD', { pargfid: d.gfid, dev: 0n, mode: 0o010644, umask: 0, bname: name, xdata: req() }),
        code,
      );
      await fails(
        b.call('SYMLINK', { pargfid: d.gfid, bname: name, umask: 0, linkname: 'x', xdata: req() }),
        code,
      );
      await fails(b.call('LINK', { oldgfid: f.gfid, newgfid: d.gfid, newbname: name, xdata: null }), code);
      await fails(
        b.call('RENAME', { oldgfid: ROOT_GFID, newgfid: d.gfid, oldbname: 'f', newbname: name, xdata: null }),
        code,
      );
      await fails(b.call('UNLINK', { pargfid: d.gfid, bname: name, xflags: 0, xdata: null }), code);
      await fails(b.call('RMDIR', { pargfid: d.gfid, xflags: 0, bname: name, xdata: null }), code);
    }
    await fails(lookup(b, d.gfid, '../d'), 'EPERM');
    await fails(mkdir(b, '.glusterfs'), 'EPERM');
    await fails(
      b.call('RENAME', {
        oldgfid: ROOT_GFID,
        newgfid: ROOT_GFID,
        oldbname: '.glusterfs',
        newbname: 'x',
        xdata: null,
      }),
      'EPERM',
    );
    await fails(
      b.call('RMDIR', { pargfid: ROOT_GFID, xflags: 0, bname: '.glusterfs', xdata: null }),
      'EPERM',
    );
    assert.deepEqual((await readdir(join(b.dir, 'd'))).sort(), [], 'nothing was created');
    // Creation gfids: the root's, or none, are refused.
    await fails(
      b.call('MKDIR', {
        pargfid: ROOT_GFID,
        mode: 0o755,
        umask: 0,
        bname: 'r',
        xdata: new Map([['gfid-req', gfuuidValue(ROOT_GFID)]]),
      }),
      'EINVAL',
    );
    await fails(
      b.call('SYMLINK', { pargfid: ROOT_GFID, bname: 's', umask: 0, linkname: 'x', xdata: null }),
      'EINVAL',
    );
    await fails(read(b, f.fd, 0, 0x7fffffff), 'EINVAL');
  } finally {
    await b.close();
  }
});

test('symlinks stored in the brick are never followed, whatever they point at', async () => {
  const outside = await mkdtemp('/var/tmp/glusterts-outside-');
  const b = await makeBrick();
  try {
    const secret = join(outside, 'secret');
    await writeFile(secret, 'outside data');
    const before = await stat(secret);
    const targets: Record<string, string> = {
      abs: secret,
      absdir: outside,
      up: '../../..',
      upfile: `../../../..${secret}`,
    };
    const gfids: Record<string, Buffer> = {};
    for (const [name, target] of Object.entries(targets)) {
      gfids[name] = randomGfid();
      await b.call('SYMLINK', {
        pargfid: ROOT_GFID,
        bname: name,
        umask: 0,
        linkname: target,
        xdata: req(gfids[name]),
      });
    }
    // A symlink planted directly in the brick, adopted by a LOOKUP.
    await symlink(outside, join(b.dir, 'planted'));
    gfids.planted = randomGfid();
    const l = await lookup(b, ROOT_GFID, 'planted', req(gfids.planted));
    assert.equal(l.prestat.mode & 0o170000, 0o120000, 'LOOKUP reports the link itself');

    for (const [name, g] of Object.entries(gfids)) {
      const st = await b.call('STAT', { gfid: g, xdata: null });
      assert.equal(st.stat.mode & 0o170000, 0o120000, `${name}: stat of the link, not its target`);
      await fails(
        b.call('CREATE', {
          pargfid: g,
          flags: 0o102,
          mode: 0o644,
          umask: 0,
          bname: 'pwn',
          xdata: req(),
          fd: new OpenFd(randomGfid(), 0, false),
        }),
        'ENOTDIR',
      );
      await fails(
        b.call('MKDIR', { pargfid: g, mode: 0o755, umask: 0, bname: 'pwn', xdata: req() }),
        'ENOTDIR',
      );
      await fails(
        b.call('OPEN', { gfid: g, flags: 0o2, xdata: null, fd: new OpenFd(g, 0o2, false) }),
        'EINVAL',
      );
      await fails(b.call('OPENDIR', { gfid: g, xdata: null, fd: new OpenFd(g, 0, true) }), 'ENOTDIR');
      await fails(read(b, OpenFd.anonymous(g), 0, 100), 'EINVAL');
      await fails(write(b, OpenFd.anonymous(g), 0, 'pwned'), 'EINVAL');
      await fails(b.call('TRUNCATE', { gfid: g, offset: 0, xdata: null }), 'EINVAL');
      await b.call('SETATTR', {
        gfid: g,
        stbuf: { ...zeroIatt(), mode: 0o777, uid: 4321, atime: 5, mtime: 5 },
        valid: 0x1 | 0x2 | 0x10 | 0x20,
        xdata: null,
      });
      await b.call('SETXATTR', {
        gfid: g,
        flags: 0,
        dict: new Map([['trusted.pwn', { type: 6, value: Buffer.from('x') }]]),
        xdata: null,
      });
      await fails(
        b.call('LOOKUP', { gfid: Buffer.alloc(16), pargfid: g, flags: 0, bname: 'secret', xdata: null }),
        'ENOTDIR',
      );
    }
    const after = await stat(secret);
    assert.equal(await readFile(secret, 'utf8'), 'outside data');
    assert.deepEqual(
      [after.mode, after.uid, after.mtimeMs, after.size],
      [before.mode, before.uid, before.mtimeMs, before.size],
    );
    assert.ok(!(await listxattr(secret)).includes('trusted.pwn'));
    assert.ok(!(await listxattr(outside)).includes('trusted.pwn'));
    assert.deepEqual((await readdir(outside)).sort(), ['secret'], 'nothing created outside');
  } finally {
    await b.close();
    await rm(outside, { recursive: true, force: true });
  }
});

test('a directory swapped for a symlink, or a tampered handle, leads nowhere outside the brick', async () => {
  const outside = await mkdtemp('/var/tmp/glusterts-outside-');
  const b = await makeBrick();
  try {
    const a = await mkdir(b, 'a');
    // Swap: the directory moves away behind posix's back, a symlink to outside takes its name.
    await rename(join(b.dir, 'a'), join(b.dir, 'a-moved'));
    await symlink(outside, join(b.dir, 'a'));
    await fails(create(b, 'x', a.gfid), 'ESTALE');
    await fails(b.call('STAT', { gfid: a.gfid, xdata: null }), 'ESTALE');
    await unlink(join(b.dir, 'a'));
    // Tampered handle: absolute symlink to outside.
    const c = await mkdir(b, 'c');
    const s = gfidToString(c.gfid);
    const h = join(b.dir, '.glusterfs', s.slice(0, 2), s.slice(2, 4), s);
    await unlink(h);
    await symlink(outside, h);
    await fails(create(b, 'x', c.gfid), 'ESTALE');
    // A handle that leads to another directory inside the brick is refused too (gfid check).
    await unlink(h);
    await symlink('../../00/00/00000000-0000-0000-0000-000000000001/a-moved', h);
    await fails(b.call('STAT', { gfid: c.gfid, xdata: null }), 'ESTALE');
    await fsMkdir(join(outside, 'sub')); // the outside dir stays as it was, apart from this
    assert.deepEqual((await readdir(outside)).sort(), ['sub']);
  } finally {
    await b.close();
    await rm(outside, { recursive: true, force: true });
  }
});

test('device nodes can be made but not opened, read, written or truncated (CVE-2018-10923)', async () => {
  const b = await makeBrick();
  try {
    const chr = randomGfid();
    await b.call('MKNOD', {
      pargfid: ROOT_GFID,
      dev: 0x103n,
      mode: 0o020666,
      umask: 0,
      bname: 'null',
      xdata: req(chr),
    });
    const blk = randomGfid();
    await b.call('MKNOD', {
      pargfid: ROOT_GFID,
      dev: 0x700n,
      mode: 0o060600,
      umask: 0,
      bname: 'loop',
      xdata: req(blk),
    });
    const fifo = randomGfid();
    await b.call('MKNOD', {
      pargfid: ROOT_GFID,
      dev: 0n,
      mode: 0o010600,
      umask: 0,
      bname: 'fifo',
      xdata: req(fifo),
    });
    for (const g of [chr, blk, fifo]) {
      await fails(open(b, g), 'EINVAL');
      await fails(read(b, OpenFd.anonymous(g), 0, 10), 'EINVAL');
      await fails(write(b, OpenFd.anonymous(g), 0, 'x'), 'EINVAL');
      await fails(b.call('TRUNCATE', { gfid: g, offset: 0, xdata: null }), 'EINVAL');
      await fails(
        b.call('SETATTR', { gfid: g, stbuf: { ...zeroIatt(), size: 0 }, valid: 0x8, xdata: null }),
        'EINVAL',
      );
    }
    const fd = new OpenFd(randomGfid(), 0o2, false);
    await fails(
      b.call('CREATE', {
        pargfid: ROOT_GFID,
        flags: 0o2 | 0o100,
        mode: 0o644,
        umask: 0,
        bname: 'null',
        xdata: req(),
        fd,
      }),
      'EINVAL',
    );
  } finally {
    await b.close();
  }
});

test('CREATE of an existing name never opens a FIFO swapped in under it (opens what it checked)', async () => {
  const b = await makeBrick();
  // Outside the brick's namespace (no gfid), swapped in by rename as a hostile local process would.
  const fifo = join(b.dir, 'swap-fifo');
  const file = join(b.dir, 'swap-file');
  await mknod(fifo, 0o010600);
  await writeFile(file, 'x');
  let racing = true;
  const racer = (async () => {
    for (let i = 0; racing; i++) {
      const tmp = join(b.dir, `tmp${i}`);
      await link(i % 2 ? fifo : file, tmp);
      await rename(tmp, join(b.dir, 'x'));
    }
  })();
  try {
    let served = 0;
    let refused = 0;
    for (let i = 0; i < 200; i++) {
      const fd = new OpenFd(randomGfid(), 0o1, false);
      // O_WRONLY without O_EXCL: open(2) of a FIFO with no reader would block for ever.
      const creating = b.call('CREATE', {
        pargfid: ROOT_GFID,
        flags: 0o1 | 0o100,
        mode: 0o644,
        umask: 0,
        bname: 'x',
        xdata: req(),
        fd,
      });
      const outcome = await Promise.race([
        creating.then(
          () => 'served',
          (e: unknown) => (e as { code?: string }).code ?? 'error',
        ),
        new Promise<string>((ok) => setTimeout(() => ok('hung'), 2000).unref()),
      ]);
      assert.notEqual(outcome, 'hung', `CREATE ${i} opened the FIFO`);
      if (outcome === 'served') {
        served++;
        await b.call('RELEASE', { gfid: fd.gfid, fd, xdata: null });
      } else {
        assert.ok(['EINVAL', 'ESTALE', 'ENOENT', 'EEXIST'].includes(outcome), outcome);
        refused++;
      }
    }
    assert.ok(served + refused === 200);
  } finally {
    racing = false;
    await racer.catch(() => undefined);
    await b.close();
  }
});
