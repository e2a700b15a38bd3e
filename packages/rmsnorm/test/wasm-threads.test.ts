// The wasm worker pool: the shared case matrix on 2 threads (every multi-row job split: both thresholds 0), parameter
// gradients reduced over per-thread partial sums, pool start/stop, and a process with a live pool exits by itself.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

describe('wasm thread pool: concurrent start/stop and option checks (issue #12)', () => {
  /** OS threads of this process (Linux), or null elsewhere. */
  function osThreads(): number | null {
    try {
      return Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
    } catch {
      return null;
    }
  }

  it('racing initThreads calls are serialised: no worker outlives its pool (OS thread count returns to baseline)', async () => {
    // one warm-up round first: lazily created process threads (libuv pool, V8 helpers) are in the baseline
    await initThreads(2);
    await terminateThreads();
    await new Promise((r) => setTimeout(r, 100));
    const baseline = osThreads();
    for (let i = 0; i < 6; i++) {
      const counts = await Promise.all([initThreads(2), initThreads(3)]);
      assert.deepEqual(counts, [2, 3]);
      assert.equal(getThreads(), 3, 'the later call wins');
      await terminateThreads();
      assert.equal(getThreads(), 1);
    }
    // interleaved terminate between two starts also ends with exactly the last request
    const [, , last] = await Promise.all([initThreads(2), terminateThreads(), initThreads(2)]);
    assert.equal(last, 2);
    assert.equal(getThreads(), 2);
    await terminateThreads();
    if (baseline === null) return; // no /proc: the getThreads checks above still ran
    let now = osThreads()!;
    for (let waited = 0; now > baseline + 1 && waited < 3000; waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
      now = osThreads()!;
    }
    assert.ok(now <= baseline + 1, `OS threads ${now} after 7 start/stop rounds, ${baseline} before: workers leaked`);
  });

  it('initThreads rejects bad options with TypeError/RangeError naming them: NaN, negative, unknown keys, a Map', async () => {
    await assert.rejects(initThreads(2, { spinMs: NaN }), /^RangeError: options\.spinMs must be a finite number/);
    await assert.rejects(initThreads(2, { spinMs: -1 }), /^RangeError: options\.spinMs/);
    await assert.rejects(initThreads(2, { minElements: Infinity }), /^RangeError: options\.minElements/);
    await assert.rejects(initThreads(2, { wakeMinElements: '5' } as never), /^TypeError: options\.wakeMinElements must be a number/);
    await assert.rejects(initThreads(2, { spinMS: 1 } as never), /^TypeError: options\.spinMS is not a known initThreads option/);
    await assert.rejects(initThreads(2, new Map() as never), /^TypeError: initThreads options must be a plain object/);
    await assert.rejects(initThreads('2' as never), /^TypeError: threads must be a number/);
    assert.equal(getThreads(), 1, 'nothing started');
  });
});
