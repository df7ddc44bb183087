// DoS probes against `glusterts up` (a daemon and a brick process, docs/limits.md), while a
// well-behaved TS client reads, writes and opens files the whole time:
// - 1,000 connections to the brick that never authenticate;
// - a 500 MiB record mark to the daemon and to the brick before authentication;
// - 64 pipelined 512 MiB READs on one authenticated connection that never reads its replies;
// - 70,000 OPENs on one session;
// - OPENs racing disconnects.
// Bounds: the brick's RSS stays under max-bytes (1 GiB) + 512 MiB, the daemon's under 256 MiB;
// the brick's and daemon's OS fds (/proc/PID/fd) come back to where they were; the client is
// served throughout.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { Volume } from '../../src/client/index.js';
import { sleep, startGlusterts, waitFor, type RunningGlusterts } from '../../src/peers/index.js';
import {
  Fops,
  HandshakeProcs,
  PortmapProcs,
  Program,
  callProcedure,
  legacyDict,
} from '../../src/protocol/index.js';
import {
  AUTH_NONE_VERIFIER,
  RpcClient,
  encodeCredential,
  endRecord,
  glusterV3,
  startRecord,
  writeCallHeader,
} from '../../src/rpc/index.js';
import type { XdrWriter } from '../../src/xdr/index.js';

const HOST = '127.0.0.61';
const MiB = 1024 * 1024;
const BRICK_RSS_BOUND = 1024 * MiB + 512 * MiB;
const DAEMON_RSS_BOUND = 256 * MiB;
const cred = encodeCredential(glusterV3(4242));

let g: RunningGlusterts | undefined;
const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
  await g?.stop();
});

const rssOf = (pid: number) =>
  Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
const fdsOf = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

function rawCall(
  xid: number,
  prog: { prog: number; vers: number },
  proc: number,
  args: (w: XdrWriter) => void,
) {
  const w = startRecord();
  writeCallHeader(w, { xid, ...prog, proc, cred, verf: AUTH_NONE_VERIFIER });
  args(w);
  return endRecord(w);
}

function setvolumeDict(brick: string) {
  return legacyDict({
    'process-uuid': `probe-${randomBytes(4).toString('hex')}`,
    'remote-subvolume': brick,
    'fops-version': '1298437',
  });
}

async function session(port: number, brick: string): Promise<RpcClient> {
  const c = await RpcClient.connect({ host: HOST, port });
  const sv = await callProcedure(
    c,
    Program.HANDSHAKE,
    HandshakeProcs.SETVOLUME,
    { dict: setvolumeDict(brick) },
    { cred, timeoutMs: 10_000 },
  );
  assert.equal(sv.opRet, 0);
  return c;
}

function rawConnect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: HOST, port });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

test(
  'DoS probes: RSS and fds stay bounded and a well-behaved client is served throughout',
  { timeout: 120_000 },
  async () => {
    g = await startGlusterts({ host: HOST, port: 0, args: ['--nbd-port', 'off'] });
    const daemonPid = g.child.pid!;
    const pidFile = readdirSync(join(g.data, 'logs', 'bricks')).find((f) => f.endsWith('.pid'))!;
    const brickPid = Number(readFileSync(join(g.data, 'logs', 'bricks', pidFile), 'utf8'));
    const mgmt = await RpcClient.connect({ host: HOST, port: g.port });
    const pm = await callProcedure(
      mgmt,
      Program.PORTMAP,
      PortmapProcs.PORTBYBRICK,
      { brick: g.brickDir },
      { cred },
    );
    mgmt.close();
    const brickPort = pm.port;

    // The well-behaved client.
    const v = await Volume.connect({ volume: g.volume, servers: [{ host: HOST, port: g.port }] });
    cleanups.push(() => v.close());
    const big = await v.create('/big', 'w+', 0o644);
    await big.ftruncate(512 * MiB);
    const bigGfid = big.gfid;
    const good = await v.create('/good', 'w+', 0o644);
    const content = randomBytes(MiB);
    await good.pwrite(content, 0);
    const goodGfid = good.gfid;

    await sleep(300);
    const baseline = { brick: fdsOf(brickPid), daemon: fdsOf(daemonPid) };
    const peak = { brick: 0, daemon: 0 };
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak.brick = Math.max(peak.brick, rssOf(brickPid));
        peak.daemon = Math.max(peak.daemon, rssOf(daemonPid));
        await sleep(100);
      }
    })();
    let served = 0;
    const failures: string[] = [];
    let serving = true;
    const client = (async () => {
      for (let i = 0; serving; i++) {
        try {
          const at = (i * 65536) % MiB;
          const got = await good.pread(65536, at, { signal: AbortSignal.timeout(5000) });
          if (!got.equals(content.subarray(at, at + 65536))) failures.push(`read ${i}: wrong bytes`);
          await good.pwrite(content.subarray(at, at + 4096), at);
          if (i % 20 === 0) await (await v.open('/good', 'r')).close();
          served++;
        } catch (e) {
          failures.push(`op ${i}: ${(e as Error).message}`);
        }
        await sleep(10);
      }
    })();
    const stillServed = async (what: string) => {
      const before = served;
      await waitFor(
        `the client served during ${what}`,
        () => (served >= before + 3 ? true : undefined),
        10_000,
      );
    };

    // 1,000 connections that never authenticate.
    const idle = await Promise.all(Array.from({ length: 1000 }, () => rawConnect(brickPort)));
    cleanups.push(() => idle.forEach((s) => s.destroy()));
    await stillServed('1,000 idle connections');

    // A 500 MiB record mark before authentication: refused at its header, nothing buffered.
    for (const port of [g.port, brickPort]) {
      const s = await rawConnect(port);
      const closed = new Promise<void>((ok) => s.once('close', () => ok()));
      s.on('error', () => undefined);
      const mark = Buffer.alloc(4);
      mark.writeUInt32BE((0x8000_0000 | (500 * MiB)) >>> 0);
      s.write(mark);
      const zeros = Buffer.alloc(MiB);
      for (let i = 0; i < 32 && !s.destroyed; i++) s.write(zeros);
      await Promise.race([
        closed,
        sleep(5000).then(() => assert.fail(`port ${port} kept the 500 MiB record`)),
      ]);
    }
    await stillServed('500 MiB records');

    // 64 pipelined 512 MiB READs, replies never read.
    const hostile = await rawConnect(brickPort);
    hostile.on('error', () => undefined);
    cleanups.push(() => hostile.destroy());
    hostile.write(
      rawCall(1, Program.HANDSHAKE, HandshakeProcs.SETVOLUME.proc, (w) =>
        HandshakeProcs.SETVOLUME.args.write(w, { dict: setvolumeDict(g!.brickDir) }),
      ),
    );
    await new Promise((ok) => hostile.once('data', ok));
    hostile.pause();
    const reads = Array.from({ length: 64 }, (_, i) =>
      rawCall(100 + i, Program.FOP, Fops.READ.proc, (w) =>
        Fops.READ.args.write(w, {
          gfid: bigGfid,
          fd: -2,
          offset: 0,
          size: 512 * MiB,
          flag: 0,
          xdata: null,
        }),
      ),
    );
    hostile.write(Buffer.concat(reads));
    await sleep(3000);
    await stillServed('64 x 512 MiB READs');
    hostile.destroy();

    // 70,000 OPENs on one session.
    const opener = await session(brickPort, g.brickDir);
    let opened = 0;
    let emfile = 0;
    for (let done = 0; done < 70_000; done += 1000) {
      const replies = await Promise.all(
        Array.from({ length: 1000 }, () =>
          callProcedure(
            opener,
            Program.FOP,
            Fops.OPEN,
            { gfid: goodGfid, flags: 0, xdata: null },
            { cred, timeoutMs: 30_000 },
          ),
        ),
      );
      for (const r of replies)
        if (r.opRet === 0) opened++;
        else if (r.opErrno === 24) emfile++;
    }
    assert.ok(
      opened >= 1000 && emfile > 0 && opened + emfile === 70_000,
      `opened ${opened}, EMFILE ${emfile}`,
    );
    assert.ok(fdsOf(brickPid) >= baseline.brick + opened - 16, 'the opened fds are real');
    await stillServed('70,000 OPENs');
    opener.close();

    // OPENs racing disconnects.
    for (let round = 0; round < 20; round++) {
      const c = await session(brickPort, g.brickDir);
      for (let i = 0; i < 200; i++)
        void callProcedure(
          c,
          Program.FOP,
          Fops.OPEN,
          { gfid: goodGfid, flags: 0, xdata: null },
          { cred },
        ).catch(() => undefined);
      await sleep(round % 5);
      c.close();
    }
    await stillServed('OPENs racing disconnects');

    for (const s of idle) s.destroy();
    // Every fd the probes opened is closed again (the client's own stay).
    await waitFor(
      'the brick to close what the probes opened',
      () => (fdsOf(brickPid) <= baseline.brick + 2 ? true : undefined),
      15_000,
    );
    await waitFor(
      'the daemon back to its fds',
      () => (fdsOf(daemonPid) <= baseline.daemon + 2 ? true : undefined),
      15_000,
    );

    serving = false;
    await client;
    sampling = false;
    await sampler;
    assert.deepEqual(failures, []);
    assert.ok(peak.brick < BRICK_RSS_BOUND, `brick RSS peaked at ${Math.round(peak.brick / MiB)} MiB`);
    assert.ok(peak.daemon < DAEMON_RSS_BOUND, `daemon RSS peaked at ${Math.round(peak.daemon / MiB)} MiB`);
    console.log(
      `dos-probes: brick RSS peak ${Math.round(peak.brick / MiB)} MiB, daemon ${Math.round(peak.daemon / MiB)} MiB; ` +
        `OPENs ${opened} served, ${emfile} EMFILE; client ops ${served}`,
    );
  },
);
