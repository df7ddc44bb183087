// The permission rules alone (src/xlators/access-control/permissions.ts): mode bits, ACLs,
// sticky directories, SETATTR and xattr scrutiny, open modes, new-inode and
// after-write modes, and who is exempt (root, super-uid, negative pids).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AclTag,
  encodeAcl,
  inheritAcl,
  isExtended,
  parseAcl,
  type AclEntry,
} from '../../../src/xlators/access-control/acl.js';
import {
  R,
  W,
  X,
  checkGetxattr,
  checkSetattr,
  checkSetxattr,
  isExempt,
  modeAfterWrite,
  newInodeMode,
  openWant,
  permits,
  stickyPermits,
  type InodePerms,
} from '../../../src/xlators/access-control/permissions.js';
import type { Caller } from '../../../src/xlator/translator.js';
import { SetattrValid as Valid } from '../../../src/protocol/iatt.js';

const who = (uid: number, gid = uid, groups: number[] = [], pid = 100): Caller => ({
  uid,
  gid,
  groups,
  pid,
  lkOwner: Buffer.alloc(0),
});
const user = who(1000);
const file = (mode: number, uid = 0, gid = 0, acl: AclEntry[] | null = null): InodePerms => ({
  uid,
  gid,
  mode: 0o100000 | mode,
  acl,
});
const dir = (mode: number, uid = 0, gid = 0): InodePerms => ({ uid, gid, mode: 0o040000 | mode, acl: null });
const NONE = 0xffffffff;

test('mode bits: owner, group (primary or supplementary), other; the first class that matches decides', () => {
  assert.ok(permits(user, file(0o600, 1000), R | W));
  assert.ok(!permits(user, file(0o066, 1000), R), 'the owner class decides even when others may');
  assert.ok(permits(user, file(0o640, 0, 1000), R));
  assert.ok(!permits(user, file(0o640, 0, 1000), W));
  assert.ok(permits(who(1000, 1000, [2000]), file(0o040, 0, 2000), R), 'supplementary group');
  assert.ok(!permits(user, file(0o604, 0, 1000), R), 'group class decides for members');
  assert.ok(permits(user, file(0o604, 0, 0), R));
  assert.ok(!permits(user, file(0o606, 0, 0), R | X));
});

test('exempt callers: uid 0, the super-uid, negative pids (self-heal -6, rebalance -3)', () => {
  const secret = file(0o000);
  assert.ok(permits(who(0), secret, R | W | X));
  assert.ok(permits(who(500), secret, R, 500), 'super-uid');
  assert.ok(permits(who(1000, 1000, [], -6), secret, W));
  assert.ok(isExempt(who(1000, 1000, [], -3)));
  assert.ok(!isExempt(user));
});

test('ACLs: named user and groups through the mask; a matching group without the bits refuses', () => {
  const acl = [
    { tag: AclTag.USER_OBJ, perm: 7, id: NONE },
    { tag: AclTag.USER, perm: 6, id: 1000 },
    { tag: AclTag.GROUP_OBJ, perm: 0, id: NONE },
    { tag: AclTag.GROUP, perm: 4, id: 3000 },
    { tag: AclTag.MASK, perm: 4, id: NONE },
    { tag: AclTag.OTHER, perm: 0, id: NONE },
  ];
  const f = file(0o740, 0, 0, acl);
  assert.ok(permits(user, f, R));
  assert.ok(!permits(user, f, W), 'the mask limits the named user');
  assert.ok(permits(who(2000, 2000, [3000]), f, R), 'named group');
  assert.ok(!permits(who(2000, 0), f, R), 'owning group entry has no bits: no fallback to other');
  assert.ok(!permits(who(2000), f, R), 'other');
  const parsed = parseAcl(encodeAcl(acl));
  assert.deepEqual(parsed, acl);
  assert.ok(isExtended(parsed));
  assert.equal(parseAcl(Buffer.from([1, 0, 0, 0])), null, 'wrong version');
  assert.equal(parseAcl(Buffer.alloc(7)), null, 'truncated');
});

test('sticky directories: only the directory owner or the entry owner removes or replaces', () => {
  const tmp = dir(0o1777);
  assert.ok(!stickyPermits(user, tmp, file(0o666)));
  assert.ok(stickyPermits(user, tmp, file(0o644, 1000)));
  assert.ok(stickyPermits(user, dir(0o1777, 1000), file(0o644)));
  assert.ok(stickyPermits(user, dir(0o777), file(0o644)), 'not sticky');
  assert.ok(stickyPermits(who(0), tmp, file(0o644)));
});

test('open flags: access mode, O_TRUNC and O_APPEND need write, O_FMODE_EXEC needs execute', () => {
  assert.equal(openWant(0), R);
  assert.equal(openWant(1), W);
  assert.equal(openWant(2), R | W);
  assert.equal(openWant(0o1000), R | W);
  assert.equal(openWant(0o2001), W);
  assert.equal(openWant(0o40), X);
});

test('SETATTR: chmod by the owner (sgid dropped outside the group), chown by root, chgrp to own groups', () => {
  const mine = file(0o644, 1000, 1000);
  const attrs = (mode: number, uid = 0, gid = 0) => ({ mode, uid, gid });
  assert.deepEqual(checkSetattr(user, file(0o666), Valid.MODE, attrs(0o777)), { refuse: 'EPERM' });
  assert.deepEqual(checkSetattr(user, mine, Valid.MODE, attrs(0o2755)), { mode: 0o2755 });
  assert.deepEqual(checkSetattr(user, file(0o644, 1000, 5), Valid.MODE, attrs(0o2755)), { mode: 0o755 });
  assert.deepEqual(checkSetattr(user, mine, Valid.UID, attrs(0, 0)), { refuse: 'EPERM' });
  assert.deepEqual(checkSetattr(user, mine, Valid.UID, attrs(0, 1000)), { mode: 0 }, 'chown to itself');
  assert.deepEqual(checkSetattr(user, file(0o666), Valid.UID, attrs(0, 0)), { refuse: 'EPERM' });
  assert.deepEqual(checkSetattr(user, mine, Valid.GID, attrs(0, 0, 1000)), { mode: 0 });
  assert.deepEqual(checkSetattr(user, mine, Valid.GID, attrs(0, 0, 0)), { refuse: 'EPERM' });
  assert.deepEqual(checkSetattr(who(1000, 1000, [77]), mine, Valid.GID, attrs(0, 0, 77)), { mode: 0 });
  assert.deepEqual(checkSetattr(user, file(0o666), Valid.GID, attrs(0, 0, 1000)), { refuse: 'EPERM' });
  assert.deepEqual(checkSetattr(who(0), file(0o600), Valid.UID | Valid.MODE, attrs(0o7777, 5)), {
    mode: 0o7777,
  });
});

test('SETATTR: times by the owner or a writer (as stock, explicit ones too); size by a writer', () => {
  const now = Valid.ATIME | Valid.MTIME | Valid.ATIME_NOW | Valid.MTIME_NOW;
  const a = { mode: 0, uid: 0, gid: 0 };
  assert.deepEqual(checkSetattr(user, file(0o666), now, a), { mode: 0 });
  assert.deepEqual(checkSetattr(user, file(0o666), Valid.ATIME | Valid.MTIME, a), { mode: 0 });
  assert.deepEqual(checkSetattr(user, file(0o644), now, a), { refuse: 'EACCES' });
  assert.deepEqual(checkSetattr(user, file(0o444, 1000), Valid.MTIME, a), { mode: 0 }, 'owner');
  assert.deepEqual(checkSetattr(user, file(0o644), Valid.SIZE, a), { refuse: 'EACCES' });
  assert.deepEqual(checkSetattr(user, file(0o646), Valid.SIZE, a), { mode: 0 });
  assert.deepEqual(checkSetattr(user, dir(0o755), Valid.SIZE, a), { mode: 0 }, "DHT's valid=all on dirs");
});

test('xattrs: trusted.* and security.* only for root and daemons; ACLs by the owner; the rest by permission', () => {
  const mine = file(0o644, 1000);
  assert.equal(checkSetxattr(user, mine, ['trusted.x'], false), 'EPERM');
  assert.equal(checkSetxattr(user, mine, ['security.x'], true), 'EPERM');
  assert.equal(checkSetxattr(who(1000, 1000, [], -6), file(0o600), ['trusted.afr.x'], false), null);
  assert.equal(checkSetxattr(who(0), file(0o600), ['trusted.x'], false), null);
  assert.equal(checkSetxattr(user, mine, ['user.a'], false), null);
  assert.equal(checkSetxattr(user, file(0o644), ['user.a'], false), 'EACCES');
  assert.equal(checkSetxattr(user, file(0o666), ['user.a'], true), null);
  assert.equal(checkSetxattr(user, file(0o666), ['system.posix_acl_access'], false), 'EPERM');
  assert.equal(checkSetxattr(user, file(0o444, 1000), ['system.posix_acl_access'], false), null);
  assert.equal(checkSetxattr(user, file(0o444, 1000), ['system.posix_acl_access'], true), 'EACCES');
  assert.equal(
    checkSetxattr(who(1000, 1000, [], -6), file(0o666), ['system.posix_acl_default'], false),
    'EPERM',
    'ACL ownership binds daemons with a non-root uid, as stock',
  );
  assert.equal(checkGetxattr(user, file(0o600), 'user.a'), 'EACCES');
  assert.equal(checkGetxattr(user, file(0o600), ''), 'EACCES', 'listing needs read');
  assert.equal(checkGetxattr(user, file(0o600), 'system.posix_acl_access'), null);
  assert.equal(checkGetxattr(user, file(0o604), 'user.a'), null);
});

test('new inodes under a setgid parent lose setgid-exec outside its group; writes drop setuid', () => {
  const sgidParent = dir(0o2777, 0, 50);
  assert.equal(newInodeMode(user, sgidParent, 0o102750), 0o100750);
  assert.equal(newInodeMode(who(1000, 1000, [50]), sgidParent, 0o102750), 0o102750);
  assert.equal(newInodeMode(user, sgidParent, 0o042750), 0o042750, 'directories keep it');
  assert.equal(newInodeMode(user, dir(0o777), 0o102750), 0o102750, 'parent not setgid: own group');
  assert.equal(modeAfterWrite(0o106777), 0o100777);
  assert.equal(modeAfterWrite(0o102640), 0o102640, 'setgid without group execute is mandatory locking');
  assert.equal(modeAfterWrite(0o100755), 0o100755);
});

test('default ACL inheritance: the mode limits owner, mask and other entries, and the mode follows them', () => {
  const defaults = [
    { tag: AclTag.USER_OBJ, perm: 7, id: NONE },
    { tag: AclTag.USER, perm: 5, id: 1000 },
    { tag: AclTag.GROUP_OBJ, perm: 0, id: NONE },
    { tag: AclTag.MASK, perm: 5, id: NONE },
    { tag: AclTag.OTHER, perm: 0, id: NONE },
  ];
  const { acl, mode } = inheritAcl(defaults, 0o100664);
  assert.equal(mode, 0o100640, 'as stock 10.3 answered for a 0664 create');
  assert.deepEqual(
    acl.map((e) => e.perm),
    [6, 5, 0, 4, 0],
  );
  assert.equal(defaults[0]!.perm, 7, 'the parent default is not changed');
  const dirMode = inheritAcl(defaults, 0o040775).mode;
  assert.equal(dirMode, 0o040750);
});
