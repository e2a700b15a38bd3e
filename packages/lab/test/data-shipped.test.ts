// The shipped data/ folder stays small and documented: ≤ 5 MB in all, a README with provenance and licence per
// dataset, and the preparation scripts those READMEs name exist.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { dataDir } from '../src/experiments/data/files.js';

function sizeOf(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((a, e) => a + (e.isDirectory() ? sizeOf(join(dir, e.name)) : statSync(join(dir, e.name)).size), 0);
}

test('data/ ≤ 5 MB, each dataset folder has a README naming its source, licence and preparation script', () => {
  const root = dataDir();
  assert.ok(sizeOf(root) <= 5 * 1024 * 1024, `data/ is ${sizeOf(root)} bytes`);
  assert.ok(existsSync(join(root, 'README.md')));
  for (const [folder, script, licence] of [
    ['translation', 'prepare-translation.mjs', /public domain/i],
    ['fashion-mnist', 'prepare-fashion-mnist.mjs', /MIT/],
  ] as const) {
    const readme = readFileSync(join(root, folder, 'README.md'), 'utf8');
    assert.match(readme, licence);
    assert.match(readme, /Debian/);
    assert.ok(readme.includes(`scripts/${script}`));
    assert.ok(existsSync(join(root, '..', 'scripts', script)));
  }
});
