// `rmsnorm reproduce`: plans the preset's runs, trains them in one worker process per core, shows progress, then
// summarises, judges the paper's claims and writes the report (report.html, results.json, CSV) under --out.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { availableParallelism, cpus } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateClaims } from './claims.js';
import { HELP, parse, UsageError, usageLine, type Parsed } from './args.js';
import { planRuns, PRESETS } from './presets.js';
import { ProgressView } from './progress.js';
import { cleanTempFiles, isStorageError, readJson } from './atomic-write.js';
import { runFiles, writeAtomic } from './runner.js';
import { summarize } from './summaries.js';
import { getTask } from './tasks/index.js';
import type { PresetName, RunSpec } from './tasks/task.js';
import { MIN_SAMPLE_MS, type KernelChecks, type ReproductionResults, type RunResult } from './types.js';
import type { StepTiming } from './timing.js';
import type { FromWorker, ToWorker } from './worker.js';

interface Manifest {
  version: 1;
  preset: PresetName;
  tasks: string[];
  seeds: number;
  startedAt: string;
  runs: string[];
  /** Set once the sweep has used a job queue: the id its jobs and Redis keys carry. */
  queue?: { sweep: string };
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

function timestamp(d: Date): string {
  return d.toISOString().replace(/[:]/g, '-').replace(/\..*$/, '');
}

function newestResultsDir(): string | null {
  if (!existsSync('results')) return null;
  const dirs = readdirSync('results')
    .map((d) => join('results', d))
    .filter((d) => existsSync(join(d, 'manifest.json')))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return dirs[0] ?? null;
}

/** What a sweep (local or queued) hands back; `stopped` = why it stopped early (a storage error), resumable. */
export interface SweepOutcome {
  results: Map<string, RunResult>;
  timings: Map<string, StepTiming[]>;
  errors: Map<string, string>;
  stopped?: string;
}

/** A unit of work for a worker: one training run, or the interleaved step timing of one task's variants. */
export type Job = { kind: 'run'; id: string; spec: RunSpec } | { kind: 'timing'; id: string; task: string; specs: RunSpec[] };

/** Timed samples (rounds) per variant in the interleaved pass (after 2 warm-up steps; timing.ts MIN_SAMPLE_MS). */
const TIMING_ROUNDS: Record<PresetName, number> = { tiny: 2, quick: 12, standard: 20, full: 20 };

/** Estimated seconds of a run (the tasks' calibrated cost models), for longest-first order and the ETA. */
function costOf(spec: RunSpec): number {
  return getTask(spec.task).costEstimate(spec.settings) * (spec.variant === 'layer-stock' ? 2.2 : 1);
}

function jobCost(job: Job, rounds: number): number {
  if (job.kind === 'run') return costOf(job.spec);
  // A timing sample is one step, or several short ones adding up to MIN_SAMPLE_MS.
  const stepCost = (s: RunSpec, steps: number) => costOf({ ...s, settings: { ...s.settings, steps, evalEvery: 1e9 } });
  return job.specs.reduce((a, s) => {
    const perStep = stepCost(s, 1) - stepCost(s, 0);
    return a + stepCost(s, 2) + rounds * Math.max(perStep, MIN_SAMPLE_MS / 1000);
  }, 0);
}

/** Path of the worker entry next to this file (.ts under tsx, .js once compiled). */
function workerPath(): string {
  const self = fileURLToPath(import.meta.url);
  return join(self, '..', `worker${extname(self)}`);
}

/** Node flags the worker needs (tsx's loader), without the test runner's own flags. */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const a = process.execArgv;
  for (let i = 0; i < a.length; i++) {
    if (a[i].startsWith('--test')) continue;
    if ((a[i] === '--import' || a[i] === '--require' || a[i] === '--loader' || a[i] === '-r') && i + 1 < a.length) {
      out.push(a[i], a[i + 1]);
      i++;
    } else if (/^--(import|require|loader|experimental-loader)=/.test(a[i])) out.push(a[i]);
  }
  return out;
}

/** ETA bookkeeping shared with the progress view: estimated cost left, measured ms per cost unit, worker count. */
interface RemainingCost {
  value: number;
  perCostMs: number;
  jobs: number;
}

/**
 * Run the training jobs (longest first), then the timing jobs, over `jobs` worker processes; resolves with every
 * finished result (failures reported in `errors`).
 */
async function runAll(
  allJobs: Job[],
  outDir: string,
  resume: boolean,
  jobs: number,
  rounds: number,
  view: ProgressView,
  remainingCost: RemainingCost,
): Promise<SweepOutcome> {
  remainingCost.jobs = jobs;
  const pool = new LocalPool(allJobs, outDir, resume, rounds, view, remainingCost);
  await pool.run(jobs);
  return pool.outcome();
}

/** One forked worker process and the job it is on. */
interface PoolWorker {
  child: ChildProcess;
  current: Job | null;
  /** The tail of its stderr, for the failure message when it dies. */
  stderr: string;
}

/** Local worker processes taking jobs off one queue; a worker that dies is replaced while jobs are left. */
class LocalPool {
  private readonly queue: Job[];
  private readonly results = new Map<string, RunResult>();
  private readonly timings = new Map<string, StepTiming[]>();
  private readonly errors = new Map<string, string>();
  private readonly workers: ChildProcess[] = [];
  private readonly started = new Map<string, number>();
  private readonly pool: PoolWorker[] = [];
  private stopped: string | undefined;
  private alive = 0;
  private resolveAll: () => void = () => {};

  constructor(
    private readonly allJobs: Job[],
    private readonly outDir: string,
    private readonly resume: boolean,
    private readonly rounds: number,
    private readonly view: ProgressView,
    private readonly remaining: RemainingCost,
  ) {
    this.queue = [
      ...allJobs.filter((j) => j.kind === 'run').sort((a, b) => jobCost(b, rounds) - jobCost(a, rounds)),
      ...allJobs.filter((j) => j.kind === 'timing'),
    ];
  }

  /** Start min(n, jobs) workers; resolves when every worker has exited. */
  async run(n: number): Promise<void> {
    await new Promise<void>((resolveAll) => {
      this.resolveAll = resolveAll;
      if (this.queue.length === 0) resolveAll();
      else for (let i = 0; i < Math.max(1, Math.min(n, this.queue.length)); i++) this.launch();
    });
    for (const w of this.workers) if (w.exitCode === null) w.kill();
  }

  outcome(): SweepOutcome {
    return { results: this.results, timings: this.timings, errors: this.errors, stopped: this.stopped };
  }

  /** A storage error (full disk) stops the whole sweep: no new runs, workers ended; checkpoints make it resumable. */
  private stop(reason: string): void {
    if (this.stopped !== undefined) return;
    this.stopped = reason;
    this.queue.length = 0;
    for (const w of this.workers) if (w.exitCode === null) w.kill();
  }

  private launch(): void {
    const child = fork(workerPath(), [], { execArgv: workerExecArgv(), stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const w: PoolWorker = { child, current: null, stderr: '' };
    this.pool.push(w);
    child.stderr?.on('data', (d: Buffer) => {
      w.stderr = (w.stderr + d.toString()).slice(-4000);
    });
    this.workers.push(child);
    this.alive++;
    child.on('message', (msg: FromWorker) => this.onMessage(w, msg));
    child.on('exit', (code) => this.onExit(w, code));
  }

  /** Hand the worker its next job, or tell it to exit when none is left. */
  private next(w: PoolWorker): void {
    if (this.stopped !== undefined) return; // the workers are being ended
    if (this.queue[0]?.kind === 'timing' && this.pool.some((o) => o !== w && o.current !== null)) {
      // A timing pass runs alone: a run or another pass in a second process would load the cores and memory it
      // measures. This worker leaves; the busy one takes the passes one after another when it is done.
      w.current = null;
      w.child.send({ type: 'exit' } satisfies ToWorker);
      return;
    }
    const job = (w.current = this.queue.shift() ?? null);
    if (!job) {
      w.child.send({ type: 'exit' } satisfies ToWorker);
      return;
    }
    this.started.set(job.id, Date.now());
    if (job.kind === 'run') {
      this.view.start(job.id, job.spec.settings.steps);
      w.child.send({ type: 'run', spec: job.spec, outDir: this.outDir, resume: this.resume } satisfies ToWorker);
    } else {
      this.view.start(job.id, (this.rounds + 2) * job.specs.length, 'samples');
      w.child.send({ type: 'timing', id: job.id, specs: job.specs, rounds: this.rounds } satisfies ToWorker);
    }
  }

  private jobOf(id: string): Job {
    return this.allJobs.find((j) => j.id === id)!;
  }

  private onMessage(w: PoolWorker, msg: FromWorker): void {
    if (msg.type === 'ready') this.next(w);
    else if (msg.type === 'progress') this.view.update(msg.progress);
    else if (msg.type === 'notice') this.view.log(`note   ${msg.message}`);
    else if (msg.type === 'done' || msg.type === 'timed') {
      this.onFinished(msg);
      this.next(w);
    } else if (msg.type === 'error') this.onError(w, msg);
  }

  /** A finished run or timing job: book its cost for the ETA, keep its result, print its line. */
  private onFinished(msg: Extract<FromWorker, { type: 'done' | 'timed' }>): void {
    const ms = Date.now() - (this.started.get(msg.id) ?? Date.now());
    const cost = jobCost(this.jobOf(msg.id), this.rounds);
    this.remaining.value -= cost;
    // Calibrate the ETA: measured ms per unit of estimated cost, smoothed.
    this.remaining.perCostMs = 0.5 * this.remaining.perCostMs + 0.5 * (ms / cost);
    if (msg.type === 'done') {
      this.results.set(msg.id, msg.result);
      const metric = getTask(msg.result.task).metricKey;
      this.view.finish(msg.id, `done   ${msg.id.padEnd(34)} ${metric} ${fmtNum(msg.result.final[metric])}  ${(ms / 1000).toFixed(1)} s${msg.result.diverged ? '  (diverged)' : ''}`);
      return;
    }
    this.timings.set(msg.id, msg.timings);
    try {
      writeAtomic(join(this.outDir, 'timing', `${msg.id.replace(/^timing:/, '')}.json`), JSON.stringify(msg.timings));
    } catch (err) {
      if (!isStorageError(err)) throw err;
      this.stop((err as Error).message);
    }
    this.view.finish(msg.id, `done   ${msg.id.padEnd(34)} ${msg.timings.map((t) => `${t.variant}${t.p !== undefined ? `-p${t.p}` : ''} ${t.medianMs.toFixed(0)}ms`).join(', ')}`);
  }

  /** A failed job: a storage error stops the sweep; any other is recorded and the worker goes on. */
  private onError(w: PoolWorker, msg: Extract<FromWorker, { type: 'error' }>): void {
    if (msg.storage) {
      this.view.finish(msg.id, `stopped ${msg.id}: ${msg.message}`);
      w.current = null;
      this.stop(msg.message);
      return;
    }
    this.errors.set(msg.id, msg.message);
    this.remaining.value -= jobCost(this.jobOf(msg.id), this.rounds);
    this.view.finish(msg.id, `FAILED ${msg.id}: ${msg.message.split('\n')[0]}`);
    this.next(w);
  }

  /** A worker exited: its unfinished job is stopped (sweep stopping) or failed, and a replacement starts. */
  private onExit(w: PoolWorker, code: number | null): void {
    this.alive--;
    const job = w.current;
    if (job && !this.results.has(job.id) && !this.errors.has(job.id)) {
      if (this.stopped !== undefined) {
        this.view.finish(job.id, `stopped ${job.id} (continues from its last checkpoint on --resume)`);
      } else {
        this.errors.set(job.id, `worker exited with code ${code}: ${w.stderr.split('\n').filter(Boolean).slice(-3).join(' | ')}`);
        this.view.finish(job.id, `FAILED ${job.id}: worker exited (${code})`);
        if (this.queue.length > 0) this.launch();
      }
    }
    if (this.alive === 0) this.resolveAll();
  }
}

function fmtNum(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? 'NaN' : x.toFixed(3);
}

async function invarianceTable(): Promise<unknown> {
  try {
    const mod = (await import('rmsnorm/internal')) as { computeInvarianceTable: () => unknown };
    return mod.computeInvarianceTable();
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Claims 6.1, 6.3, 6.4 measured in this process after training (the workers are gone, so the kernel timings have
 * the cores): kernel correctness, gradient laws, kernel speed (≈ 5–10 s). Saved as kernel-checks.json; --resume
 * reuses a saved file without errors.
 */
async function kernelChecks(outDir: string, resume: boolean, log: NodeJS.WritableStream): Promise<KernelChecks> {
  const file = join(outDir, 'kernel-checks.json');
  if (resume && existsSync(file)) {
    const saved = readSaved<KernelChecks>(file, log);
    if (saved && !saved.errors?.length) return saved;
  }
  const t0 = Date.now();
  log.write('kernel checks (claims 6.1, 6.3, 6.4): finite differences, gradient laws, kernel speed …\n');
  const out: KernelChecks = {};
  const errors: string[] = [];
  const part = async <T>(name: string, f: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await f();
    } catch (err) {
      errors.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  };
  out.correctness = await part('correctness', async () => (await import('rmsnorm/internal')).computeCorrectness());
  out.gradientClaims = await part('gradient claims', async () => (await import('rmsnorm/internal')).computeGradientClaims());
  out.kernelSpeed = await part('kernel speed', async () => (await import('../bench/kernel-speed.js')).measureKernelSpeed());
  if (errors.length > 0) out.errors = errors;
  writeAtomic(file, JSON.stringify(out));
  log.write(`kernel checks done in ${((Date.now() - t0) / 1000).toFixed(1)} s${errors.length ? ` (${errors.length} failed: ${errors.join('; ')})` : ''}\n`);
  return out;
}

/** --resume continues the plan in the manifest: explicit --preset/--tasks/--seeds that differ are refused, named. */
function resumeConflicts(opts: Parsed, m: Manifest): string[] {
  const out: string[] = [];
  if (opts.given.preset && opts.preset !== m.preset) out.push(`--preset ${opts.preset} (recorded: ${m.preset})`);
  if (opts.tasks && opts.tasks.join(',') !== m.tasks.join(',')) out.push(`--tasks ${opts.tasks.join(',')} (recorded: ${m.tasks.join(',')})`);
  if (opts.seeds !== undefined && opts.seeds !== m.seeds) out.push(`--seeds ${opts.seeds} (recorded: ${m.seeds})`);
  return out;
}

/** Files and folders of an earlier reproduction in `outDir` that --force deletes before starting over. */
function clearOldSweep(outDir: string): void {
  for (const name of ['runs', 'timing', 'kernel-checks.json', 'results.json', 'report.html', 'summary.csv', 'runs.csv', 'manifest.json']) {
    rmSync(join(outDir, name), { recursive: true, force: true });
  }
}

/** A JSON file saved by an earlier attempt, or null (with a note) when it is damaged: it is then recomputed. */
function readSaved<T>(file: string, log: NodeJS.WritableStream): T | null {
  try {
    return readJson<T>(file);
  } catch (err) {
    log.write(`note   ${(err as Error).message}: recomputing it\n`);
    return null;
  }
}

/** Output directory of the sweep in progress, for the resume hint of a storage error. */
let activeOut: string | null = null;

/**
 * Run `rmsnorm reproduce` with argv (after the subcommand); returns the exit code (0 ok, 1 failed runs or stopped on
 * a storage error — resumable, 2 bad usage).
 * @example await run(['--preset', 'quick', '--tasks', 'char-lm']);
 */
export async function run(argv: string[]): Promise<number> {
  activeOut = null;
  try {
    return await reproduce(argv);
  } catch (err) {
    if (!isStorageError(err)) throw err;
    // A full disk, quota or read-only mount: one line, no stack; checkpoints and atomic writes keep it resumable.
    console.error(`rmsnorm reproduce: stopped: ${(err as Error).message}${activeOut ? `; free space, then continue with: rmsnorm reproduce --resume --out ${activeOut}` : ''}`);
    return 1;
  }
}

async function reproduce(argv: string[]): Promise<number> {
  const opts = parseOrExit(argv);
  if (typeof opts === 'number') return opts;
  const log = opts.json ? process.stderr : process.stdout;
  const sweep = openSweep(opts, log);
  if (typeof sweep === 'number') return sweep;
  const { outDir, specs } = sweep;
  const finished = opts.resume ? loadFinished(specs, outDir, log) : new Map<string, RunResult>();
  const todo = specs.filter((s) => !finished.has(s.id));
  const timing = planTimingJobs(sweep, opts.resume, log);
  const allJobs: Job[] = [...todo.map((spec): Job => ({ kind: 'run', id: spec.id, spec })), ...timing.jobs];
  const jobs = opts.jobs ?? Math.max(1, typeof availableParallelism === 'function' ? availableParallelism() : cpus().length);
  log.write(
    `rmsnorm reproduce --preset ${sweep.preset}: ${specs.length} runs (${todo.length} to train${finished.size ? `, ${finished.size} already finished` : ''}) on ${opts.queue ? `the queue ${opts.queue} (sweep ${sweep.queueId})` : `${Math.min(jobs, Math.max(1, todo.length))} worker(s)`} → ${outDir}\n`,
  );
  const outcome = await runJobs(allJobs, sweep, opts, jobs, log);
  if (outcome.stopped !== undefined) {
    // The workers were ended mid-run; none is writing any more, so their temporary files can go.
    cleanTempFiles([outDir, join(outDir, 'runs'), join(outDir, 'timing')]);
    console.error(`rmsnorm reproduce: stopped: ${outcome.stopped}; free space, then continue with: rmsnorm reproduce --resume --out ${outDir}`);
    return 1;
  }
  for (const [id, t] of outcome.timings) timing.done.set(id.replace(/^timing:/, ''), t);
  const runs = specs.map((s) => finished.get(s.id) ?? outcome.results.get(s.id)).filter((r): r is RunResult => r !== undefined);
  const results = await judge(runs, Object.fromEntries(timing.done), sweep, opts, log);
  return await writeOutputs(results, outDir, opts, outcome.errors, log);
}

/** The parsed options, or the exit code after printing --help (0) or a usage error (2). */
function parseOrExit(argv: string[]): Parsed | number {
  try {
    const opts = parse(argv);
    if (!opts.help) return opts;
    console.log(HELP);
    return 0;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(usageLine(err));
    return 2;
  }
}

/** The sweep being run: its directory, plan and (for --queue) the id its jobs carry. */
interface Sweep {
  outDir: string;
  startedAt: string;
  preset: PresetName;
  tasks: string[];
  specs: RunSpec[];
  queueId?: string;
}

/**
 * The manifest of --resume (exit code 2 with one line when there is none or it conflicts with explicit options), or
 * null for a new sweep (an --out holding an earlier one needs --force, which deletes it).
 */
function priorManifest(opts: Parsed): { outDir?: string; manifest: Manifest | null } | number {
  if (!opts.resume) {
    if (opts.out === undefined || !existsSync(join(opts.out, 'manifest.json'))) return { outDir: opts.out, manifest: null };
    if (!opts.force) {
      console.error(`rmsnorm reproduce: --out ${opts.out} already holds a reproduction: continue it with --resume, or pass --force to delete it and start over`);
      return 2;
    }
    clearOldSweep(opts.out);
    return { outDir: opts.out, manifest: null };
  }
  const outDir = opts.out ?? newestResultsDir() ?? undefined;
  if (!outDir || !existsSync(join(outDir, 'manifest.json'))) {
    console.error(`rmsnorm reproduce: --resume: no earlier run found${outDir ? ` in ${outDir}` : ' under results/'} (pass --out DIR)`);
    return 2;
  }
  let manifest: Manifest;
  try {
    manifest = readJson<Manifest>(join(outDir, 'manifest.json'));
  } catch (err) {
    console.error(`rmsnorm reproduce: --resume: ${(err as Error).message}`);
    return 2;
  }
  const conflicts = resumeConflicts(opts, manifest);
  if (conflicts.length === 0) return { outDir, manifest };
  console.error(
    `rmsnorm reproduce: --resume continues the plan recorded in ${join(outDir, 'manifest.json')}; ${conflicts.join(', ')} differ: drop them, or start a new sweep with another --out`,
  );
  return 2;
}

/** Plan the sweep (from the manifest on --resume), create its directory and write the manifest of a new one. */
function openSweep(opts: Parsed, log: NodeJS.WritableStream): Sweep | number {
  const prior = priorManifest(opts);
  if (typeof prior === 'number') return prior;
  const { manifest } = prior;
  const startedAt = manifest?.startedAt ?? new Date().toISOString();
  const outDir = resolve(prior.outDir ?? join('results', timestamp(new Date())));
  const preset = manifest?.preset ?? opts.preset;
  const tasks = manifest?.tasks ?? opts.tasks ?? PRESETS[preset].tasks;
  const seeds = manifest?.seeds ?? opts.seeds ?? PRESETS[preset].seeds;
  const specs = planRuns({ preset, tasks, seeds });
  mkdirSync(outDir, { recursive: true });
  activeOut = outDir;
  // Temporary files of processes that were killed mid-write (no process of this sweep is running now).
  const stale = cleanTempFiles([outDir, join(outDir, 'runs'), join(outDir, 'timing')]);
  if (stale > 0) log.write(`removed ${stale} temporary file(s) left by an interrupted run\n`);
  // A queued sweep gets an id for its jobs and Redis keys, kept in the manifest so a coordinator can reattach.
  const queueId = opts.queue ? (manifest?.queue?.sweep ?? randomUUID().slice(0, 12)) : undefined;
  if (!manifest || (queueId && !manifest.queue)) {
    const queue = queueId ? { queue: { sweep: queueId } } : {};
    writeAtomic(join(outDir, 'manifest.json'), JSON.stringify({ version: 1, preset, tasks, seeds, startedAt, runs: specs.map((s) => s.id), ...queue } satisfies Manifest, null, 1));
  }
  return { outDir, startedAt, preset, tasks, specs, queueId };
}

/** Runs finished by an earlier attempt (a result file; --resume skips them); unreadable ones continue instead. */
function loadFinished(specs: RunSpec[], outDir: string, log: NodeJS.WritableStream): Map<string, RunResult> {
  const finished = new Map<string, RunResult>();
  for (const s of specs) {
    const f = runFiles(outDir, s.id).result;
    if (!existsSync(f)) continue;
    try {
      finished.set(s.id, readJson<RunResult>(f));
    } catch (err) {
      log.write(`note   ${(err as Error).message}: run ${s.id} continues from its checkpoint\n`);
    }
  }
  return finished;
}

/** Interleaved timing of each task's main variants (seed 1), unless a finished one is on disk (--resume). */
function planTimingJobs(sweep: Sweep, resume: boolean, log: NodeJS.WritableStream): { done: Map<string, StepTiming[]>; jobs: Job[] } {
  mkdirSync(join(sweep.outDir, 'timing'), { recursive: true });
  const done = new Map<string, StepTiming[]>();
  const jobs: Job[] = [];
  for (const task of sweep.tasks) {
    const file = join(sweep.outDir, 'timing', `${task}.json`);
    const saved = resume && existsSync(file) ? readSaved<StepTiming[]>(file, log) : null;
    if (saved) done.set(task, saved);
    else jobs.push({ kind: 'timing', id: `timing:${task}`, task, specs: sweep.specs.filter((s) => s.task === task && (s.group === 'main' || s.group === 'p-sweep') && s.seed === 1) });
  }
  return { done, jobs };
}

/** Run the jobs on local worker processes or the queue, with progress and a resume hint on Ctrl-C. */
async function runJobs(allJobs: Job[], sweep: Sweep, opts: Parsed, jobs: number, log: NodeJS.WriteStream): Promise<SweepOutcome> {
  const { outDir } = sweep;
  const rounds = TIMING_ROUNDS[sweep.preset];
  const remaining = { value: allJobs.reduce((a, j) => a + jobCost(j, rounds), 0), perCostMs: 1000, jobs };
  const view = new ProgressView(log, allJobs.length, () => (remaining.value * remaining.perCostMs) / remaining.jobs);
  const onSigint = () => {
    log.write(`\ninterrupted: continue with  rmsnorm reproduce --resume --out ${outDir}${opts.queue ? ` --queue ${opts.queue}` : ''}\n`);
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  try {
    return opts.queue && sweep.queueId
      ? await (await import('./queue/coordinator.js')).runOnQueue({ url: opts.queue, sweep: sweep.queueId, outDir, jobs: allJobs, rounds, view, cost: (j) => jobCost(j, rounds) })
      : await runAll(allJobs, outDir, opts.resume, jobs, rounds, view, remaining);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

/** Recurrent-state statistics of the main seed-1 runs, per task and variant (claim 6.6). */
function recurrentStatsOf(runs: RunResult[]): Record<string, Record<string, never>> {
  const out: Record<string, Record<string, never>> = {};
  for (const r of runs) {
    const st = r.extra?.recurrentStats;
    if (!st || r.config.group !== 'main' || r.seed !== 1) continue;
    (out[r.task] ??= {})[r.variant] = st as never;
  }
  return out;
}

/** Summaries, the invariance table and kernel checks measured here, and the claims' verdicts: the results file. */
async function judge(runs: RunResult[], stepTimings: Record<string, StepTiming[]>, sweep: Sweep, opts: Parsed, log: NodeJS.WritableStream): Promise<ReproductionResults> {
  const summaries = summarize(runs, stepTimings);
  const invariance = await invarianceTable();
  const checks = await kernelChecks(sweep.outDir, opts.resume, log);
  const claims = evaluateClaims({
    summaries,
    recurrentStats: recurrentStatsOf(runs),
    invariance: invariance && typeof (invariance as { allMatch?: unknown }).allMatch === 'boolean' ? (invariance as { allMatch: boolean }) : null,
    kernelChecks: checks,
  });
  return {
    version: packageVersion(),
    preset: sweep.preset,
    startedAt: sweep.startedAt,
    finishedAt: new Date().toISOString(),
    machine: { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, backend: opts.queue ? 'tfjs-wasm (BullMQ workers, one process per core)' : 'tfjs-wasm (one process per core)' },
    runs,
    summaries,
    claims,
    invariance,
    stepTimings,
    kernelChecks: checks,
  };
}

/** Write the report, print the summary table (and --json), list failed runs; the exit code (1 if any failed). */
async function writeOutputs(results: ReproductionResults, outDir: string, opts: Parsed, errors: Map<string, string>, log: NodeJS.WritableStream): Promise<number> {
  const { writeReport, formatSummaryTable } = await import('../report/index.js');
  const files = writeReport(results, outDir);
  log.write(`\n${formatSummaryTable(results)}\n\nreport: ${files.html}\n`);
  if (opts.json) process.stdout.write(JSON.stringify({ out: outDir, summaries: results.summaries, claims: results.claims }, null, 1) + '\n');
  if (errors.size === 0) return 0;
  log.write(`${errors.size} run(s) failed:\n${[...errors].map(([id, m]) => `  ${id}: ${m.split('\n')[0]}`).join('\n')}\nrerun them with: rmsnorm reproduce --resume --out ${outDir}\n`);
  return 1;
}
