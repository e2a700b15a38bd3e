// Progress of `rmsnorm bench` on stderr: which shape, phase and configuration, how many are done, and the time left —
// exact for the phase being measured (from its warm-up estimates), predicted for later shapes from each
// configuration's cost per element at the last shape (the same extrapolation that skips slow peers).
import type { IsolatedResult } from './isolated.js';
import type { BenchCase, MeasureEvent, MeasureOptions } from './runner.js';
import { gbps } from './stats.js';

/** 95 s → '1m35s'. @example formatDuration(95_000) // '1m35s' */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/**
 * Predicted ms to warm up and measure one configuration costing `est` ms per call under the runner's rules (warm-up
 * of 6 calls and ≥ 30 ms, cut at ≈ 2 s of CPU, then samples of ≥ sampleMs aiming at budgetMs, between minReps and reps
 * samples); 0 for a configuration above `maxCallMs` (skipped).
 * @example predictCaseMs(1, { reps: 21, minReps: 3, rounds: 5, budgetMs: 1000, sampleMs: 2 }, 2500) // 31 + 42 = 73
 */
export function predictCaseMs(est: number, mo: MeasureOptions, maxCallMs: number): number {
  if (!(est > 0)) return 0;
  if (est > maxCallMs) return 0;
  const warm = Math.max(est, Math.min(Math.max(6 * est, est + 30), 2000));
  const batch = Math.max(1, Math.round(mo.sampleMs / est));
  const target = Math.max(mo.minReps, Math.min(mo.reps, Math.floor(mo.budgetMs / (batch * est))));
  return warm + target * batch * est;
}

export class Progress {
  private readonly started = performance.now();
  private shapeStart = 0;
  /** Measured duration of each shape in the first repeat (later repeats take about as long). */
  private readonly shapeMs: number[] = [];
  /** The current shape, as progress lines start. */
  label = '';
  private phaseName = '';
  /** Wall ms a child process costs beyond its measured cases (start-up, buffers, settle): a running mean. */
  private childOverheadMs = 1500;
  private children = 0;

  constructor(
    private readonly log: (msg: string) => void,
    private readonly shapes: readonly [number, number][],
    private readonly repeats: number,
    private readonly mo: MeasureOptions,
    private readonly maxCallMs: number,
  ) {}

  /** A configuration's name as progress lines and notes show it. */
  name(c: Pick<BenchCase, 'impl' | 'backend' | 'op' | 'direction' | 'threads'>): string {
    const backend = c.backend === c.impl.replace(/^rmsnorm-/, '') ? '' : `(${c.backend})`;
    return `${c.impl}${backend} ${c.op} ${c.direction} ${c.threads}t`;
  }

  line(msg: string): void {
    this.log(msg);
  }

  /** Predicted ms of the configurations `keys` (caseKey) at n elements: known cost per element, else a budget-bound
   *  case; each of ours (an `rmsnorm-` key) runs in its own child and adds the child's overhead. */
  predict(keys: readonly string[], n: number, perElement: ReadonlyMap<string, number>): number {
    let ms = 0;
    for (const key of keys) {
      const per = perElement.get(key);
      ms += per === undefined ? this.mo.budgetMs + 30 : predictCaseMs(per * n, this.mo, this.maxCallMs);
      if (key.startsWith('rmsnorm-')) ms += this.childOverheadMs;
    }
    return ms;
  }

  /**
   * One of our configurations came back from its child after `wallMs` (and `alone`: its --check-isolated twin's p50);
   * `rest` are the keys still to run at n elements.
   */
  child(
    done: number, total: number, c: Pick<BenchCase, 'impl' | 'backend' | 'op' | 'direction' | 'threads' | 'bytes'>,
    r: IsolatedResult, ceilingGbps: number | null, wallMs: number,
    rest: readonly string[], n: number, perElement: ReadonlyMap<string, number>, alone: number | null = null,
  ): void {
    const measured = [r.p50, ...r.companions.map((m) => m.p50)].reduce((a, est) => a + predictCaseMs(est, this.mo, Infinity), 0);
    this.children++;
    this.childOverheadMs += (Math.max(0, wallMs - measured) - this.childOverheadMs) / this.children;
    const us = (ms: number) => (ms < 1 ? `${(ms * 1000).toPrecision(3)} µs` : `${ms.toPrecision(3)} ms`);
    const pct = ceilingGbps === null ? '' : `, ${((100 * gbps(c.bytes, r.p50)) / ceilingGbps).toFixed(0)} % of its ceiling (${ceilingGbps.toFixed(1)} GB/s)`;
    const naive = r.companions.find((m) => m.c.impl.startsWith('naive'));
    this.log(`${this.label}   ${done}/${total} ${this.name(c)}: ${us(r.p50)}/call${pct}` +
      `${naive === undefined ? '' : `, naive ${us(naive.p50)}`}` +
      `${alone === null ? '' : `; alone ${us(alone)} (${(r.p50 / alone).toFixed(2)}×)`}; ${formatDuration(wallMs)}; ` +
      `≈ ${formatDuration(this.predict(rest, n, perElement))} left in this shape`);
  }

  /** Time left after the current shape: shapes measured in the first repeat take as long again, others predicted. */
  private restMs(rep: number, si: number, keys: readonly string[], perElement: ReadonlyMap<string, number>): number {
    let ms = 0;
    for (let r = rep; r < this.repeats; r++) {
      for (let s = r === rep ? si + 1 : 0; s < this.shapes.length; s++) {
        ms += this.shapeMs[s] ?? this.predict(keys, this.shapes[s][0] * this.shapes[s][1], perElement);
      }
    }
    return ms;
  }

  /** A shape's set-up (its buffers, the peers' tensors and sessions) starts: it counts in the shape's time. */
  begin(): void {
    this.shapeStart = performance.now();
  }

  /** A shape's measurement starts: `keys` are its configurations (caseKey), `perElement` their cost per element where known. */
  shape(rep: number, si: number, keys: readonly string[], perElement: ReadonlyMap<string, number>, what = `${keys.length} configurations`): void {
    const [rows, cols] = this.shapes[si];
    const r = this.repeats > 1 ? `round ${rep + 1}/${this.repeats}, ` : '';
    this.label = `[${r}shape ${si + 1}/${this.shapes.length} ${rows}×${cols}]`;
    const here = this.shapeMs[si] ?? this.predict(keys, rows * cols, perElement);
    this.log(`${this.label} ${what}; elapsed ${formatDuration(performance.now() - this.started)}, ` +
      `this shape ≈ ${formatDuration(here)}, after it ≈ ${formatDuration(this.restMs(rep, si, keys, perElement))}`);
  }

  shapeDone(rep: number, si: number): void {
    const ms = performance.now() - this.shapeStart;
    if (rep === 0) this.shapeMs[si] = ms;
    this.log(`${this.label} done in ${formatDuration(ms)}`);
  }

  phase(name: string, cases: readonly BenchCase[]): void {
    this.phaseName = name;
    this.log(`${this.label} ${name}: ${cases.length} configurations, warm-up then ${this.mo.rounds} rounds`);
  }

  event(e: MeasureEvent): void {
    if (e.kind === 'warm-up') {
      const what = e.error !== undefined ? `dropped: ${e.error}` : `${e.msPerCall < 1 ? (e.msPerCall * 1000).toFixed(1) + ' µs' : e.msPerCall.toFixed(1) + ' ms'}/call`;
      this.log(`${this.label}   ${e.index + 1}/${e.total} ${this.name(e.case)}: ${what}`);
    } else {
      this.log(`${this.label}   ${this.phaseName} round ${e.round}/${e.rounds}, ≈ ${formatDuration(e.msLeft)} left in this phase`);
    }
  }
}
