// The etcd-backed cluster store against a real one-member etcd (on 127.0.0.1, free ports):
// a change is one transaction, a daemon that has not seen the latest state gets
// StaleStateError and nothing of its change lands, the watch delivers other daemons' changes
// in order, and an unreachable store fails the change with a
// deadline instead of hanging.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { requirePeer } from '../../src/peers/index.js';
import { waitFor } from '../../src/peers/process.js';
import { EtcdClusterStore, StaleStateError, type PeerRecord } from '../../src/mgmt/cluster-store.js';
import { EtcdClient } from '../../src/mgmt/etcd.js';
import { EtcdMemberProcess } from '../../src/mgmt/etcd-member.js';
import type { VolumeRecord } from '../../src/mgmt/volume.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

const vol = (name: string, status: VolumeRecord['status'] = 'created'): VolumeRecord => ({
  name,
  id: randomUUID(),
  status,
  bricks: [{ host: '198.18.0.1', path: `/bricks/${name}` }],
  options: {},
});

test('etcd cluster store: all-or-nothing commits, stale writers refused, watch in order', async (t) => {
  if (!requirePeer('etcd', t)) return;
  const data = mkdtempSync(join(tmpdir(), 'gts-etcd-'));
  const member = await EtcdMemberProcess.start({
    data,
    name: randomUUID(),
    host: '127.0.0.1',
    clientPort: await freePort(),
    peerPort: await freePort(),
  });
  const a = new EtcdClusterStore(member.client);
  const b = new EtcdClusterStore(new EtcdClient(member.client.endpoint));
  try {
    assert.deepEqual(await a.load(), { volumes: [], peers: [] });
    assert.deepEqual(await b.load(), { volumes: [], peers: [] });
    const seenByB: [string, string | undefined][] = [];
    const peersSeenByB: [string, PeerRecord | undefined][] = [];

    const self: PeerRecord = { uuid: randomUUID(), host: '198.18.0.1', port: 24007 };
    await a.commit({ putPeer: self, putVolume: vol('v1') });
    // b has not seen a's change yet: its commit is refused whole.
    const stale = vol('v2');
    await assert.rejects(b.commit({ putVolume: stale }), StaleStateError);
    assert.deepEqual(
      (await a.load()).volumes.map((v) => v.name),
      ['v1'],
      'nothing of the refused change landed',
    );
    // Once b's watch delivered a's change (from the revision b loaded on), b may commit.
    b.watch({
      volume: (name, r) => seenByB.push([name, r?.status]),
      peer: (uuid, r) => peersSeenByB.push([uuid, r]),
    });
    await waitFor('b to see v1', () => (seenByB.length ? true : undefined), 5000);
    assert.deepEqual(seenByB, [['v1', 'created']]);
    assert.deepEqual(peersSeenByB, [[self.uuid, self]]);
    await b.commit({ putVolume: stale });
    await b.commit({ putVolume: { ...stale, status: 'started' } });
    await b.commit({ removeVolume: 'v1' });
    // b's own commits come back only if the watch outran the commit's answer (the manager
    // takes a record equal to the one it holds as no change), and then in commit order.
    await new Promise((r) => setTimeout(r, 300));
    const own = [
      ['v2', 'created'],
      ['v2', 'started'],
      ['v1', undefined],
    ];
    const echoed = seenByB.slice(1).map((e) => own.findIndex((o) => o[0] === e[0] && o[1] === e[1]));
    assert.ok(
      echoed.every((i, k) => i >= 0 && (k === 0 || i > echoed[k - 1]!)),
      JSON.stringify(seenByB),
    );
    // a is stale now until it reloads.
    await assert.rejects(a.commit({ putVolume: vol('v3') }), StaleStateError);
    const state = await a.load();
    assert.deepEqual(
      state.volumes.map((v) => [v.name, v.status]),
      [['v2', 'started']],
    );
    await a.commit({ removeVolume: 'v2' });
    await waitFor(
      'b to see v2 go',
      () => (seenByB.at(-1)?.[0] === 'v2' && seenByB.at(-1)?.[1] === undefined ? true : undefined),
      5000,
    );
    assert.deepEqual(seenByB.at(-1), ['v2', undefined]);

    // A store that does not answer fails the change within the client's deadline.
    await member.stop();
    const t0 = Date.now();
    await assert.rejects(a.commit({ putVolume: vol('v4') }), /etcd at http:\/\/127\.0\.0\.1:\d+/);
    assert.ok(Date.now() - t0 < 6000);
  } finally {
    a.close();
    b.close();
    await member.stop();
    rmSync(data, { recursive: true, force: true });
  }
});
