// The benchmark run: for each shape (smallest first) time every configuration of ours in its own fresh child process
// (isolated.ts: the row interleaved with the ceiling loop it is compared with, and the naive kernel where there is
// one), then the shape-level ceiling loops and the peers (TF.js, ONNX Runtime) in this process, each phase after a
// full GC (runner.ts: round-robin inside a phase), and turn the samples into records of the one schema (record.ts).
// `--repeat N` runs every shape N times; records report the median of the N rounds (for ours: of N fresh children).
//
// Why a child per configuration of ours: the published number must be what a user's process calling only that op
// gets. In one long process it was not (2026-11-28 Zen 5 run, --check-isolated: 22 of 114 rows within 10 % of the same
// configuration alone): the js rows read 1.5–2.1× slower than alone (V8's feedback for the kernels had seen every op,
// shape and buffer kind: megamorphic), the wasm rows 10–70 % off both ways (GC and page placement left by other
// configurations, the 2-thread pool's state). And why the peers have their own phase after ours: they allocate a
// fresh output per call (64 MiB at 16384×1024) and V8 finalises the resulting incremental marking inside whatever runs
// next — interleaved, our kernel calls (bench/README.md).
import { DEFAULT_MIN_ELEMENTS } from 'rmsnorm/internal';
import { availableBackends, partialK } from 'rmsnorm';
import type { BenchOptions } from './args.js';
import { CeilingLoops, ceilingCases, ceilingMemoryBytes } from './ceiling.js';
import { kernelsId, timeInChild, type CaseTiming, type IsolatedResult, type IsolatedSpec } from './isolated.js';
import { canPin, chooseCpu, describeChoice, type CpuChoice } from './cpus.js';
import { machineInfo } from './machine.js';
import { loadOrt, ortCases } from './peers-ort.js';
import { loadTfjs, tfjsCases } from './peers-tfjs.js';
import { Progress } from './progress.js';
import type { BenchRecord } from './record.js';
import { measure, settle, type BenchCase, type Measured, type MeasureOptions } from './runner.js';
import { makeShapeData, type ShapeData } from './shape-data.js';
import { gbps, matchCeiling, opBytes, pctOfCeiling, quantile, summarize, type OpName } from './stats.js';

/** Rotated input/output sets per shape. */
export const SETS = 3;

/** The runner's settings for a run with options o (also used by the isolated re-timing, so both sample alike). */
export function measureOptionsFor(o: BenchOptions): MeasureOptions {
  return { reps: o.reps, minReps: 3, rounds: o.rounds, budgetMs: o.budgetMs, sampleMs: 2 };
}

/**
 * The settings of the fresh child that times one configuration of ours (and of the `--check-isolated` child, so both
 * sample alike): as the run's, with samples of ≥ 10 ms instead of 2. A child costs ≈ 1–1.5 s to start (Node + tsx +
 * the wasm modules) and a fast kernel's 21 samples of 2 ms measured only 42 ms of it — a window one stray
 * interruption could move; 10 ms samples (≈ 0.2 s per configuration) make the p50 of two fresh processes agree.
 */
export function childMeasureOptionsFor(o: BenchOptions): MeasureOptions {
  return { ...measureOptionsFor(o), sampleMs: 10 };
}

/** Peers are timed once at this shape before any larger one, so a slow peer is skipped even on the first shape. */
export const PROBE_SHAPE: [number, number] = [128, 1024];

type Stamp = Pick<BenchRecord, 'node' | 'cpu' | 'date' | 'version'>;

/** One configuration's result in one round: its identity and sample percentiles, and — for a row timed in a child
 *  with its ceiling loop — that loop's GB/s in the same process (its "% of ceiling" is then a same-run ratio). */
export interface RoundResult extends CaseTiming {
  ceilingGbps?: number | null;
  /** --check-isolated: the same configuration alone in another fresh process, run right beside the row's child. */
  alone?: { p50: number; cpu50: number } | null;
}

interface Context {
  o: BenchOptions;
  mo: MeasureOptions;
  backends: ('js' | 'wasm')[];
  tf: Awaited<ReturnType<typeof loadTfjs>> | null;
  ort: Awaited<ReturnType<typeof loadOrt>> | null;
  loops: CeilingLoops;
  /** ms per element of each configuration at the largest shape measured so far (the probe included). */
  msPerElement: Map<string, number>;
  notes: string[];
  /** Versions of the peers that loaded (for the results file). */
  versions: Record<string, string>;
  progress: Progress;
  /** --pin: the CPU of each shape's 1-thread children, one per measured shape and round (cpus.ts). */
  cpuChoices: CpuChoice[];
}

export const caseKey = (c: Omit<BenchCase, 'call'>) => `${c.impl}|${c.backend}|${c.op}|${c.direction}|${c.threads}`;
/** Round to `digits` significant digits (timings are not more precise than that; keeps the files readable). */
const sig = (v: number, digits: number) => Number(v.toPrecision(digits));
const median = (v: readonly number[]) => quantile(v, 0.5);

async function loadPeers(ctx: Context): Promise<void> {
  try {
    ctx.tf = await loadTfjs();
    ctx.versions['@tensorflow/tfjs'] = ctx.tf.version.tfjs;
  } catch (err) {
    ctx.notes.push(`TF.js peer unavailable: ${(err as Error).message}`);
  }
  try {
    ctx.ort = await loadOrt();
    ctx.versions['onnxruntime-node'] = ctx.ort.env.versions.node ?? 'unknown';
  } catch (err) {
    ctx.notes.push(`onnxruntime-node peer unavailable: ${(err as Error).message}`);
  }
}

/** Ceiling loops moving the bytes of the forward (copy) and backward (copy, triad) kernels of this shape. */
function ceilingCasesFor(ctx: Context, d: ShapeData, threads: number[]): BenchCase[] {
  const { rows, cols } = d;
  const cases = ceilingCases(ctx.loops, rows, cols, opBytes('rmsNorm', 'forward', rows, cols), threads, false, 'forward');
  if (ctx.o.directions.includes('backward')) {
    cases.push(...ceilingCases(ctx.loops, rows, cols, opBytes('rmsNorm', 'backward', rows, cols), threads, true, 'backward'));
  }
  return cases;
}

/** Every peer configuration of shape d (TF.js wasm and cpu, the stock layer, ORT); `dispose` frees their state. */
async function peerCases(ctx: Context, d: ShapeData): Promise<{ cases: BenchCase[]; dispose: () => Promise<void> }> {
  const { o } = ctx;
  const cases: BenchCase[] = [];
  const disposers: (() => unknown)[] = [];
  if (ctx.tf !== null) {
    const t = tfjsCases(ctx.tf, d, {
      ops: o.ops, forward: o.directions.includes('forward'), full: o.directions.includes('backward'),
      backends: ['wasm', 'cpu'], layer: true, noReadback: true,
    });
    cases.push(...t.cases);
    disposers.push(t.dispose);
  }
  if (ctx.ort !== null && o.directions.includes('forward')) {
    const t = await ortCases(ctx.ort, d, o.ops);
    cases.push(...t.cases);
    disposers.push(t.dispose);
  }
  return { cases, dispose: async () => { for (const f of disposers) await f(); } };
}

/**
 * Time every peer configuration at PROBE_SHAPE (see below), for the cost-per-element estimate that
 * decides which peers a larger shape skips. Without it a run whose first shape is large (`--shapes 16384x1024`) would
 * call the stock TF.js layer's gradient (≈ 3 min per call there) before knowing better.
 */
async function probePeers(ctx: Context): Promise<void> {
  const [rows, cols] = PROBE_SHAPE;
  const d = makeShapeData(rows, cols, ctx.o.p, partialK(ctx.o.p, cols), 1);
  const { cases, dispose } = await peerCases(ctx, d);
  try {
    for (const [i, c] of cases.entries()) {
      try {
        // The first call pays first-use set-up (kernel compilation, allocation): it is the estimate only for peers
        // slower than 1 s (the stock layer's gradient: one call is enough to skip it); the others get up to 3 more
        // calls within ≈ 0.3 s and the fastest counts (one descheduled call on a busy machine must not skip a peer).
        const time = async () => {
          const t0 = performance.now();
          await c.call(0);
          return performance.now() - t0;
        };
        let ms = await time();
        if (ms <= 1000) {
          ms = await time();
          for (let spent = ms, j = 0; j < 2 && spent < 300; j++) {
            const t = await time();
            spent += t;
            ms = Math.min(ms, t);
          }
        }
        ctx.msPerElement.set(caseKey(c), ms / (rows * cols));
        ctx.progress.line(`probe ${rows}×${cols} ${i + 1}/${cases.length}: ${ctx.progress.name(c)} ${ms.toFixed(1)} ms/call`);
      } catch (err) {
        ctx.notes.push(`${c.impl} ${c.op} ${c.direction} failed at the ${rows}×${cols} probe: ${(err as Error).message}`);
      }
    }
  } finally {
    await dispose();
  }
}

/** The child specs of our configurations at shape d: js, wasm zero-copy, wasm+copy at 1 thread, zero-copy at 2. */
function ourSpecs(ctx: Context, d: ShapeData, two: boolean): IsolatedSpec[] {
  const { o } = ctx;
  const hasWasm = ctx.backends.includes('wasm');
  const variants: [string, number][] = [
    ...(ctx.backends.includes('js') ? [['js', 1] as [string, number]] : []),
    ...(hasWasm ? [['wasm', 1], ['wasm+copy', 1]] as [string, number][] : []),
    ...(hasWasm && two ? [['wasm', 2] as [string, number]] : []),
  ];
  const specs: IsolatedSpec[] = [];
  for (const [backend, threads] of variants) {
    for (const op of o.ops) {
      for (const direction of o.directions) {
        specs.push({ op, direction, backend, threads, rows: d.rows, cols: d.cols, p: o.p, sets: SETS, mo: childMeasureOptionsFor(o), companions: true });
      }
    }
  }
  return specs;
}

/** Keys (caseKey) of what one child times: the row, its ceiling loop, the naive kernel where there is one. */
export function specKeys(s: IsolatedSpec): string[] {
  const impl = s.backend === 'js' ? 'rmsnorm-js' : 'rmsnorm-wasm';
  const ceiling = s.direction === 'forward' ? `ceiling-copy|wasm-simd|copy|forward|${s.threads}` : `ceiling-triad|wasm-simd|triad|backward|${s.threads}`;
  const naive = s.backend === 'wasm' && s.threads === 1 && s.op !== 'pRmsNorm' ? [`naive-f32x4|wasm|${s.op}|${s.direction}|1`] : [];
  return [`${impl}|${s.backend}|${s.op}|${s.direction}|${s.threads}`, ceiling, ...naive];
}

/** The row of spec s as a case identity (what the child's `ours` result is). */
function specIdentity(s: IsolatedSpec): Omit<BenchCase, 'call'> {
  const op = s.op as OpName;
  return {
    op, direction: s.direction, impl: s.backend === 'js' ? 'rmsnorm-js' : 'rmsnorm-wasm', backend: s.backend,
    threads: s.threads, rows: s.rows, cols: s.cols, p: op === 'pRmsNorm' ? s.p : op === 'rmsNorm' ? 1 : null,
    bytes: opBytes(op, s.direction, s.rows, s.cols),
  };
}

/** What one shape measures: our children's specs, the shape-level ceiling loops, the peers (slow ones skipped). */
async function buildCases(ctx: Context, d: ShapeData) {
  const { o } = ctx;
  const n = d.rows * d.cols;
  // Below the pool's size threshold our kernels stay on one thread, so neither they nor the ceiling run on two.
  const big = o.threads.includes(2) && n >= DEFAULT_MIN_ELEMENTS;
  const specs = ourSpecs(ctx, d, big);
  const ceilings = ceilingCasesFor(ctx, d, big ? [1, 2] : [1]);
  const peers = o.peers ? await peerCases(ctx, d) : { cases: [], dispose: async () => {} };
  const kept = peers.cases.filter((c) => {
    const per = ctx.msPerElement.get(caseKey(c));
    if (per === undefined || per * n <= o.maxCallMs) return true;
    ctx.notes.push(`skipped ${c.impl} ${c.op} ${c.direction} at ${d.rows}×${d.cols}: predicted ${(per * n / 1000).toFixed(1)} s per call > --max-call`);
    return false;
  });
  return { specs, ceilings, peers: kept, dispose: peers.dispose };
}

/** One phase: settle, then measure the cases round-robin, reporting progress. */
async function phase(ctx: Context, name: string, cases: BenchCase[], mo: MeasureOptions): Promise<Measured[]> {
  if (cases.length === 0) return [];
  await settle();
  ctx.progress.phase(name, cases);
  return measure(cases, mo, (e) => ctx.progress.event(e));
}

/** Our configurations of one shape, each in its own fresh child (with its ceiling loop and naive kernel). */
async function measureOurs(
  ctx: Context, specs: readonly IsolatedSpec[], later: readonly string[], rep: number,
): Promise<RoundResult[]> {
  const out: RoundResult[] = [];
  const kernels = kernelsId();
  // Re-calibrated per shape and round: which vCPU is the slow one changes within minutes on a shared VM.
  const choice = ctx.o.pin ? chooseCpu() : null;
  if (choice !== null) {
    ctx.cpuChoices.push(choice);
    ctx.progress.line(`${ctx.progress.label} 1-thread children pinned to ${describeChoice(choice)}`);
  }
  for (const [i, spec] of specs.entries()) {
    const c = specIdentity(spec);
    const n = spec.rows * spec.cols;
    const t0 = performance.now();
    const cpu = spec.threads === 1 && choice !== null ? choice.cpu : null;
    try {
      const { r, alone } = await timeRowAndAlone(ctx, spec, rep, cpu);
      if (r.kernels !== kernels || (alone !== null && alone.kernels !== kernels)) {
        throw new Error('the wasm kernels on disk changed since this run started (rebuilt?): row discarded');
      }
      if (cpu !== null && (r.cpus !== String(cpu) || (alone !== null && alone.cpus !== String(cpu)))) {
        throw new Error(`pinned to cpu ${cpu}, the children ran on cpus ${r.cpus}${alone === null ? '' : ` and ${alone.cpus}`}: row discarded`);
      }
      const ceiling = r.companions.find((m) => m.c.impl.startsWith('ceiling-'));
      const ceilingGbps = ceiling === undefined ? null : gbps(ceiling.c.bytes, ceiling.p50);
      out.push({
        c, p20: r.p20, p50: r.p50, p80: r.p80, cpu50: r.cpu50, ceilingGbps,
        alone: alone === null ? null : { p50: alone.p50, cpu50: alone.cpu50 },
      });
      for (const m of r.companions) if (!m.c.impl.startsWith('ceiling-')) out.push({ ...m, ceilingGbps });
      for (const m of [{ c, p50: r.p50 }, ...r.companions]) ctx.msPerElement.set(caseKey(m.c), m.p50 / n);
      ctx.notes.push(...r.notes);
      ctx.progress.child(i + 1, specs.length, c, r, ceilingGbps, performance.now() - t0,
        [...specs.slice(i + 1).flatMap(specKeys), ...later], n, ctx.msPerElement, alone?.p50 ?? null);
    } catch (err) {
      ctx.notes.push(`${ctx.progress.name(c)} at ${spec.rows}×${spec.cols} failed: ${(err as Error).message}`);
      ctx.progress.line(`  ${i + 1}/${specs.length} ${ctx.progress.name(c)}: failed: ${(err as Error).message}`);
    }
  }
  return out;
}

/**
 * The row's child (with its ceiling loop and naive kernel) and, with --check-isolated, the same configuration alone
 * in a second fresh child run right beside it — alternating which goes first from round to round — so the two are
 * compared under the same machine conditions (a check run after the whole benchmark compared processes half an hour
 * apart on a shared VM: 65 of 114 rows agreed within 10 %, the small shapes' alone times 1.2–1.7× the run's).
 */
async function timeRowAndAlone(
  ctx: Context, spec: IsolatedSpec, rep: number, cpu: number | null,
): Promise<{ r: IsolatedResult; alone: IsolatedResult | null }> {
  if (!ctx.o.checkIsolated) return { r: await timeInChild(spec, cpu), alone: null };
  const aloneSpec = { ...spec, companions: false };
  if (rep % 2 === 1) {
    const alone = await timeInChild(aloneSpec, cpu);
    return { r: await timeInChild(spec, cpu), alone };
  }
  const r = await timeInChild(spec, cpu);
  return { r, alone: await timeInChild(aloneSpec, cpu) };
}

/**
 * The run's note on CPU placement: where the 1-thread children ran and how unequal the CPUs measured (the slowest
 * other CPU's speed relative to the chosen one, over the run's calibrations).
 * @example pinNote(true, [{ cpu: 1, relative: [0.7, 1] }]) // '1-thread children pinned to the fastest CPU …'
 */
export function pinNote(pin: boolean, choices: readonly CpuChoice[]): string {
  if (!pin) return '1-thread children not pinned (--no-pin): each ran where the OS put it';
  if (choices.length === 0) return `1-thread children not pinned: ${canPin() ? 'no calibration child ran' : 'needs Linux, 2+ CPUs and taskset'}`;
  const count = new Map<number, number>();
  for (const c of choices) count.set(c.cpu, (count.get(c.cpu) ?? 0) + 1);
  const slowest = choices.map((c) => Math.min(...c.relative.filter((r) => Number.isFinite(r))));
  const where = [...count].sort((a, b) => a[0] - b[0]).map(([cpu, k]) => `cpu ${cpu} ${k}×`).join(', ');
  return `1-thread children pinned to the fastest CPU of a calibration before each shape (${where} of ${choices.length}); ` +
    `the slowest CPU measured ${Math.min(...slowest).toFixed(2)}–${Math.max(...slowest).toFixed(2)} of the chosen one's speed`;
}

/** All phases of one shape → one round's results (failures become notes). */
async function measureShape(ctx: Context, d: ShapeData, rep: number, si: number): Promise<RoundResult[]> {
  const { specs, ceilings, peers, dispose } = await buildCases(ctx, d);
  const later = [...ceilings, ...peers].map(caseKey);
  ctx.progress.shape(rep, si, [...specs.flatMap(specKeys), ...later], ctx.msPerElement,
    `${specs.length} configurations of ours (a process each), ${later.length} ceiling loops and peers`);
  const results: Measured[] = [];
  let ours: RoundResult[];
  try {
    ctx.progress.line(`${ctx.progress.label} ours: each configuration in a fresh process, with its ceiling loop (and the naive kernel)`);
    ours = await measureOurs(ctx, specs, later, rep);
    results.push(...(await phase(ctx, 'ceiling loops', ceilings, ctx.mo)));
    // A peer whose first call blows the cap (a wrong extrapolation) is dropped after that one call.
    results.push(...(await phase(ctx, 'peers', peers, { ...ctx.mo, maxCallMs: 2 * ctx.o.maxCallMs })));
  } finally {
    await dispose();
  }
  const n = d.rows * d.cols;
  const out: RoundResult[] = [...ours];
  for (const m of results) {
    if (m.error !== undefined || m.samples.length === 0) {
      ctx.notes.push(`${m.case.impl} ${m.case.op} ${m.case.direction} at ${d.rows}×${d.cols} failed: ${m.error ?? 'no samples'}`);
      continue;
    }
    const s = summarize(m.samples);
    const { call: _call, ...c } = m.case;
    out.push({ c, ...s, cpu50: m.cpuSamples.length > 0 ? median(m.cpuSamples) : null });
    ctx.msPerElement.set(caseKey(c), s.p50 / n);
  }
  return out;
}

/**
 * Rounds of every configuration of one shape → records: medians over rounds of p20/p50/p80, and % of ceiling
 * against the row's own same-process ceiling loop where it has one (median over rounds), else against the loop of the
 * same shape, threads, stream mix and (nearest) bytes, itself a median over rounds.
 */
export function toRecords(rounds: readonly RoundResult[][], stamp: Stamp): BenchRecord[] {
  const byKey = new Map<string, RoundResult[]>();
  for (const round of rounds) for (const r of round) byKey.set(caseKey(r.c), [...(byKey.get(caseKey(r.c)) ?? []), r]);
  const merged = [...byKey.values()].map((rs) => {
    const p50s = rs.map((r) => r.p50);
    const cpus = rs.map((r) => r.cpu50).filter((v): v is number => v !== null);
    const ceilings = rs.map((r) => r.ceilingGbps).filter((v): v is number => typeof v === 'number');
    const p50 = median(p50s);
    const alone = rs.map((r) => r.alone).filter((a): a is { p50: number; cpu50: number } => a != null);
    return {
      c: rs[0].c, p20: median(rs.map((r) => r.p20)), p50, p80: median(rs.map((r) => r.p80)),
      cpu50: cpus.length > 0 ? median(cpus) : null, repeats: rs.length,
      ownCeiling: ceilings.length > 0 ? median(ceilings) : null,
      spread: rs.length > 1 ? (100 * (Math.max(...p50s) - Math.min(...p50s))) / p50 : null,
      alone50: alone.length > 0 ? median(alone.map((a) => a.p50)) : null,
    };
  });
  const loop = (impl: string) => merged
    .filter(({ c }) => c.impl === impl)
    .map(({ c, p50 }) => ({ threads: c.threads, bytes: c.bytes, gbps: gbps(c.bytes, p50) }));
  const copy = loop('ceiling-copy');
  const triad = loop('ceiling-triad');
  // The ceiling with the same stream mix: forward reads x and writes y (copy: 1 read, 1 write stream); backward
  // reads dy and x and writes dx (triad: 2 reads, 1 write). With write-allocate caches the two mixes differ by
  // 15–40 % for the same counted bytes, so matching the mix keeps % of ceiling honest.
  const matchingCeiling = (c: RoundResult['c']) =>
    c.impl === 'ceiling-copy' || (c.direction === 'forward' && c.impl !== 'ceiling-triad')
      ? matchCeiling(copy, c.threads, c.bytes)
      : (matchCeiling(triad, c.threads, c.bytes) ?? matchCeiling(copy, c.threads, c.bytes));
  return merged.map(({ c, p20, p50, p80, cpu50, repeats, spread, ownCeiling, alone50 }) => {
    const achieved = gbps(c.bytes, p50);
    // A row timed in a child with its own ceiling loop is judged against that loop (same process, same rounds).
    const ceiling = ownCeiling ?? matchingCeiling(c);
    const pct = pctOfCeiling(achieved, ceiling);
    return {
      op: c.op, direction: c.direction, impl: c.impl, backend: c.backend, threads: c.threads, rows: c.rows,
      cols: c.cols, p: c.p, ms_p20: sig(p20, 5), ms_p50: sig(p50, 5), ms_p80: sig(p80, 5), gbps: sig(achieved, 4),
      ceiling_gbps: ceiling === null ? null : sig(ceiling, 4), pct_of_ceiling: pct === null ? null : sig(pct, 3),
      ...stamp,
      repeats, spread_pct: spread === null ? null : sig(spread, 3), cpu_ms_p50: cpu50 === null ? null : sig(cpu50, 4),
      isolated_ms_p50: alone50 === null ? null : sig(alone50, 5),
    };
  });
}

/** A record's identity: shape and configuration (what the rounds of one row share). */
export const recordKey = (r: Pick<BenchRecord, 'rows' | 'cols' | 'impl' | 'backend' | 'op' | 'direction' | 'threads'>) =>
  `${r.rows}x${r.cols}|${r.impl}|${r.backend}|${r.op}|${r.direction}|${r.threads}`;

/** --check-isolated: the alone children's CPU ms per call of each checked row (median over rounds), by recordKey. */
export function aloneCpuMs(rounds: readonly RoundResult[][]): Map<string, number> {
  const byKey = new Map<string, number[]>();
  for (const round of rounds) {
    for (const r of round) {
      if (r.alone == null) continue;
      const key = recordKey(r.c);
      byKey.set(key, [...(byKey.get(key) ?? []), r.alone.cpu50]);
    }
  }
  return new Map([...byKey].map(([k, v]) => [k, median(v)]));
}

/**
 * Run the benchmark. `onShape` sees the records so far after each shape (the CLI saves them: a long run that dies
 * keeps what it measured). Also used by the tests with tiny settings.
 * @example const { records } = await runBench(parseBenchArgs(['--shapes', '32x768', '--no-peers']));
 */
export async function runBench(
  o: BenchOptions,
  onShape?: (records: readonly BenchRecord[], notes: readonly string[], versions: Record<string, string>) => void,
  log: (msg: string) => void = () => {},
): Promise<{ records: BenchRecord[]; notes: string[]; versions: Record<string, string>; aloneCpu: Map<string, number> }> {
  const machine = machineInfo();
  const stamp: Stamp = { node: machine.node, cpu: `${machine.cpu} (${machine.cores} cores)`, date: machine.date, version: machine.version };
  const ceilBytes = o.shapes.flatMap(([r, c]) => [opBytes('rmsNorm', 'forward', r, c), opBytes('rmsNorm', 'backward', r, c)]);
  // Smallest shapes first, so slow peers' cost per element is known before the big shapes (and they can be skipped).
  const order = [...o.shapes].sort((a, b) => a[0] * a[1] - b[0] * b[1]);
  const mo = measureOptionsFor(o);
  const ctx: Context = {
    o,
    mo,
    backends: availableBackends().filter((b): b is 'js' | 'wasm' => b === 'js' || b === 'wasm').reverse(),
    tf: null,
    ort: null,
    loops: new CeilingLoops(ceilingMemoryBytes(ceilBytes)),
    msPerElement: new Map(),
    notes: [],
    versions: {},
    progress: new Progress(log, order, o.repeat, mo, o.maxCallMs),
    cpuChoices: [],
  };
  if (machine.loadavg[0] > machine.cores * 0.75) {
    ctx.notes.push(`machine busy at start (load average ${machine.loadavg[0]} on ${machine.cores} cores): absolute times and 2-thread rows are unreliable; compare ms_p50 with cpu_ms_p50`);
  }
  if (o.peers) await loadPeers(ctx);
  if (o.peers && (ctx.tf !== null || ctx.ort !== null)) await probePeers(ctx);
  if (o.threads.includes(2)) await ctx.loops.startWorker();
  const rounds = new Map<string, RoundResult[][]>(); // shape → one entry per repeat
  let records: BenchRecord[] = [];
  try {
    for (let rep = 0; rep < o.repeat; rep++) {
      for (const [si, [rows, cols]] of order.entries()) {
        ctx.progress.begin();
        const d = makeShapeData(rows, cols, o.p, partialK(o.p, cols), SETS);
        const key = `${rows}x${cols}`;
        rounds.set(key, [...(rounds.get(key) ?? []), await measureShape(ctx, d, rep, si)]);
        ctx.progress.shapeDone(rep, si);
        records = order.flatMap(([r, c]) => toRecords(rounds.get(`${r}x${c}`) ?? [], stamp));
        onShape?.(records, [...new Set(ctx.notes)], ctx.versions);
      }
    }
  } finally {
    await ctx.loops.close();
  }
  const aloneCpu = new Map([...rounds.values()].flatMap((r) => [...aloneCpuMs(r)]));
  ctx.notes.push(pinNote(o.pin, ctx.cpuChoices));
  return { records, notes: [...new Set(ctx.notes)], versions: ctx.versions, aloneCpu };
}
