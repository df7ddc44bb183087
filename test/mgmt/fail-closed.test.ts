// A brick fails closed: an option in its protocol/server volume that it does not know or
// cannot enforce stops it with the option named, the daemon does not restart it in a loop,
// and `volume status` shows it offline with the reason until it is started again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_CONFIG } from '../../src/protocol/index.js';
import { formatStatus } from '../../src/cli/commands/volume.js';
import { REAL_BRICK, sleep, startTestDaemon, waitFor } from './support.js';

const HOST = '127.0.0.1';

test('the brick process refuses an unknown protocol/server option and exits EX_CONFIG', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gts-failclosed-'));
  try {
    const volfile = join(dir, 'b.vol');
    const brick = join(dir, 'brick');
    writeFileSync(
      volfile,
      `volume b-posix\n type storage/posix\n option directory ${brick}\nend-volume\n` +
        `volume ${brick}\n type debug/io-stats\n subvolumes b-posix\nend-volume\n` +
        `volume b-server\n type protocol/server\n option transport.socket.bind-address 127.0.0.1\n` +
        ` option auth.addr.${brick}.allow *\n option server.frobnicate-squash on\n subvolumes ${brick}\nend-volume\n`,
    );
    const run = spawnSync(process.execPath, [REAL_BRICK, '--volfile', volfile], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(run.status, EXIT_CONFIG, run.stderr);
    assert.match(
      run.stderr,
      /glusterts brick: configuration refused: brick volfile: b-server: option server\.frobnicate-squash is not supported by glusterts/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the daemon does not restart a brick that refused its configuration; status says why', async () => {
  const refusing = `console.error('glusterts brick: configuration refused: option ssl.frob is not supported'); process.exit(${EXIT_CONFIG})`;
  const t = await startTestDaemon(HOST, {
    brickCommand: [process.execPath, '-e', refusing, '--'],
    signinTimeoutMs: 300,
  });
  try {
    const dir = t.brickDir('fc');
    await t.daemon.volumes.create('fc', [dir]);
    const started = await t.daemon.volumes.start('fc');
    assert.match(started.warnings.join(), /has not signed in/);
    const brick = await waitFor('the refusal', () => {
      const b = t.daemon.volumes.status('fc')[0]!.bricks[0]!;
      return b.error === undefined ? undefined : b;
    });
    assert.equal(brick.online, false);
    assert.equal(brick.error, 'option ssl.frob is not supported');
    // No restart loop (the test daemon's backoff is 100-400 ms).
    await sleep(1000);
    assert.equal(t.daemon.supervisor.info(dir)!.restarts, 0);
    assert.match(
      formatStatus(t.daemon.volumes.status('fc'), true),
      /\n {2}offline: option ssl\.frob is not supported/,
    );
    // Started again (the volfile may be fixed), it is tried again.
    const first = t.daemon.supervisor.info(dir)!.pid;
    await t.daemon.volumes.start('fc', true);
    await waitFor('a second try', () => {
      const info = t.daemon.supervisor.info(dir)!;
      return info.pid !== first && info.failed ? true : undefined;
    });
  } finally {
    await t.cleanup();
  }
});
