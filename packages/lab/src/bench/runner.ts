// The timing harness: warm up every configuration (until the JIT has settled), calibrate calls per sample, then
// measure round-robin over all configurations for several rounds (so drift and other processes' load spread evenly),
// rotating buffer sets.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { BenchRecord } from './record.js';
import { median } from './stats.js';

/** One configuration to time: the identifying fields of its record, plus `call(i)`, one call on rotation index i. */
export interface BenchCase extends Pick<BenchRecord, 'op' | 'direction' | 'impl' | 'backend' | 'threads' | 'rows' | 'cols' | 'p'> {
  /** Logical bytes read + written per call (stats.ts opBytes; ceiling loops: their own streams). */
  bytes: number;
  call(i: number): unknown;
}

export interface MeasureOptions {
  /** Most samples per case. */
  reps: number;
  /** Fewest samples per case (slow peers get this many). */
  minReps: number;
  /** Round-robin rounds. */
  rounds: number;
  /** Measured time aimed at per case, ms (decides the sample count between minReps and reps). */
  budgetMs: number;
  /** Aim for samples of at least this many ms (fast calls are batched), so timer resolution does not matter. */
  sampleMs: number;
  /** A case whose first call takes longer than this (ms) is dropped with an error instead of being timed. */
  maxCallMs?: number;
}

/** CPU ms (this process, all threads) since the `process.cpuUsage()` reading u0. */
function cpuMsSince(u0: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(u0);
  return (u.user + u.system) / 1000;
}


const pauseCell = new Int32Array(new SharedArrayBuffer(4));

/** Block this thread for `ms` (Atomics.wait: no busy-waiting, no event-loop turn). */
function pause(ms: number): void {
  Atomics.wait(pauseCell, 0, 0, ms);
}

/** ms a warmed-up case still needs for its remaining samples. */
function msLeft(s: State): number {
  return s.error !== undefined ? 0 : Math.max(0, s.target - s.samples.length) * s.batch * s.est;
}

export interface Measured {
  case: BenchCase;
  /** ms per call, one value per sample. */
  samples: number[];
  /** CPU time of the whole process (all threads, user + system) per call, ms, one value per sample: on a loaded
   *  machine wall ≫ CPU shows the process was descheduled; CPU above the alone value shows other threads of this
   *  process (GC helpers, peers' pools) working during the samples. */
  cpuSamples: number[];
  error?: string;
}

/** What `measure` tells its progress callback: each warm-up (with the estimate), then each round. */
export type MeasureEvent =
  | { kind: 'warm-up'; index: number; total: number; case: BenchCase; msPerCall: number; error?: string }
  | { kind: 'round'; round: number; rounds: number; msLeft: number };

interface State extends Measured {
  batch: number;
  target: number;
  counter: number;
  /** Estimated ms per call from the warm-up. */
  est: number;
}

async function timeBatch(s: State): Promise<number> {
  const c = s.case;
  const u0 = process.cpuUsage();
  const t0 = performance.now();
  for (let j = 0; j < s.batch; j++) {
    const r = c.call(s.counter++);
    if (r instanceof Promise) await r;
  }
  const ms = (performance.now() - t0) / s.batch;
  const u = process.cpuUsage(u0);
  s.cpuSamples.push((u.user + u.system) / 1000 / s.batch);
  return ms;
}

async function warmUp(c: BenchCase, o: MeasureOptions): Promise<State> {
  const s: State = { case: c, samples: [], cpuSamples: [], batch: 1, target: 0, counter: 0, est: NaN };
  try {
    const u0 = process.cpuUsage();
    const t0 = performance.now();
    const first = c.call(s.counter++);
    if (first instanceof Promise) await first;
    let est = performance.now() - t0;
    s.est = est;
    // A call far beyond the cap (a peer whose extrapolated cost was wrong) is not repeated: one call is all it costs.
    if (o.maxCallMs !== undefined && est > o.maxCallMs) {
      s.error = `first call took ${(est / 1000).toFixed(1)} s > --max-call`;
      return s;
    }
    // Keep calling — at least 6 calls and 30 ms, at most ≈ 2 s of CPU — so the JIT settles before any sample: V8 optimises
    // a JavaScript kernel only after a few calls (our js backward at 16384×1024 costs ≈ 5× more in its first three
    // calls than from the fourth on), and a configuration timed on its first calls would read slow in a fresh
    // process and fast in a long run. The estimate is the median of the loop's second half (JIT settled; one
    // descheduled call on a busy machine does not count).
    // The cap counts this process's CPU time, not wall time: on a busy machine a wall-clock cap cut the warm-up
    // before V8 had optimised a slow kernel.
    const times: number[] = [];
    const t1 = performance.now();
    while ((times.length < 5 || performance.now() - t1 < 30) && cpuMsSince(u0) < 2000) {
      const t = performance.now();
      const r = c.call(s.counter++);
      if (r instanceof Promise) await r;
      times.push(performance.now() - t);
    }
    if (times.length > 0) est = Math.max(1e-4, median(times.slice(times.length >> 1)));
    s.est = est;
    s.batch = Math.max(1, Math.round(o.sampleMs / est));
    s.target = Math.max(o.minReps, Math.min(o.reps, Math.floor(o.budgetMs / (s.batch * est))));
  } catch (err) {
    s.error = err instanceof Error ? err.message : String(err);
  }
  return s;
}

/**
 * Measure all cases interleaved. `progress` is told after each warm-up and each round.
 * @example const results = await measure(cases, { reps: 21, minReps: 3, rounds: 5, budgetMs: 800, sampleMs: 2 });
 */
export async function measure(
  cases: readonly BenchCase[],
  o: MeasureOptions,
  progress?: (e: MeasureEvent) => void,
): Promise<Measured[]> {
  const states: State[] = [];
  for (const [index, c] of cases.entries()) {
    const s = await warmUp(c, o);
    states.push(s);
    progress?.({ kind: 'warm-up', index, total: cases.length, case: c, msPerCall: s.est, error: s.error });
  }
  let previous: State | null = null;
  for (let r = 0; r < o.rounds; r++) {
    // Rotate the starting case each round so no configuration always runs right after the same neighbour.
    for (let j = 0; j < states.length; j++) {
      const s = states[(j + r) % states.length];
      if (s.error !== undefined) continue;
      // Worker threads spin ~0.2 ms after each job before they sleep: switching between multi-threaded cases, let
      // the previous case's workers go to sleep first, so they do not share the cores with the next case's samples.
      if (previous !== null && previous !== s && (previous.case.threads > 1 || s.case.threads > 1)) pause(1);
      previous = s;
      const quota = Math.ceil(s.target / o.rounds);
      for (let q = 0; q < quota && s.samples.length < s.target; q++) {
        try {
          s.samples.push(await timeBatch(s));
        } catch (err) {
          s.error = err instanceof Error ? err.message : String(err);
          break;
        }
      }
    }
    progress?.({ kind: 'round', round: r + 1, rounds: o.rounds, msLeft: states.reduce((a, s) => a + msLeft(s), 0) });
  }
  return states.map(({ case: c, samples, cpuSamples, error }) =>
    (error === undefined ? { case: c, samples, cpuSamples } : { case: c, samples, cpuSamples, error }));
}

let gcFunction: (() => void) | null | undefined;

/**
 * A full, synchronous garbage collection (V8's `gc`, exposed at run time), then a pause for V8's helper threads and
 * idle tasks to finish: what a measurement phase starts from, so no marking or sweeping left over from allocating
 * the shape's buffers (or from the peers' per-call outputs) runs during its samples.
 * @example await settle(); const results = await measure(cases, o);
 */
export async function settle(): Promise<void> {
  if (gcFunction === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      gcFunction = vm.runInNewContext('gc') as () => void;
    } catch {
      gcFunction = null;
    }
  }
  gcFunction?.();
  await sleep(100);
}
