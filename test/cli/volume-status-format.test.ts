import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatStatus } from '../../src/cli/commands/volume.js';

test('volume status: a brick name too long for its column gets a line of its own (regression)', () => {
  const long = '/var/tmp/glusterts-e2e-abcdef/bricks/vms-0';
  const short = '/b/v0';
  const out = formatStatus(
    [
      {
        name: 'vms',
        status: 'started',
        bricks: [
          { brick: `127.0.0.7:${long}`, port: 35309, online: true, pid: 4242 },
          { brick: `127.0.0.7:${short}`, port: 35310, online: false, pid: undefined },
        ],
      } as never,
    ],
    true,
  );
  const lines = out.split('\n');
  const at = lines.findIndex((l) => l === `Brick 127.0.0.7:${long}`);
  assert.ok(at > 0, out);
  assert.match(lines[at + 1]!, /^ {44}35309\s+0\s+Y\s+4242$/);
  assert.match(out, /^Brick 127\.0\.0\.7:\/b\/v0\s+35310\s+0\s+N\s+N\/A$/m);
});
