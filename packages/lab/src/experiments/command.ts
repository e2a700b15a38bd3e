// `rmsnorm reproduce`: plans the preset's runs, trains them in one worker process per core, shows progress, then
// summarises, judges the paper's claims and writes the report (report.html, results.json, CSV) under --out.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { availableParallelism, cpus } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateClaims } from './claims.js';
import { HELP, parse, UsageError, type Parsed } from './args.js';
import { planRuns, PRESETS } from './presets.js';
import { ProgressView } from './progress.js';
import { cleanTempFiles, isStorageError, readJson } from './atomic-write.js';
import { runFiles, writeAtomic } from './runner.js';
import { summarize } from './summaries.js';
import { getTask } from './tasks/index.js';
import type { PresetName, RunSpec } from './tasks/task.js';
import type { KernelChecks, ReproductionResults, RunResult } from './types.js';
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

/** Timed steps per variant in the interleaved pass (after 2 warm-up steps). */
const TIMING_ROUNDS: Record<PresetName, number> = { tiny: 2, quick: 12, standard: 20, full: 20 };

/** Estimated seconds of a run (the tasks' calibrated cost models), for longest-first order and the ETA. */
function costOf(spec: RunSpec): number {
  return getTask(spec.task).costEstimate(spec.settings) * (spec.variant === 'layer-stock' ? 2.2 : 1);
}

function jobCost(job: Job, rounds: number): number {
  if (job.kind === 'run') return costOf(job.spec);
  return job.specs.reduce((a, s) => a + costOf({ ...s, settings: { ...s.settings, steps: rounds + 2, evalEvery: 1e9 } }), 0);
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
  remainingCost: { value: number; perCostMs: number; jobs: number },
): Promise<SweepOutcome> {
  const queue = [
    ...allJobs.filter((j) => j.kind === 'run').sort((a, b) => jobCost(b, rounds) - jobCost(a, rounds)),
    ...allJobs.filter((j) => j.kind === 'timing'),
  ];
  const results = new Map<string, RunResult>();
  const timings = new Map<string, StepTiming[]>();
  const errors = new Map<string, string>();
  const workers: ChildProcess[] = [];
  const started = new Map<string, number>();
  remainingCost.jobs = jobs;
  let stopped: string | undefined;
  // A storage error (full disk) stops the whole sweep: no new runs, workers ended; checkpoints make it resumable.
  const stop = (reason: string) => {
    if (stopped !== undefined) return;
    stopped = reason;
    queue.length = 0;
    for (const w of workers) if (w.exitCode === null) w.kill();
  };
  await new Promise<void>((resolveAll) => {
    let alive = 0;
    const launch = () => {
      const child = fork(workerPath(), [], { execArgv: workerExecArgv(), stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-4000);
      });
      workers.push(child);
      alive++;
      let current: Job | null = null;
      const next = () => {
        if (stopped !== undefined) return; // the workers are being ended
        current = queue.shift() ?? null;
        if (!current) {
          child.send({ type: 'exit' } satisfies ToWorker);
          return;
        }
        started.set(current.id, Date.now());
        if (current.kind === 'run') {
          view.start(current.id, current.spec.settings.steps);
          child.send({ type: 'run', spec: current.spec, outDir, resume } satisfies ToWorker);
        } else {
          view.start(current.id, (rounds + 2) * current.specs.length);
          child.send({ type: 'timing', id: current.id, specs: current.specs, rounds } satisfies ToWorker);
        }
      };
      const jobOf = (id: string): Job => allJobs.find((j) => j.id === id)!;
      child.on('message', (msg: FromWorker) => {
        if (msg.type === 'ready') next();
        else if (msg.type === 'progress') view.update(msg.progress);
        else if (msg.type === 'done' || msg.type === 'timed') {
          const job = jobOf(msg.id);
          const ms = Date.now() - (started.get(msg.id) ?? Date.now());
          const cost = jobCost(job, rounds);
          remainingCost.value -= cost;
          // Calibrate the ETA: measured ms per unit of estimated cost, smoothed.
          remainingCost.perCostMs = 0.5 * remainingCost.perCostMs + 0.5 * (ms / cost);
          if (msg.type === 'done') {
            results.set(msg.id, msg.result);
            const metric = getTask(msg.result.task).metricKey;
            view.finish(msg.id, `done   ${msg.id.padEnd(34)} ${metric} ${fmtNum(msg.result.final[metric])}  ${(ms / 1000).toFixed(1)} s${msg.result.diverged ? '  (diverged)' : ''}`);
          } else {
            timings.set(msg.id, msg.timings);
            try {
              writeAtomic(join(outDir, 'timing', `${msg.id.replace(/^timing:/, '')}.json`), JSON.stringify(msg.timings));
            } catch (err) {
              if (!isStorageError(err)) throw err;
              stop((err as Error).message);
            }
            view.finish(msg.id, `done   ${msg.id.padEnd(34)} ${msg.timings.map((t) => `${t.variant}${t.p !== undefined ? `-p${t.p}` : ''} ${t.medianMs.toFixed(0)}ms`).join(', ')}`);
          }
          next();
        } else if (msg.type === 'notice') {
          view.log(`note   ${msg.message}`);
        } else if (msg.type === 'error') {
          if (msg.storage) {
            view.finish(msg.id, `stopped ${msg.id}: ${msg.message}`);
            current = null;
            stop(msg.message);
            return;
          }
          errors.set(msg.id, msg.message);
          remainingCost.value -= jobCost(jobOf(msg.id), rounds);
          view.finish(msg.id, `FAILED ${msg.id}: ${msg.message.split('\n')[0]}`);
          next();
        }
      });
      child.on('exit', (code) => {
        alive--;
        if (current && stopped !== undefined && !results.has(current.id) && !errors.has(current.id)) {
          view.finish(current.id, `stopped ${current.id} (continues from its last checkpoint on --resume)`);
        } else if (current && !results.has(current.id) && !errors.has(current.id)) {
          errors.set(current.id, `worker exited with code ${code}: ${stderr.split('\n').filter(Boolean).slice(-3).join(' | ')}`);
          view.finish(current.id, `FAILED ${current.id}: worker exited (${code})`);
          if (queue.length > 0) launch();
        }
        if (alive === 0) resolveAll();
      });
    };
    const n = Math.max(1, Math.min(jobs, queue.length));
    if (queue.length === 0) resolveAll();
    else for (let i = 0; i < n; i++) launch();
  });
  for (const w of workers) if (w.exitCode === null) w.kill();
  return { results, timings, errors, stopped };
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
  let opts: Parsed;
  try {
    opts = parse(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`rmsnorm reproduce: ${err.message} (see --help)`);
      return 2;
    }
    throw err;
  }
  if (opts.help) {
    console.log(HELP);
    return 0;
  }
  const log = opts.json ? process.stderr : process.stdout;
  let outDir = opts.out;
  let manifest: Manifest | null = null;
  if (opts.resume) {
    outDir ??= newestResultsDir() ?? undefined;
    if (!outDir || !existsSync(join(outDir, 'manifest.json'))) {
      console.error(`rmsnorm reproduce: --resume: no earlier run found${outDir ? ` in ${outDir}` : ' under results/'} (pass --out DIR)`);
      return 2;
    }
    try {
      manifest = readJson<Manifest>(join(outDir, 'manifest.json'));
    } catch (err) {
      console.error(`rmsnorm reproduce: --resume: ${(err as Error).message}`);
      return 2;
    }
    const conflicts = resumeConflicts(opts, manifest);
    if (conflicts.length > 0) {
      console.error(
        `rmsnorm reproduce: --resume continues the plan recorded in ${join(outDir, 'manifest.json')}; ${conflicts.join(', ')} differ: drop them, or start a new sweep with another --out`,
      );
      return 2;
    }
  } else if (opts.out !== undefined && existsSync(join(opts.out, 'manifest.json'))) {
    if (!opts.force) {
      console.error(`rmsnorm reproduce: --out ${opts.out} already holds a reproduction: continue it with --resume, or pass --force to delete it and start over`);
      return 2;
    }
    clearOldSweep(opts.out);
  }
  const startedAt = manifest?.startedAt ?? new Date().toISOString();
  outDir = resolve(outDir ?? join('results', timestamp(new Date())));
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
  const sweep = opts.queue ? (manifest?.queue?.sweep ?? randomUUID().slice(0, 12)) : undefined;
  if (!manifest || (sweep && !manifest.queue)) {
    const queue = sweep ? { queue: { sweep } } : {};
    writeAtomic(join(outDir, 'manifest.json'), JSON.stringify({ version: 1, preset, tasks, seeds, startedAt, runs: specs.map((s) => s.id), ...queue } satisfies Manifest, null, 1));
  }

  // Finished runs (a result file) are skipped on --resume; the rest start or continue from their checkpoint.
  const finished = new Map<string, RunResult>();
  if (opts.resume) {
    for (const s of specs) {
      const f = runFiles(outDir, s.id).result;
      if (!existsSync(f)) continue;
      try {
        finished.set(s.id, readJson<RunResult>(f));
      } catch (err) {
        log.write(`note   ${(err as Error).message}: run ${s.id} continues from its checkpoint\n`);
      }
    }
  }
  const todo = specs.filter((s) => !finished.has(s.id));
  // Interleaved timing of each task's main variants (seed 1), unless a finished one is on disk (--resume).
  mkdirSync(join(outDir, 'timing'), { recursive: true });
  const doneTimings = new Map<string, StepTiming[]>();
  const timingJobs: Job[] = [];
  for (const task of tasks) {
    const file = join(outDir, 'timing', `${task}.json`);
    const saved = opts.resume && existsSync(file) ? readSaved<StepTiming[]>(file, log) : null;
    if (saved) doneTimings.set(task, saved);
    else timingJobs.push({ kind: 'timing', id: `timing:${task}`, task, specs: specs.filter((s) => s.task === task && (s.group === 'main' || s.group === 'p-sweep') && s.seed === 1) });
  }
  const allJobs: Job[] = [...todo.map((spec): Job => ({ kind: 'run', id: spec.id, spec })), ...timingJobs];
  const rounds = TIMING_ROUNDS[preset];
  const jobs = opts.jobs ?? Math.max(1, typeof availableParallelism === 'function' ? availableParallelism() : cpus().length);
  log.write(
    `rmsnorm reproduce --preset ${preset}: ${specs.length} runs (${todo.length} to train${finished.size ? `, ${finished.size} already finished` : ''}) on ${opts.queue ? `the queue ${opts.queue} (sweep ${sweep})` : `${Math.min(jobs, Math.max(1, todo.length))} worker(s)`} → ${outDir}\n`,
  );
  const remaining = { value: allJobs.reduce((a, j) => a + jobCost(j, rounds), 0), perCostMs: 1000, jobs };
  const view = new ProgressView(log, allJobs.length, () => (remaining.value * remaining.perCostMs) / remaining.jobs);
  const onSigint = () => {
    log.write(`\ninterrupted: continue with  rmsnorm reproduce --resume --out ${outDir}${opts.queue ? ` --queue ${opts.queue}` : ''}\n`);
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  const { results, timings, errors, stopped } =
    opts.queue && sweep
      ? await (await import('./queue/coordinator.js')).runOnQueue({ url: opts.queue, sweep, outDir, jobs: allJobs, rounds, view, cost: (j) => jobCost(j, rounds) })
      : await runAll(allJobs, outDir, opts.resume, jobs, rounds, view, remaining);
  if (stopped !== undefined) {
    process.removeListener('SIGINT', onSigint);
    // The workers were ended mid-run; none is writing any more, so their temporary files can go.
    cleanTempFiles([outDir, join(outDir, 'runs'), join(outDir, 'timing')]);
    console.error(`rmsnorm reproduce: stopped: ${stopped}; free space, then continue with: rmsnorm reproduce --resume --out ${outDir}`);
    return 1;
  }
  for (const [id, t] of timings) doneTimings.set(id.replace(/^timing:/, ''), t);
  const stepTimings = Object.fromEntries(doneTimings);
  process.removeListener('SIGINT', onSigint);

  const runs = specs.map((s) => finished.get(s.id) ?? results.get(s.id)).filter((r): r is RunResult => r !== undefined);
  const summaries = summarize(runs, stepTimings);
  const invariance = await invarianceTable();
  const checks = await kernelChecks(outDir, opts.resume, log);
  const recurrentStats: Record<string, Record<string, never>> = {};
  for (const r of runs) {
    const st = r.extra?.recurrentStats;
    if (!st || r.config.group !== 'main' || r.seed !== 1) continue;
    (recurrentStats[r.task] ??= {})[r.variant] = st as never;
  }
  const claims = evaluateClaims({
    summaries,
    recurrentStats,
    invariance: invariance && typeof (invariance as { allMatch?: unknown }).allMatch === 'boolean' ? (invariance as { allMatch: boolean }) : null,
    kernelChecks: checks,
  });
  const results2: ReproductionResults = {
    version: packageVersion(),
    preset,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, backend: opts.queue ? 'tfjs-wasm (BullMQ workers, one process per core)' : 'tfjs-wasm (one process per core)' },
    runs,
    summaries,
    claims,
    invariance,
    stepTimings,
    kernelChecks: checks,
  };
  const { writeReport, formatSummaryTable } = await import('../report/index.js');
  const files = writeReport(results2, outDir);
  log.write(`\n${formatSummaryTable(results2)}\n\nreport: ${files.html}\n`);
  if (opts.json) process.stdout.write(JSON.stringify({ out: outDir, summaries, claims }, null, 1) + '\n');
  if (errors.size > 0) {
    log.write(`${errors.size} run(s) failed:\n${[...errors].map(([id, m]) => `  ${id}: ${m.split('\n')[0]}`).join('\n')}\nrerun them with: rmsnorm reproduce --resume --out ${outDir}\n`);
    return 1;
  }
  return 0;
}
