// `rmsnorm reproduce --queue redis://HOST:PORT`: puts every run (and timing job) of the plan on the BullMQ queue,
// streams the workers' progress and step logs into `<out>/runs/`, and collects each result into the same files a
// local sweep writes. Reattaching (`--resume --queue …`) re-adds only what is missing: job ids are per sweep, so
// adding a job that is already queued, running or done is a no-op.
import { Job as BullJob, Queue, QueueEvents } from 'bullmq';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { appendText, isStorageError, writeAtomic } from '../atomic-write.js';
import type { Job, SweepOutcome } from '../command.js';
import type { ProgressView } from '../progress.js';
import { runFiles, writeRunFiles } from '../run-store.js';
import { getTask } from '../tasks/index.js';
import type { StepTiming } from '../timing.js';
import type { RunResult, StepRecord } from '../types.js';
import { connectionFromUrl, jobIdOf, QUEUE_NAME, type QueueJobData, type QueueProgress } from './connection.js';
import { RedisRunStore } from './redis-store.js';

export interface QueueSweep {
  url: string;
  sweep: string;
  outDir: string;
  jobs: Job[];
  rounds: number;
  view: ProgressView;
  /** Estimated cost of a job: the queue hands out the longest runs first, timing jobs last. */
  cost: (job: Job) => number;
  /** How often finished jobs are looked for (ms). */
  pollMs?: number;
}

/** Retries of a run that fails with an error (a worker that dies is not a failure: its run is taken over). */
const ATTEMPTS = 3;

function jobData(sweep: string, job: Job, rounds: number): QueueJobData {
  return job.kind === 'run' ? { sweep, kind: 'run', id: job.id, spec: job.spec } : { sweep, kind: 'timing', id: job.id, specs: job.specs, rounds };
}

function fmt(x: number | undefined): string {
  return x === undefined || x === null || !Number.isFinite(x) ? 'NaN' : x.toFixed(3);
}

/** The steps of each run as streamed by its worker, mirrored into `<out>/runs/<id>.steps.jsonl`. */
class StepStreams {
  private readonly logs = new Map<string, StepRecord[]>();
  constructor(private readonly outDir: string) {
    mkdirSync(join(outDir, 'runs'), { recursive: true });
  }

  receive(id: string, log: { from: number; steps: StepRecord[] }): void {
    const have = this.logs.get(id) ?? [];
    if (log.from > have.length) return; // missed events: the file is rewritten from the result at the end
    const file = runFiles(this.outDir, id).steps;
    if (log.from === have.length && have.length > 0) {
      appendText(file, log.steps.map((s) => JSON.stringify(s) + '\n').join(''));
      have.push(...log.steps);
      return;
    }
    // A new attempt (a takeover restarts at its checkpoint): rewrite the mirror.
    const next = [...have.slice(0, log.from), ...log.steps];
    this.logs.set(id, next);
    writeAtomic(file, next.map((s) => JSON.stringify(s) + '\n').join(''));
  }
}

/**
 * Run a sweep's jobs on BullMQ workers and wait for all of them; same outcome and output files as a local sweep.
 * @example await runOnQueue({ url: 'redis://127.0.0.1:6379', sweep, outDir, jobs, rounds, view, cost });
 */
export async function runOnQueue(o: QueueSweep): Promise<SweepOutcome> {
  const connection = connectionFromUrl(o.url);
  const queue = new Queue<QueueJobData>(QUEUE_NAME, { connection });
  const events = new QueueEvents(QUEUE_NAME, { connection });
  const watch = new QueueWatch(o, queue);
  queue.on('error', (err) => watch.redisError(err));
  events.on('error', (err) => watch.redisError(err));
  events.on('active', ({ jobId }) => watch.onActive(jobId));
  events.on('progress', ({ jobId, data }) => watch.onProgress(jobId, data as QueueProgress));
  try {
    await enqueue(queue, o);
    await watch.untilDone();
  } finally {
    await events.close().catch(() => {});
    await queue.close().catch(() => {});
  }
  return watch.outcome();
}

/** The coordinator's view of a queued sweep: progress from the queue's events, results collected by polling. */
class QueueWatch {
  private readonly byJobId: Map<string, Job>;
  private readonly results = new Map<string, RunResult>();
  private readonly timings = new Map<string, StepTiming[]>();
  private readonly errors = new Map<string, string>();
  private readonly shown = new Set<string>();
  private readonly started = new Map<string, number>();
  private readonly streams: StepStreams;
  private redisDown = false;

  constructor(
    private readonly o: QueueSweep,
    private readonly queue: Queue<QueueJobData>,
  ) {
    this.byJobId = new Map(o.jobs.map((j) => [jobIdOf(o.sweep, j.id), j]));
    this.streams = new StepStreams(o.outDir);
  }

  outcome(): SweepOutcome {
    return { results: this.results, timings: this.timings, errors: this.errors };
  }

  redisError(err: Error): void {
    if (!this.redisDown) this.o.view.log(`queue: redis unreachable (${err.message}); waiting for it`);
    this.redisDown = true;
  }

  private isOpen(job: Job): boolean {
    return !this.results.has(job.id) && !this.timings.has(job.id);
  }

  /** First sign of a job (active or progress): its progress line starts. */
  private show(job: Job): void {
    if (this.shown.has(job.id)) return;
    this.shown.add(job.id);
    this.started.set(job.id, Date.now());
    if (job.kind === 'run') this.o.view.start(job.id, job.spec.settings.steps);
    else this.o.view.start(job.id, (this.o.rounds + 2) * job.specs.length, 'samples');
  }

  onActive(jobId: string): void {
    const job = this.byJobId.get(jobId);
    if (job && this.isOpen(job)) this.show(job);
  }

  /** A worker's progress event: notices, the progress line, and its new steps mirrored into the step log. */
  onProgress(jobId: string, p: QueueProgress): void {
    const job = this.byJobId.get(jobId);
    if (!job || !this.isOpen(job)) return;
    this.show(job);
    for (const n of p.notices ?? []) this.o.view.log(`note   ${n}${p.worker ? ` (worker ${p.worker})` : ''}`);
    if (p.progress) this.o.view.update(p.progress);
    try {
      if (p.log && job.kind === 'run') this.streams.receive(job.id, p.log);
    } catch (err) {
      if (!isStorageError(err)) throw err; // the final write from the result reports it
    }
  }

  /** Poll every job until each has completed or failed. */
  async untilDone(): Promise<void> {
    const pending = new Set(this.byJobId.keys());
    while (pending.size > 0) {
      await new Promise((r) => setTimeout(r, this.o.pollMs ?? 500));
      for (const jobId of [...pending]) if (await this.poll(jobId)) pending.delete(jobId);
    }
  }

  /** Look at one job on the queue; true once it is settled (collected, or failed for good). */
  private async poll(jobId: string): Promise<boolean> {
    const job = this.byJobId.get(jobId)!;
    const bull = await BullJob.fromId<QueueJobData>(this.queue, jobId);
    if (!bull) {
      await enqueue(this.queue, { ...this.o, jobs: [job] }); // removed by hand or lost: put it back
      return false;
    }
    const state = await bull.getState();
    if (this.redisDown) {
      this.o.view.log('queue: redis is back');
      this.redisDown = false;
    }
    if (state === 'completed') {
      // `bull` is the job hash as read before getState(): a job that completed in between reads 'completed'
      // with the older snapshot's null returnvalue. Read it again; still null → try on the next poll.
      const done = await BullJob.fromId<QueueJobData>(this.queue, jobId);
      if (done?.returnvalue === null || done?.returnvalue === undefined) return false;
      await this.collect(job, done.returnvalue as unknown);
      await bull.remove().catch(() => {});
      return true;
    }
    if (state !== 'failed') return false;
    this.errors.set(job.id, bull.failedReason);
    this.o.view.finish(job.id, `FAILED ${job.id}: ${String(bull.failedReason).split('\n')[0]}`);
    return true;
  }

  /** A completed job's result: written as a local sweep writes it, its Redis state cleared, its line printed. */
  private async collect(job: Job, value: unknown): Promise<void> {
    const { o } = this;
    const secs = ((Date.now() - (this.started.get(job.id) ?? Date.now())) / 1000).toFixed(1);
    if (job.kind === 'timing') {
      const t = (value as { timings: StepTiming[] }).timings;
      this.timings.set(job.id, t);
      writeAtomic(join(o.outDir, 'timing', `${job.id.replace(/^timing:/, '')}.json`), JSON.stringify(t));
      o.view.finish(job.id, `done   ${job.id.padEnd(34)} ${t.map((x) => `${x.variant}${x.p !== undefined ? `-p${x.p}` : ''} ${x.medianMs.toFixed(0)}ms`).join(', ')}`);
      return;
    }
    const result = value as RunResult;
    await writeRunFiles(o.outDir, result);
    this.results.set(job.id, result);
    await RedisRunStore.clear(await this.queue.client, o.sweep, job.id);
    const metric = getTask(result.task).metricKey;
    o.view.finish(job.id, `done   ${job.id.padEnd(34)} ${metric} ${fmt(result.final[metric])}  ${secs} s${result.diverged ? '  (diverged)' : ''}`);
  }
}

/** Add the jobs that are not on the queue yet (longest first), and send failed ones of an earlier attempt back. */
async function enqueue(queue: Queue<QueueJobData>, o: QueueSweep): Promise<void> {
  const ranked = [...o.jobs.filter((j) => j.kind === 'run').sort((a, b) => o.cost(b) - o.cost(a)), ...o.jobs.filter((j) => j.kind === 'timing')];
  const fresh: Array<{ job: Job; priority: number }> = [];
  for (const [i, job] of ranked.entries()) {
    const existing = await queue.getJob(jobIdOf(o.sweep, job.id));
    if (!existing) fresh.push({ job, priority: i + 1 });
    else if ((await existing.getState()) === 'failed') await existing.retry('failed');
  }
  await queue.addBulk(
    fresh.map(({ job, priority }) => ({
      name: job.kind,
      data: jobData(o.sweep, job, o.rounds),
      opts: { jobId: jobIdOf(o.sweep, job.id), priority, attempts: ATTEMPTS, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: false, removeOnFail: false },
    })),
  );
}
