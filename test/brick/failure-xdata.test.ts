// A failed FOP carries the xdata its FopError holds onto the wire. Regression: DHT retries
// a MKDIR/CREATE whose parent layout went stale only when the failure reply's xdata has
// `glusterfs.preop.check.failed`; the brick used to send a NULL xdata with every failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { RpcClient, encodeCredential, glusterV3 } from '../../src/rpc/index.js';
import {
  DictType,
  Fops,
  HandshakeProcs,
  Program,
  ROOT_GFID,
  callProcedure,
  gfuuidValue,
  legacyDict,
  ptrValue,
  randomGfid,
  strValue,
} from '../../src/protocol/index.js';
import { Graph, parseVolfile } from '../../src/xlator/index.js';
import { posix } from '../../src/xlators/posix/index.js';
import { BrickServer } from '../../src/brick/server.js';
import { lsetxattr } from '../../src/sys/index.js';

test('MKDIR with a stale DHT parent layout: op_ret -1, EIO, xdata glusterfs.preop.check.failed = 1', async () => {
  const dir = await mkdtemp(join('/var/tmp', 'glusterts-brick-xdata-'));
  const graph = await Graph.build(
    parseVolfile(`volume b-posix\n type storage/posix\n option directory ${dir}\nend-volume\n`),
    new Map([[posix.type, posix]]),
  );
  const brick = new BrickServer({ graph, exportName: 'b-posix' });
  const server = await brick.listen('127.0.0.1', 0);
  const c = await RpcClient.connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
  const opts = { cred: encodeCredential(glusterV3(4321)), timeoutMs: 5000 };
  try {
    const sv = await callProcedure(
      c,
      Program.HANDSHAKE,
      HandshakeProcs.SETVOLUME,
      {
        dict: legacyDict({
          'process-uuid': 'dht-client',
          'remote-subvolume': 'b-posix',
          'fops-version': '1298437',
        }),
      },
      opts,
    );
    assert.equal(sv.opRet, 0);
    await lsetxattr(dir, 'trusted.glusterfs.dht', Buffer.from('00000001000000000000000055555554', 'hex'), 0);
    const mkdir = (layout: string) =>
      callProcedure(
        c,
        Program.FOP,
        Fops.MKDIR,
        {
          pargfid: ROOT_GFID,
          mode: 0o755,
          umask: 0o022,
          bname: 'dir1',
          xdata: new Map([
            ['gfid-req', gfuuidValue(randomGfid())],
            ['trusted.glusterfs.dht', ptrValue(Buffer.from(layout, 'hex'))],
            ['glusterfs.preop.parent.key', strValue('trusted.glusterfs.dht')],
          ]),
        },
        opts,
      );
    const stale = await mkdir('00000001000000005555555555555554');
    assert.deepEqual([stale.opRet, stale.opErrno], [-1, 5]);
    assert.deepEqual(stale.xdata?.get('glusterfs.preop.check.failed'), { type: DictType.INT, value: 1n });
    const fresh = await mkdir('00000001000000000000000055555554');
    assert.equal(fresh.opRet, 0);
  } finally {
    c.close();
    await brick.close();
    await graph.fini();
    await rm(dir, { recursive: true, force: true });
  }
});
