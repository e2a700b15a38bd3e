// `npm run worker -- --queue redis://HOST:PORT [--concurrency N]`: takes runs of any sweep off the BullMQ queue and
// trains them, keeping each run's checkpoints and logs in Redis, so that when this process dies (SIGKILL, machine
// lost) its runs go back to the queue after the lock expires and another worker continues them from the last checkpoint.
// --concurrency N starts N processes (tfjs-wasm trains on one core per process).
import { fork, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type Job } from 'bullmq';
import { executeRun } from '../runner.js';
import type { StepTiming } from '../timing.js';
import type { FromWorker, ToWorker } from '../worker.js';
import type { RunResult } from '../types.js';
import { connectionFromUrl, QUEUE_NAME, type QueueJobData, type QueueProgress } from './connection.js';
import { RedisRunStore } from './redis-store.js';
import { HELP, parse, usageError, type WorkerArgs } from './worker-args.js';

const me = `${hostname()}:${process.pid}`;

function say(msg: string): void {
  process.stdout.write(`[worker ${me}] ${msg}\n`);
}

/**
 * Test hook: RMSNORM_TEST_SIGKILL_AT_STEP=N makes this process SIGKILL itself after step N of the first run in which
 * a checkpoint was stored before step N — a worker dying mid-run at a known point.
 */
const killAtStep = Number(process.env.RMSNORM_TEST_SIGKILL_AT_STEP ?? NaN);

/**
 * Test hook: RMSNORM_TEST_OVERLAP=K makes each run, after its first step and progress event, wait until K runs of its
 * sweep have got that far (a hash in Redis), for at most 30 s — so that the runs of a `--concurrency K` worker
 * provably train at the same time, whichever child the queue wakes first. The test reads the overlap from the queue's
 * own event stream (first progress event to completion of each run).
 */
const overlapPeers = Number(process.env.RMSNORM_TEST_OVERLAP ?? NaN);

async function meetPeers(worker: Worker, sweep: string, runId: string): Promise<void> {
  const client = await worker.client;
  const key = `rmsnorm-test:${sweep}:overlap`; // a hash: one field per run that got this far
  await client.hset(key, { [runId]: me });
  const t0 = Date.now();
  while (Object.keys(await client.hgetall(key)).length < overlapPeers) {
    if (Date.now() - t0 > 30_000) return say(`test hook: ${runId} gave up waiting for ${overlapPeers - 1} more runs`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Train one queued run with its state in Redis; resumes from a checkpoint when an earlier worker left one. */
async function trainRun(job: Job<QueueJobData>, data: Extract<QueueJobData, { kind: 'run' }>, worker: Worker): Promise<RunResult> {
  const store = new RedisRunStore(await worker.client, data.sweep, data.spec.id);
  const notices: string[] = [];
  let latest: QueueProgress['progress'];
  let lastSent = 0;
  let checkpointed = false;
  let met = !(overlapPeers > 1);
  const send = async (force: boolean) => {
    const now = Date.now();
    if (!force && now - lastSent < 250) return;
    lastSent = now;
    const payload: QueueProgress = { progress: latest, log: store.takeNewSteps(), notices: notices.splice(0), worker: me };
    await job.updateProgress(payload as unknown as object);
  };
  const result = await executeRun(data.spec, '', {
    resume: true,
    store,
    onNotice: (m) => {
      notices.push(m);
      say(m);
    },
    onProgress: (p) => {
      latest = p;
    },
    afterStep: async (step, saved) => {
      checkpointed ||= saved;
      if (checkpointed && step === killAtStep) {
        await store.flush();
        say(`test hook: SIGKILL after step ${step} of ${data.spec.id}`);
        process.kill(process.pid, 'SIGKILL');
      }
      await send(saved || notices.length > 0);
      if (!met) {
        met = true; // after the first progress event, which is the test's evidence that this run is training
        await meetPeers(worker, data.sweep, data.spec.id);
      }
      // Training is synchronous: yield once per step so lock renewals and Redis replies get their turn.
      await new Promise((r) => setImmediate(r));
    },
  });
  await send(true);
  return result;
}

/**
 * The interleaved step timing of one task, in a child process (the local sweep's worker entry): its loop runs for a
 * minute or more without yielding, and this process must keep renewing its lock meanwhile.
 */
function timeInChild(data: Extract<QueueJobData, { kind: 'timing' }>): Promise<StepTiming[]> {
  const self = fileURLToPath(import.meta.url);
  const child = fork(join(dirname(self), '..', `worker${extname(self)}`), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolveTiming, reject) => {
    child.on('message', (msg: FromWorker) => {
      if (msg.type === 'ready') child.send({ type: 'timing', id: data.id, specs: data.specs, rounds: data.rounds } satisfies ToWorker);
      else if (msg.type === 'timed') {
        resolveTiming(msg.timings);
        child.send({ type: 'exit' } satisfies ToWorker);
      } else if (msg.type === 'error') {
        reject(new Error(msg.message));
        child.kill();
      }
    });
    child.on('exit', (code, signal) => reject(new Error(`timing process exited (${signal ?? code})`)));
  });
}

async function processJob(job: Job<QueueJobData>, worker: Worker): Promise<unknown> {
  const data = job.data;
  say(`${job.attemptsMade > 0 || job.stalledCounter > 0 ? 'taking over' : 'starting'} ${data.sweep}/${data.id}`);
  if (data.kind === 'timing') return { timings: await timeInChild(data) };
  const result = await trainRun(job, data, worker);
  say(`finished ${data.sweep}/${data.id}`);
  return result;
}

/** One worker in this process (concurrency 1: the run owns the core). Resolves when it has been closed. */
async function serve(args: WorkerArgs): Promise<void> {
  const worker: Worker = new Worker<QueueJobData>(QUEUE_NAME, (job) => processJob(job, worker), {
    connection: connectionFromUrl(args.queue),
    concurrency: 1,
    lockDuration: args.lockMs,
    stalledInterval: Math.max(250, Math.floor(args.lockMs / 2)),
    // A run may be taken over many times (machines lost); a deterministic error still fails after job.attempts.
    maxStalledCount: 1000,
    autorun: true,
  });
  worker.on('error', (err) => say(`redis: ${err.message}`));
  worker.on('failed', (job, err) => say(`failed ${job?.data.id ?? '?'}: ${err.message.split('\n')[0]}`));
  say(`waiting for runs on ${args.queue} (lock ${args.lockMs} ms)`);
  await new Promise<void>((resolveServe) => {
    const stop = (sig: string) => {
      say(`${sig}: stopping; a run in progress continues on another worker from its last checkpoint`);
      // close(true): do not wait for the current run; its lock expires and another worker takes it over.
      worker.close(true).finally(() => resolveServe());
      setTimeout(() => process.exit(0), 2000).unref();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

/** N single-run worker processes, each restarted if it dies; stops them on SIGINT/SIGTERM. */
async function supervise(args: WorkerArgs, argv: string[]): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const childArgs = [...argv.filter((a, i) => a !== '--concurrency' && argv[i - 1] !== '--concurrency' && !a.startsWith('--concurrency=')), '--concurrency', '1'];
  const children = new Set<ChildProcess>();
  let stopping = false;
  const start = () => {
    const child = fork(self, childArgs, { stdio: 'inherit' });
    children.add(child);
    child.on('exit', (code, signal) => {
      children.delete(child);
      if (stopping) return;
      say(`worker process exited (${signal ?? code}); starting another`);
      setTimeout(start, 1000);
    });
  };
  for (let i = 0; i < args.concurrency; i++) start();
  await new Promise<void>((resolveAll) => {
    const stop = () => {
      stopping = true;
      for (const c of children) c.kill('SIGTERM');
      const check = setInterval(() => {
        if (children.size === 0) {
          clearInterval(check);
          resolveAll();
        }
      }, 100);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** Entry of `npm run worker`; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const bad = usageError(argv);
  if (bad !== null) {
    console.error(bad);
    return 2;
  }
  const args: WorkerArgs | 'help' = parse(argv);
  if (args === 'help') {
    console.log(HELP);
    return 0;
  }
  if (args.concurrency > 1) await supervise(args, argv);
  else await serve(args);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
