// The fd use declared in each FOP row (src/protocol/fops.ts) must agree with the row's
// codecs: the brick and protocol/client convert fds from it alone (src/xlator/wire.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fops, fdFields, fopDef, zeroValue, type FopName } from '../../src/protocol/index.js';

const names = (Object.keys(Fops) as FopName[]).filter((n) => n !== 'NULL');
const fieldsOf = (value: unknown): string[] => Object.keys(value as object);

test('every field named as an fd, and its gfid field, exists in the args codec', () => {
  for (const name of names) {
    const args = fieldsOf(zeroValue(fopDef(name).args));
    for (const [fd, gfid] of fdFields(name)) {
      assert.ok(args.includes(fd), `${name}: fd field ${fd} is not in the args`);
      assert.ok(args.includes(gfid), `${name}: gfid field ${gfid} of ${fd} is not in the args`);
    }
  }
});

test('every args field that looks like an fd is declared as one', () => {
  for (const name of names) {
    const declared = fdFields(name).map(([fd]) => fd);
    for (const field of fieldsOf(zeroValue(fopDef(name).args))) {
      if (/^fd/.test(field)) assert.ok(declared.includes(field), `${name}: ${field} is not declared in fds`);
    }
  }
});

test('fops that open reply with fd and take none; releases take the fd they close', () => {
  const opening = names.filter((n) => fopDef(n).opens);
  assert.deepEqual(opening.sort(), ['CREATE', 'OPEN', 'OPENDIR']);
  for (const name of opening) {
    assert.ok(fieldsOf(zeroValue(fopDef(name).results)).includes('fd'), `${name}: no fd in the results`);
    assert.deepEqual(fdFields(name), [], `${name} opens an fd; it takes none`);
  }
  assert.equal(fopDef('OPENDIR').opens, 'dir');
  const releasing = names.filter((n) => fopDef(n).releases);
  assert.deepEqual(releasing.sort(), ['RELEASE', 'RELEASEDIR']);
  for (const name of releasing) assert.deepEqual(fdFields(name), [['fd', 'gfid']]);
});

test('the anonymous fd is allowed only on fops that take an fd', () => {
  const anonymous = names.filter((n) => fopDef(n).anonymous);
  assert.deepEqual(anonymous.sort(), ['COPY_FILE_RANGE', 'FINODELK', 'FSYNC', 'FXATTROP', 'READ', 'WRITE']);
  for (const name of anonymous) assert.ok(fdFields(name).length > 0, name);
  assert.deepEqual(fdFields('COPY_FILE_RANGE'), [
    ['fdIn', 'gfid1'],
    ['fdOut', 'gfid2'],
  ]);
});
