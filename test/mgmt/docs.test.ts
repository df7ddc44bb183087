// docs/mgmt.md's option table is the schema's own description (describeOptions); this
// fails when a key, default, range or description changes without the page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describeOptions } from '../../src/xlator/options.js';
import { VOLUME_OPTIONS } from '../../src/mgmt/options.js';

/** Table rows as trimmed cells, so Markdown alignment and escaping do not matter. */
function rows(table: string): string[][] {
  return table
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|[\s|:-]+\|$/.test(l))
    .map((l) =>
      l
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim().replace(/\\([*|])/g, '$1')),
    );
}

test('docs/mgmt.md lists exactly the volume options of the schema', () => {
  const doc = readFileSync(new URL('../../../docs/mgmt.md', import.meta.url), 'utf8');
  const m = /<!-- options-table:start -->([\s\S]*?)<!-- options-table:end -->/.exec(doc);
  assert.ok(m, 'the page marks its option table');
  assert.deepEqual(rows(m[1]!), rows(describeOptions(VOLUME_OPTIONS)));
});
