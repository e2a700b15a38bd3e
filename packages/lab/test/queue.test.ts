// Scale-out on BullMQ/Redis, end to end with a real redis-server (AOF on) on a free 127.0.0.1 port:
// a worker is SIGKILLed mid-run, the coordinator is SIGKILLed, Redis is restarted twice (once while a worker is
// training), a second worker takes the killed run over from its Redis checkpoint, a reattached coordinator finishes
// the sweep — and every run's final metrics, evaluations and step log equal a local run's, bit for bit.
// Skipped (with the reason) where redis-server is not installed; .ci/run installs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { connectionFromUrl, QUEUE_NAME } from '../src/experiments/queue/connection.js';
import { RedisRunStore } from '../src/experiments/queue/redis-store.js';
import { loadCheckpoint } from '../src/experiments/runner.js';
import { sealCheckpoint } from '../src/experiments/run-store.js';
import { planRuns } from '../src/experiments/presets.js';
import { executeRun, runFiles } from '../src/experiments/runner.js';
import type { ReproductionResults, RunResult } from '../src/experiments/types.js';
import { essence, freePort, hasRedis, NO_REDIS, sleep, start, startRedis as redisOn, stepLog, tsx, until } from './queue-helpers.js';

test('queued sweep survives a worker SIGKILL, a coordinator crash and Redis restarts; results equal a local run', { skip: hasRedis ? false : NO_REDIS, timeout: 420_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'rmsnorm-queue-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const out = join(tmp, 'queued');
  const local = join(tmp, 'local');
  const procs: ChildProcess[] = [];
  const startRedis = async () => {
    const r = await redisOn(port, tmp);
    procs.push(r.child);
    return r;
  };
  const stopRedis = async (r: Awaited<ReturnType<typeof startRedis>>) => {
    r.child.kill('SIGTERM'); // a restart: Redis flushes its append-only file and exits
    await r.exited;
  };
  try {
    const conn = connectionFromUrl(url) as { host: string; port: number; db: number; maxRetriesPerRequest: null };
    assert.deepEqual([conn.host, conn.port, conn.db, conn.maxRetriesPerRequest], ['127.0.0.1', port, 0, null]);
    assert.throws(() => connectionFromUrl('http://x:1'), /--queue: expected redis:\/\/HOST:PORT/);
    let redis = await startRedis();
    const plan = ['--preset', 'tiny', '--tasks', 'cnn'];
    const worker = (env: Record<string, string> = {}) => {
      const w = start(tsx('src/experiments/queue/worker.ts', '--queue', url, '--lock-ms', '3000'), env);
      procs.push(w.child);
      return w;
    };
    // 1. Coordinator C1 enqueues the plan; worker A dies (SIGKILL) after step 3 of its first run (checkpoint at 2).
    const c1 = start(tsx('src/cli.ts', 'reproduce', ...plan, '--queue', url, '--out', out));
    procs.push(c1.child);
    const a = worker({ RMSNORM_TEST_SIGKILL_AT_STEP: '3' });
    const aExit = await a.exited;
    assert.equal(aExit.signal, 'SIGKILL', a.out());
    const killedRun = /SIGKILL after step 3 of (\S+)/.exec(a.out())?.[1];
    assert.ok(killedRun, a.out());

    // 2. The coordinator crashes too, and Redis restarts, with nobody working on the sweep.
    c1.child.kill('SIGKILL');
    await c1.exited;
    await stopRedis(redis);
    redis = await startRedis();

    // 3. Worker B and a reattached coordinator C2 finish the sweep; Redis restarts once more while B trains.
    const b = worker();
    const c2 = start(tsx('src/cli.ts', 'reproduce', '--resume', '--queue', url, '--out', out));
    procs.push(c2.child);
    await until('a first finished run on worker B', () => b.out().includes('finished '), 120_000);
    await stopRedis(redis);
    await sleep(500);
    redis = await startRedis();
    const c2Exit = await c2.exited;
    assert.equal(c2Exit.code, 0, c2.out());
    // B took the killed run over from its Redis checkpoint, not from scratch.
    assert.match(b.out(), new RegExp(`${killedRun!.replace(/\./g, '\\.')}: resuming from the checkpoint at step 2`), b.out());
    assert.match(c2.out(), /note {3}\S+: resuming from the checkpoint at step 2/, c2.out());

    // 4. Every run equals a local run of the same spec: results.json, result files and step logs.
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ReproductionResults;
    const specs = planRuns({ preset: 'tiny', tasks: ['cnn'] });
    assert.deepEqual(results.runs.map((r) => r.config.id), specs.map((s) => s.id));
    for (const spec of specs) {
      const ref = await executeRun(spec, local);
      const got = results.runs.find((r) => r.config.id === spec.id)!;
      assert.deepEqual(essence(got), essence(ref), spec.id);
      assert.deepEqual(essence(JSON.parse(readFileSync(runFiles(out, spec.id).result, 'utf8')) as RunResult), essence(ref), spec.id);
      assert.deepEqual(stepLog(out, spec.id), stepLog(local, spec.id), `${spec.id} step log`);
    }
    assert.ok((results.stepTimings?.cnn ?? []).length > 0, 'the timing job ran on the queue');
    // The coordinator cleaned the runs' state out of Redis.
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { queue: { sweep: string } };
    const left = spawnSync('redis-cli', ['-p', String(port), '--scan', '--pattern', `rmsnorm:${manifest.queue.sweep}:*`], { encoding: 'utf8' }).stdout.trim();
    assert.equal(left, '');
  } finally {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await sleep(200);
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('Redis run store: checkpoint rotation, a damaged checkpoint falls back to the previous one, logs per step', { skip: hasRedis ? false : NO_REDIS, timeout: 60_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'rmsnorm-redis-store-'));
  const port = await freePort();
  const redis = await redisOn(port, tmp);
  const queue = new Queue(QUEUE_NAME, { connection: connectionFromUrl(`redis://127.0.0.1:${port}`) });
  try {
    const client = await queue.client;
    const spec = planRuns({ preset: 'tiny', tasks: ['cnn'] })[0];
    const body = (step: number) => JSON.stringify({ version: 1, id: spec.id, step, vars: [1, 2] });
    const store = new RedisRunStore(client, 'sweep1', spec.id);
    await store.saveCheckpoint(sealCheckpoint(body(2)));
    await store.saveCheckpoint(sealCheckpoint(body(4)));
    const notes: string[] = [];
    assert.equal((await loadCheckpoint(store, spec, 2, (m) => notes.push(m)))?.step, 4);
    // The newest checkpoint is cut in half (as a lost write would leave it): the previous one is used, and said.
    const key = `rmsnorm:sweep1:${spec.id}:ckpt`;
    const sealed = (await client.get(key))!;
    await client.set(key, sealed.slice(0, sealed.length >> 1));
    assert.equal((await loadCheckpoint(store, spec, 2, (m) => notes.push(m)))?.step, 2);
    assert.match(notes.join('\n'), /redis rmsnorm:sweep1:\S+:ckpt is unusable: .*\n.*continuing from the previous checkpoint redis \S+:ckpt\.prev \(step 2\)/);
    // Logs: records after the checkpoint are dropped on resume; duplicates (a zombie worker) count once.
    await store.resetLog([], []);
    for (const step of [1, 2, 3, 2]) store.appendStep({ step, wallMs: step, stepMs: 1, loss: 10 - step });
    const log = await store.readLog(2);
    assert.deepEqual(log.steps.map((r) => [r.step, r.loss]), [[1, 9], [2, 8]]);
    assert.deepEqual(store.takeNewSteps()?.steps.map((r) => r.step), [1, 2, 3, 2]);
    await RedisRunStore.clear(client, 'sweep1', spec.id);
    assert.equal(await client.get(key), null);
  } finally {
    await queue.close();
    redis.child.kill('SIGTERM');
    await redis.exited;
    rmSync(tmp, { recursive: true, force: true });
  }
});

/** Run an entry point in this process, collecting what it prints (usage paths start nothing). */
async function captured(f: () => Promise<number>): Promise<{ code: number; out: string; err: string[] }> {
  const log = console.log;
  const error = console.error;
  let out = '';
  const err: string[] = [];
  console.log = (...a: unknown[]) => void (out += a.join(' ') + '\n');
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    return { code: await f(), out, err };
  } finally {
    console.log = log;
    console.error = error;
  }
}

test('npm run worker: bad usage exits 2 with one line; --help lists the options', async () => {
  const { main } = await import('../src/experiments/queue/worker.js');
  for (const args of [[], ['--queue', 'http://x:1'], ['--queue', 'redis://127.0.0.1:1', '--concurrency', '0'], ['--bogus']]) {
    const r = await captured(() => main(args));
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err.join('\n')}`);
    assert.equal(r.err.length, 1, r.err.join('\n'));
    assert.match(r.err[0], /^rmsnorm worker: [^\n]+$/);
  }
  const h = await captured(() => main(['--help']));
  assert.equal(h.code, 0);
  for (const flag of ['--queue', '--concurrency', '--lock-ms']) assert.ok(h.out.includes(flag), flag);
});

test('reproduce --queue with a URL that is not redis:// exits 2 with one line', async () => {
  const { run } = await import('../src/experiments/command.js');
  const r = await captured(() => run(['--queue', 'http://127.0.0.1:6379']));
  assert.equal(r.code, 2);
  assert.equal(r.err.length, 1, r.err.join('\n'));
  assert.match(r.err[0], /--queue: expected redis:\/\/HOST:PORT, got 'http:\/\/127\.0\.0\.1:6379'/);
});
