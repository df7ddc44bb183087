// src/xlator/wire.ts: the one conversion between wire fd numbers and OpenFds, as the
// brick (wire → graph → wire) and protocol/client (graph → wire → graph) use it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Errno, FopError, gfuuidValue, randomGfid } from '../../src/protocol/index.js';
import {
  ANONYMOUS_FD,
  FdTable,
  OpenFd,
  openedFd,
  requestFromWire,
  requestToWire,
  resultsFromWire,
  resultsToWire,
} from '../../src/xlator/index.js';

test('brick: fd numbers become the session OpenFds, -2 an anonymous one on its gfid field, unknown ones EBADF', () => {
  const fds = new FdTable();
  const file = new OpenFd(randomGfid(), 2, false);
  const n = fds.allocate(file);
  const get = (k: number) => fds.get(k);
  const read = requestFromWire(
    'READ',
    { gfid: file.gfid, fd: n, offset: 0, size: 1, flag: 0, xdata: null },
    get,
  );
  assert.equal(read.fd, file);

  const [gfid1, gfid2] = [randomGfid(), randomGfid()];
  const copy = requestFromWire(
    'COPY_FILE_RANGE',
    { gfid1, gfid2, fdIn: ANONYMOUS_FD, fdOut: n, offIn: 0, offOut: 0, size: 1, flag: 0, xdata: null },
    get,
  );
  assert.ok(copy.fdIn.anonymous);
  assert.deepEqual(copy.fdIn.gfid, gfid1);
  assert.equal(copy.fdOut, file);

  assert.throws(
    () => requestFromWire('FSTAT', { gfid: file.gfid, fd: n + 1, xdata: null }, get),
    (e: unknown) => e instanceof FopError && e.errno === Errno.EBADF,
  );
});

test('brick: opening fops get a new OpenFd (CREATE on its gfid-req); replies carry its number', () => {
  const gfid = randomGfid();
  const open = requestFromWire('OPEN', { gfid, flags: 2, xdata: null }, () => undefined);
  assert.deepEqual([open.fd.gfid, open.fd.flags, open.fd.isDirectory], [gfid, 2, false]);
  assert.equal(openedFd('OPEN', open), open.fd);

  const dir = requestFromWire('OPENDIR', { gfid, xdata: null }, () => undefined);
  assert.ok(dir.fd.isDirectory);

  const want = randomGfid();
  const create = requestFromWire(
    'CREATE',
    {
      pargfid: gfid,
      flags: 0o101,
      mode: 0o644,
      umask: 0o22,
      bname: 'f',
      xdata: new Map([['gfid-req', gfuuidValue(want)]]),
    },
    () => undefined,
  );
  assert.deepEqual(create.fd.gfid, want);

  assert.deepEqual(resultsToWire('OPENDIR', { xdata: null }, 7), {
    xdata: null,
    opRet: 0,
    opErrno: 0,
    fd: 7,
  });
  assert.deepEqual(resultsToWire('RELEASE', undefined), { opRet: 0, opErrno: 0, xdata: new Map() });
  assert.equal(openedFd('STAT', { gfid, xdata: null }), undefined);
});

test('client: OpenFds become the numbers the callback gives; opening fops send none and get theirs back', () => {
  const file = new OpenFd(randomGfid(), 0, false);
  const seen: unknown[] = [];
  const args = requestToWire('FSYNC', { gfid: file.gfid, fd: file, data: 0, xdata: null }, (fd) => {
    seen.push(fd);
    return 5;
  });
  assert.deepEqual(seen, [file]);
  assert.equal(args.fd, 5);

  const open = requestToWire('OPEN', { gfid: file.gfid, flags: 0, xdata: null, fd: file }, () => 9);
  assert.ok(!('fd' in open));
  const { reply, fd } = resultsFromWire('OPEN', { opRet: 0, opErrno: 0, xdata: null, fd: 3 });
  assert.equal(fd, 3);
  assert.ok(!('fd' in reply));
  assert.equal(resultsFromWire('FLUSH', { opRet: 0, opErrno: 0, xdata: null }).fd, undefined);
});
