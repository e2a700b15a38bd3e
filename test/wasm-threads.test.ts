// The wasm worker pool: the shared case matrix on 2 threads (every multi-row job split: both thresholds 0), parameter
// gradients reduced over per-thread partial sums, pool start/stop, and a process with a live pool exits by itself.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { getThreads, initThreads, layerNorm, layerNormBackward, reference, terminateThreads } from '../src/index.js';
import { describeCaseMatrix } from './cases.js';
import { compareArrays, describeComparison, mulberry32, randomNormal } from './compare.js';
import { tolerance } from './tolerance.js';

describeCaseMatrix('wasm', {
  label: 'threads=2',
  before: () => initThreads(2, { minElements: 0, wakeMinElements: 0 }),
  after: () => terminateThreads(),
});

const root = fileURLToPath(new URL('..', import.meta.url));

/** Run a script in a fresh Node (with tsx) and report how it ended. */
function runScript(code: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('wasm thread pool', () => {
  it('initThreads/terminateThreads change getThreads; bad counts are rejected', async () => {
    assert.equal(getThreads(), 1);
    assert.equal(await initThreads(3), 3);
    assert.equal(getThreads(), 3);
    assert.equal(await initThreads(3, { minElements: 0 }), 3, 'same size: thresholds updated, pool kept');
    assert.equal(await initThreads(2), 2);
    assert.equal(getThreads(), 2);
    await terminateThreads();
    assert.equal(getThreads(), 1);
    await assert.rejects(initThreads(0), RangeError);
    await assert.rejects(initThreads(1.5), RangeError);
  });

  it('3 threads, odd row count: dx and the reduced dgamma/dbeta match the reference', async () => {
    await initThreads(3, { minElements: 0, wakeMinElements: 0 });
    try {
      const rand = mulberry32(31);
      for (const rows of [1, 2, 7, 101]) {
        const cols = 67;
        const x = randomNormal(rand, rows * cols, 1e4, 1);
        const dy = randomNormal(rand, rows * cols);
        const gamma = randomNormal(rand, cols, 1, 0.2);
        const beta = randomNormal(rand, cols);
        const { mean, rstd } = layerNorm(x, cols, { gamma, beta, backend: 'wasm' });
        const bw = layerNormBackward(dy, x, mean, rstd, cols, { gamma, beta, backend: 'wasm' });
        const ref = reference.layerNormBackwardRef(dy, x, cols, { gamma, beta });
        for (const [name, actual, expected, len] of [
          ['dx', bw.dx, ref.dx, cols], ['dgamma', bw.dgamma!, ref.dgamma!, cols], ['dbeta', bw.dbeta!, ref.dbeta!, cols],
        ] as const) {
          const c = compareArrays(actual, expected, tolerance('wasm', 'layerNorm', 'backward'), len);
          assert.ok(c.ok, describeComparison(`rows=${rows} ${name}`, c));
        }
      }
    } finally {
      await terminateThreads();
    }
  });

  it('a process that leaves a pool running still exits on its own (workers are unref’d)', () => {
    const r = runScript(
      "import { initThreads, rmsNorm } from './src/index.ts';" +
        'await initThreads(2, { minElements: 0 });' +
        'const { y } = rmsNorm(new Float32Array(64 * 256).fill(3), 256);' +
        "if (Math.abs(y[5] - 1) > 1e-6) process.exit(3); console.log('ok');",
    );
    assert.equal(r.error, undefined, `child failed to finish: ${r.error?.message}`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /ok/);
  });

  it('terminateThreads lets a process exit immediately; kernels keep working on one thread', () => {
    const r = runScript(
      "import { initThreads, terminateThreads, getThreads, rmsNorm } from './src/index.ts';" +
        'await initThreads(2); await terminateThreads();' +
        'const { y } = rmsNorm(new Float32Array(8).fill(2), 4);' +
        "console.log(getThreads() === 1 && Math.abs(y[0] - 1) < 1e-6 ? 'ok' : 'bad');",
    );
    assert.equal(r.error, undefined, `child failed to finish: ${r.error?.message}`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /ok/);
  });
});
