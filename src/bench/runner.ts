// The timing harness: warm up every configuration, calibrate calls per sample, then measure round-robin over all
// configurations for several rounds (so drift and other processes' load spread evenly), rotating buffer sets.
import { performance } from 'node:perf_hooks';
import type { BenchRecord } from './record.js';

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
}

export interface Measured {
  case: BenchCase;
  /** ms per call, one value per sample. */
  samples: number[];
  error?: string;
}

interface State extends Measured {
  batch: number;
  target: number;
  counter: number;
}

async function timeBatch(s: State): Promise<number> {
  const c = s.case;
  const t0 = performance.now();
  for (let j = 0; j < s.batch; j++) {
    const r = c.call(s.counter++);
    if (r instanceof Promise) await r;
  }
  return (performance.now() - t0) / s.batch;
}

async function warmUp(c: BenchCase, o: MeasureOptions): Promise<State> {
  const s: State = { case: c, samples: [], batch: 1, target: 0, counter: 0 };
  try {
    const t0 = performance.now();
    const first = c.call(s.counter++);
    if (first instanceof Promise) await first;
    let est = performance.now() - t0;
    // Cheap calls: keep calling ~30 ms to let the JIT settle, then estimate the per-call time from a fresh batch.
    if (est < 100) {
      let n = 0;
      const t1 = performance.now();
      while (performance.now() - t1 < 30 || n < 3) {
        const r = c.call(s.counter++);
        if (r instanceof Promise) await r;
        n++;
      }
      est = (performance.now() - t1) / n;
    }
    s.batch = Math.max(1, Math.round(o.sampleMs / est));
    s.target = Math.max(o.minReps, Math.min(o.reps, Math.floor(o.budgetMs / (s.batch * est))));
  } catch (err) {
    s.error = err instanceof Error ? err.message : String(err);
  }
  return s;
}

/**
 * Measure all cases interleaved. `progress` is told after each round.
 * @example const results = await measure(cases, { reps: 21, minReps: 3, rounds: 5, budgetMs: 800, sampleMs: 2 });
 */
export async function measure(
  cases: readonly BenchCase[],
  o: MeasureOptions,
  progress?: (round: number) => void,
): Promise<Measured[]> {
  const states: State[] = [];
  for (const c of cases) states.push(await warmUp(c, o));
  for (let r = 0; r < o.rounds; r++) {
    // Rotate the starting case each round so no configuration always runs right after the same neighbour.
    for (let j = 0; j < states.length; j++) {
      const s = states[(j + r) % states.length];
      if (s.error !== undefined) continue;
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
    progress?.(r + 1);
  }
  return states.map(({ case: c, samples, error }) => (error === undefined ? { case: c, samples } : { case: c, samples, error }));
}
