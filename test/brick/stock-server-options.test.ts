// A brick volfile written by stock glusterd 10.3 starts on a glusterts brick: every option
// stock puts in protocol/server (auth-path, keepalive and backlog tuning, event threads…) is
// known, while the fail-closed rule still refuses what glusterts cannot enforce.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { serverSettings } from '../../src/brick/boot.js';
import { ConfigurationError } from '../../src/brick/server-options.js';
import { parseVolfile } from '../../src/xlator/volfile.js';

const FIXTURES = new URL('../../../test/fixtures/volfiles/', import.meta.url).pathname;

const serverOf = (text: string) => parseVolfile(text).volumes.find((v) => v.type === 'protocol/server')!;

test("every stock fixture brick volfile's protocol/server options are accepted", () => {
  let seen = 0;
  for (const dir of readdirSync(FIXTURES, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const f of readdirSync(join(FIXTURES, dir.name)).filter((n) => /^brick-\d+\.vol$/.test(n))) {
      const decl = serverOf(readFileSync(join(FIXTURES, dir.name, f), 'utf8'));
      assert.doesNotThrow(() => serverSettings(decl), `${dir.name}/${f}`);
      seen++;
    }
  }
  assert.ok(seen >= 15, `${seen} stock brick volfiles`);
});

test('rpc-auth-allow-insecure off (privileged ports only) is refused, not ignored', () => {
  const text = readFileSync(join(FIXTURES, 'replica3', 'brick-0.vol'), 'utf8');
  const decl = serverOf(text);
  decl.options.set('rpc-auth-allow-insecure', 'off');
  assert.throws(() => serverSettings(decl), ConfigurationError);
  decl.options.set('rpc-auth-allow-insecure', 'on');
  assert.doesNotThrow(() => serverSettings(decl));
});
