// `rmsnorm reproduce` usage handling: bad flags, unknown tasks and bad numbers exit 2 with a one-line reason;
// --help exits 0. Runs the real CLI in a child process (no training happens on these paths).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'reproduce', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('npm warn')) };
}

for (const args of [['--bogus'], ['--tasks', 'char-lm,nope'], ['--preset', 'huge'], ['--seeds', '0'], ['--seeds', 'two'], ['--jobs', '-1'], ['stray']]) {
  test(`reproduce ${args.join(' ')} → exit 2 with one line`, () => {
    const r = cli(...args);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.length, 1, r.stderr.join('\n'));
    assert.match(r.stderr[0], /^rmsnorm reproduce: /);
  });
}

test('reproduce --resume without an earlier run → exit 2', () => {
  const r = cli('--resume', '--out', '/nonexistent/rmsnorm-results');
  assert.equal(r.code, 2);
  assert.equal(r.stderr.length, 1);
});

test('reproduce --help → exit 0 and lists the options', () => {
  const r = cli('--help');
  assert.equal(r.code, 0);
  for (const flag of ['--preset', '--tasks', '--seeds', '--out', '--resume', '--json']) assert.ok(r.stdout.includes(flag), flag);
});
