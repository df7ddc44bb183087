import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuWindow, cpuUsOf, descendants, parseProcStat, windowFigures } from '../../src/bench/cpu.js';

test('/proc/PID/stat: ppid and user+sys, also when the name holds spaces and parentheses', () => {
  // Fields 3… after "(comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt
  // cmajflt utime stime cutime cstime …
  const line = '4242 (glusterfs (fuse) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 3 4 20 0 9 0';
  assert.deepEqual(parseProcStat(line), { ppid: 1, cpuUs: (250 + 75) * 10_000 });
  assert.throws(() => parseProcStat('garbage'), /not a \/proc/);
});

test('descendants: a process tree from a flat list, the root first', () => {
  const list = [
    { pid: 10, ppid: 1 },
    { pid: 11, ppid: 10 },
    { pid: 12, ppid: 10 },
    { pid: 13, ppid: 12 },
    { pid: 20, ppid: 1 },
  ];
  assert.deepEqual(descendants(10, list), [10, 11, 12, 13]);
  assert.deepEqual(descendants(20, list), [20]);
});

test('CPU window: this process burns CPU between two marks; no figure from one mark', () => {
  assert.ok(cpuUsOf([process.pid]) > 0);
  assert.equal(cpuUsOf([2 ** 22 + 7]), 0); // no such PID: counts 0
  const w = new CpuWindow(process.pid, { client: () => [], server: () => [process.pid] });
  w.mark();
  assert.equal(w.figures(), undefined);
  // Spin until this process has had 200 ms of CPU and 0.5 s have passed (the machine is shared).
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const used = () => {
    const c = process.cpuUsage(c0);
    return c.user + c.system;
  };
  let x = 0;
  while (used() < 200_000 || performance.now() - t0 < 500) x += Math.sqrt(x + 1);
  assert.ok(x > 0);
  w.mark();
  assert.equal(w.figures(3600), undefined); // shorter than asked for
  const f = w.figures()!;
  assert.ok(f.seconds >= 0.4, JSON.stringify(f));
  // The tool (this process) is counted as client, and here also as server.
  assert.ok(f.clientUs > 100_000 && f.serverUs > 100_000, JSON.stringify(f));
});

test('window figures: IO at the run rate over the window, at most the run, none for a short window', () => {
  const fixed = (seconds: number) => ({
    figures: (min = 0.4) =>
      seconds >= Math.max(0.4, min) ? { clientUs: 1, serverUs: 2, seconds } : undefined,
  });
  assert.deepEqual(windowFigures(fixed(1.5), 2, 1000, 4000), {
    clientUs: 1,
    serverUs: 2,
    seconds: 1.5,
    ios: 1500,
    bytes: 4000 * 1024 * 1.5,
  });
  assert.equal(windowFigures(fixed(2.3), 2, 1000, 4000)!.ios, 2000); // closed late: capped at the run
  assert.equal(windowFigures(fixed(0.9), 2, 1000, 4000), undefined); // under half the run
});
