// `npm run worker -- --queue URL --concurrency 2`: one worker command trains two runs at the same time (in two child
// processes it supervises), and every run's results still equal a local run's, bit for bit. The overlap is read from
// the queue's own event stream in Redis (stream ids are Redis server times, one total order): a run's first progress
// event comes after its first training step, so run A had trained a step before run B completed and B before A
// completed — an order of events, not a speed.
// Skipped (with the reason) where redis-server is not installed; .ci/run installs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { connectionFromUrl, jobIdOf, QUEUE_NAME } from '../src/experiments/queue/connection.js';
import { parse } from '../src/experiments/queue/worker-args.js';
import { planRuns } from '../src/experiments/presets.js';
import { executeRun, runFiles } from '../src/experiments/runner.js';
import type { ReproductionResults, RunResult } from '../src/experiments/types.js';
import { essence, freePort, hasRedis, NO_REDIS, sleep, start, startRedis, stepLog, tsx, until, type Started } from './queue-helpers.js';

/** Whether stream id `a` ('ms-seq', Redis server time) comes before `b`. */
const before = (a: string, b: string) => {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am < bm || (am === bm && as < bs);
};

interface Span {
  run: string;
  /** The run's first progress event: sent after its first training step. */
  trained: string;
  completed: string;
  workers: Set<string>;
}

/** Each run's span on the queue (first 'progress' to 'completed' event) and the worker processes that reported progress. */
async function spans(queue: Queue, jobIds: Map<string, string>): Promise<Span[]> {
  const client = await queue.client;
  const read = (await client.xread([{ key: queue.keys.events, id: '0' }])) as [string, [string, string[]][]][] | null;
  const entries = read?.[0]?.[1] ?? [];
  const byRun = new Map<string, Partial<Span> & { workers: Set<string> }>();
  for (const [id, flat] of entries) {
    const f: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) f[flat[i]] = flat[i + 1];
    const run = jobIds.get(f.jobId);
    if (run === undefined) continue;
    const s = byRun.get(run) ?? { run, workers: new Set<string>() };
    byRun.set(run, s);
    if (f.event === 'completed') s.completed = id;
    else if (f.event === 'progress') {
      s.trained ??= id;
      const w = (JSON.parse(f.data) as { worker?: string }).worker;
      if (w) s.workers.add(w);
    }
  }
  return [...byRun.values()].map((s) => {
    assert.ok(s.trained !== undefined && s.completed !== undefined, `${s.run}: progress and completed events on the queue`);
    return s as Span;
  });
}

const childIds = (out: string) => [...new Set([...out.matchAll(/\[worker (\S+)\] waiting for runs/g)].map((m) => m[1]))];

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('npm run worker --concurrency 2: two runs train at the same time in one worker command; results equal a local run', { skip: hasRedis ? false : NO_REDIS, timeout: 180_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'rmsnorm-queue-conc-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const out = join(tmp, 'queued');
  const local = join(tmp, 'local');
  const procs: Started[] = [];
  let children: number[] = [];
  const redis = await startRedis(port, tmp);
  procs.push(redis);
  const queue = new Queue(QUEUE_NAME, { connection: connectionFromUrl(url) });
  try {
    // 1. One worker command (the `npm run worker` entry), two runs at a time. The test hook makes each run wait after
    //    its first step until two runs have trained one (at most 30 s), so that the overlap does not depend on which
    //    child BullMQ wakes first; a worker that trains one run at a time shows no overlap below (checked by hand
    //    with a Redis mutex around each run: the overlap assertion fails).
    const worker = start(tsx('src/cli.ts', 'worker', '--queue', url, '--concurrency', '2'), { RMSNORM_TEST_OVERLAP: '2' });
    procs.push(worker);
    await until('two worker processes waiting for runs', () => childIds(worker.out()).length >= 2, 60_000);
    const ids = childIds(worker.out());
    assert.equal(ids.length, 2, worker.out());
    const supervisor = `${hostname()}:${worker.child.pid}`;
    assert.ok(!ids.includes(supervisor), `the runs are trained in child processes, not in ${supervisor}`);
    children = ids.map((id) => Number(id.slice(id.lastIndexOf(':') + 1)));

    // 2. A coordinator runs the tiny CNN plan (5 runs and a timing job) on the queue.
    const coordinator = start(tsx('src/cli.ts', 'reproduce', '--preset', 'tiny', '--tasks', 'cnn', '--queue', url, '--out', out));
    procs.push(coordinator);
    const done = await coordinator.exited;
    assert.equal(done.code, 0, coordinator.out() + worker.out());

    // 3. Two runs were active at overlapping times, on the two child processes of the one worker command.
    const specs = planRuns({ preset: 'tiny', tasks: ['cnn'] });
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { queue: { sweep: string } };
    const runs = await spans(queue, new Map(specs.map((s) => [jobIdOf(manifest.queue.sweep, s.id), s.id])));
    assert.deepEqual(runs.map((s) => s.run).sort(), specs.map((s) => s.id).sort(), 'every run went through the queue');
    for (const s of runs) {
      assert.equal(s.workers.size, 1, `${s.run} was trained by one worker process: ${[...s.workers].join(', ')}`);
      assert.ok(ids.includes([...s.workers][0]), `${s.run} was trained by ${[...s.workers][0]}, not a child of the worker command (${ids.join(', ')})`);
    }
    const overlapping = runs.flatMap((a, i) => runs.slice(i + 1).filter((b) => before(a.trained, b.completed) && before(b.trained, a.completed)).map((b) => [a, b]));
    assert.ok(overlapping.length > 0, `no two runs were training at the same time (first progress, completed): ${runs.map((s) => `${s.run} [${s.trained}, ${s.completed}]`).join('; ')}`);
    for (const [a, b] of overlapping) assert.notEqual([...a.workers][0], [...b.workers][0], `${a.run} and ${b.run} overlap in one process`);
    assert.doesNotMatch(worker.out(), /gave up waiting/, worker.out());

    // 4. Every run equals a local run of the same spec: results.json, result files and step logs.
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ReproductionResults;
    assert.deepEqual(results.runs.map((r) => r.config.id), specs.map((s) => s.id));
    for (const spec of specs) {
      const ref = await executeRun(spec, local);
      const got = results.runs.find((r) => r.config.id === spec.id)!;
      assert.deepEqual(essence(got), essence(ref), spec.id);
      assert.deepEqual(essence(JSON.parse(readFileSync(runFiles(out, spec.id).result, 'utf8')) as RunResult), essence(ref), spec.id);
      assert.deepEqual(stepLog(out, spec.id), stepLog(local, spec.id), `${spec.id} step log`);
    }

    // 5. SIGTERM to the worker command stops both of its processes, and it exits 0.
    worker.child.kill('SIGTERM');
    assert.deepEqual(await worker.exited, { code: 0, signal: null }, worker.out());
    await until('the child processes to exit', () => !children.some(alive), 10_000);
  } finally {
    await queue.close().catch(() => {});
    for (const p of procs.reverse()) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    for (const pid of children) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await sleep(200);
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('npm run worker --concurrency: 0, -1, x, 2.5, 0x2 are usage errors (RangeError naming the option, exit 2); --help documents it', async () => {
  const url = 'redis://127.0.0.1:1';
  for (const bad of ['0', '-1', 'x', '2.5', '0x2', '']) {
    for (const argv of [['--queue', url, '--concurrency', bad], ['--queue', url, `--concurrency=${bad}`]]) {
      assert.throws(() => parse(argv), (err: Error) => err instanceof RangeError && err.message === `--concurrency: expected an integer ≥ 1, got '${bad}'`, argv.join(' '));
    }
  }
  assert.equal((parse(['--queue', url, '--concurrency', '3']) as { concurrency: number }).concurrency, 3);
  assert.equal((parse(['--queue', url]) as { concurrency: number }).concurrency, 1);
  // Through the real command (argv as npm passes it): one line on stderr, exit 2, nothing started.
  for (const bad of ['-1', 'x']) {
    const r = start(tsx('src/cli.ts', 'worker', '--queue', url, '--concurrency', bad));
    const { code } = await r.exited;
    assert.equal(code, 2, r.out());
    assert.equal(r.out(), `rmsnorm worker: --concurrency: expected an integer ≥ 1, got '${bad}' (see --help)\n`);
  }
  const { HELP } = await import('../src/experiments/queue/worker-args.js');
  assert.match(HELP, /--concurrency N +runs trained at the same time, each in its own process \(an integer ≥ 1, default 1;/);
  assert.match(readFileSync(new URL('../docs/queue.md', import.meta.url), 'utf8'), /--concurrency N/);
});
