// The self-heal keys of `volume set` (cluster.heal-timeout, cluster.self-heal-window-size,
// cluster.heal-wait-queue-length, cluster.data-self-heal-algorithm): what glusterts accepts
// and refuses, in stock glusterd 10.3's words (recorded below, and compared with a private
// stock glusterd when installed), and where the values go: heal-timeout into the
// self-heal daemon's volfile (GETSPEC `shd/<vol>`) only, the others into the client's too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { requirePeer, startStockGluster } from '../../src/peers/index.js';
import { answerText, belowMinimum, notNumber, notOneOf, outOfRange, type Answer } from './stock-refusals.js';
import { startTestDaemon } from './support.js';

const HEAL_TIMEOUT = outOfRange('heal-timeout', 5, 2147483647);
const WINDOW_SIZE = outOfRange('data-self-heal-window-size', 1, 1024);
/** [key, value, what stock glusterd 10.3 answered: 'ok' or the text after "volume set: failed: "]. */
const CASES: [string, string, Answer][] = [
  ['cluster.heal-timeout', '5', 'ok'],
  ['cluster.heal-timeout', ' 7', 'ok'],
  ['cluster.heal-timeout', '2147483647', 'ok'],
  ['cluster.heal-timeout', '4', HEAL_TIMEOUT],
  ['cluster.heal-timeout', '-1', HEAL_TIMEOUT],
  ['cluster.heal-timeout', '2147483648', HEAL_TIMEOUT],
  ['cluster.heal-timeout', 'abc', notNumber('heal-timeout')],
  ['cluster.heal-timeout', '10s', notNumber('heal-timeout')],
  ['cluster.self-heal-window-size', '1', 'ok'],
  ['cluster.self-heal-window-size', '1024', 'ok'],
  ['cluster.self-heal-window-size', '0', WINDOW_SIZE],
  ['cluster.self-heal-window-size', '1025', WINDOW_SIZE],
  ['cluster.self-heal-window-size', 'x', notNumber('data-self-heal-window-size')],
  ['cluster.heal-wait-queue-length', '0', 'ok'],
  ['cluster.heal-wait-queue-length', '10001', 'ok'],
  ['cluster.heal-wait-queue-length', '-1', belowMinimum('heal-wait-queue-length', 0)],
  ['cluster.heal-wait-queue-length', 'x', notNumber('heal-wait-queue-length')],
  ['cluster.data-self-heal-algorithm', 'full', 'ok'],
  ['cluster.data-self-heal-algorithm', 'bogus', notOneOf('data-self-heal-algorithm', ['diff', 'full'])],
];

test('heal keys: volume set accepts and refuses what glusterd 10.3 does, in its words', async () => {
  const t = await startTestDaemon('127.0.0.82');
  try {
    const bricks = [0, 1, 2].map((i) => `127.0.0.82:${t.brickDir(`h${i}`)}`);
    await t.daemon.volumes.create('hv', bricks, true, { replica: 3 });
    for (const [key, value, answer] of CASES) {
      const want = answerText(answer, value);
      const got = await t.daemon.volumes.set('hv', key, value).then(
        () => 'ok',
        (err: Error) => err.message,
      );
      assert.equal(got, want, `volume set hv ${key} '${value}'`);
    }
    await t.daemon.volumes.set('hv', 'cluster.heal-timeout', '5');
    await t.daemon.volumes.set('hv', 'cluster.self-heal-window-size', '8');
    const client = t.daemon.volumes.volfileFor('hv')!.spec;
    const shd = t.daemon.volumes.volfileFor('shd/hv')!.spec;
    assert.doesNotMatch(client, /heal-timeout/, 'heal-timeout is the self-heal daemon’s only');
    assert.match(client, /option data-self-heal-window-size 8\n/);
    assert.match(shd, /option data-self-heal-window-size 8\n {4}option heal-timeout 5\n/);
    assert.match(shd, /option iam-self-heal-daemon yes\n/);
    await t.daemon.volumes.create('dv', [`127.0.0.82:${t.brickDir('d0')}`], true);
    assert.equal(t.daemon.volumes.volfileFor('shd/dv'), undefined, 'no shd volfile for distribute');
  } finally {
    await t.cleanup();
  }
});

test('live: stock glusterd 10.3 accepts and refuses the same heal values, in the same words', async (t) => {
  if (!requirePeer('stock-gluster', t)) return;
  const stock = await startStockGluster({ volume: 'tv', bricks: 1 });
  try {
    const paths = [0, 1, 2].map((i) => `${stock.host}:${join(stock.dir, 'bricks', `hv-${i}`)}`);
    await stock.cli('volume', 'create', 'hv', 'replica', '3', ...paths, 'force');
    for (const [key, value, answer] of CASES) {
      const want = answerText(answer, value);
      const got = await stock.cli('volume', 'set', 'hv', key, value).then(
        () => 'ok',
        (err: Error) => /volume set: failed: (.*)$/s.exec(err.message)?.[1]?.trim() ?? err.message,
      );
      assert.equal(got, want, `stock: volume set hv ${key} '${value}'`);
    }
  } finally {
    await stock.stop();
  }
});
