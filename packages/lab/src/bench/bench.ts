// The benchmark run: for each shape (smallest first) build every configuration — ours, the ceiling loops, the peers —
// measure them in phases (runner.ts: round-robin inside a phase), and turn the samples into records of the one schema
// (record.ts). `--repeat N` runs every shape N times; records report the median of the N rounds.
//
// Why phases, not one interleaved pool: the peers (TF.js, ONNX Runtime) allocate a fresh output ArrayBuffer per call
// (64 MiB at 16384×1024). V8 answers that external-memory pressure with incremental marking on its helper threads and
// finalises it "via stack guard" — inside whatever runs next, which, interleaved, was one of our timed kernel calls.
// Measured on a 2-core Zen 5 (bench/README.md): interleaved with the peers, our 1-thread RMSNorm at 16384×1024 cost the
// process 2× the CPU time per call it costs alone (forward 14–17 vs 7.2 ms, backward 32–48 vs 20 ms), V8's helper
// threads working during our calls. So ours and the ceiling run in their own phases, each after a full GC, and the
// peers after them.
import { DEFAULT_MIN_ELEMENTS } from 'rmsnorm/internal';
import { allocFloat32, availableBackends, freeFloat32, initThreads, terminateThreads } from 'rmsnorm';
import { partialK } from 'rmsnorm';
import type { BenchOptions } from './args.js';
import { CeilingLoops, ceilingCases, ceilingMemoryBytes } from './ceiling.js';
import { machineInfo } from './machine.js';
import { naiveCases } from './naive.js';
import { ourCases, type OurVariant } from './ours.js';
import { loadOrt, ortCases } from './peers-ort.js';
import { loadTfjs, tfjsCases } from './peers-tfjs.js';
import { Progress } from './progress.js';
import type { BenchRecord } from './record.js';
import { measure, settle, type BenchCase, type Measured, type MeasureOptions } from './runner.js';
import { copyShapeData, makeShapeData, type ShapeData } from './shape-data.js';
import { gbps, matchCeiling, opBytes, pctOfCeiling, quantile, summarize } from './stats.js';

/** Rotated input/output sets per shape. */
export const SETS = 3;

/** The runner's settings for a run with options o (also used by the isolated re-timing, so both sample alike). */
export function measureOptionsFor(o: BenchOptions): MeasureOptions {
  return { reps: o.reps, minReps: 3, rounds: o.rounds, budgetMs: o.budgetMs, sampleMs: 2 };
}

/** Peers are timed once at this shape before any larger one, so a slow peer is skipped even on the first shape. */
export const PROBE_SHAPE: [number, number] = [128, 1024];

type Stamp = Pick<BenchRecord, 'node' | 'cpu' | 'date' | 'version'>;

/** One configuration's result in one round: its identity (a case without `call`) and the sample percentiles. */
export interface RoundResult {
  c: Omit<BenchCase, 'call'>;
  p20: number;
  p50: number;
  p80: number;
  cpu50: number | null;
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

/** Cases of one shape per phase: ours + naive + ceiling at 1 thread, ours + ceiling at 2 threads, peers. */
async function buildCases(ctx: Context, d: ShapeData) {
  const { o } = ctx;
  const n = d.rows * d.cols;
  const jsAlloc = (len: number) => new Float32Array(len);
  const hasWasm = ctx.backends.includes('wasm');
  // Below the pool's size threshold our kernels stay on one thread, so neither they nor the ceiling run on two.
  const big = o.threads.includes(2) && n >= DEFAULT_MIN_ELEMENTS;
  const twoThreads = hasWasm && big;
  const wd = hasWasm ? copyShapeData(d, allocFloat32, freeFloat32) : null;
  const zeroCopy = (threads: number): OurVariant => ({ backend: 'wasm', label: 'wasm', threads, alloc: wd!.alloc });
  const disposers: (() => unknown)[] = wd === null ? [] : [wd.free];
  const ours: BenchCase[] = [];
  if (ctx.backends.includes('js')) ours.push(...ourCases(d, { backend: 'js', label: 'js', threads: 1, alloc: jsAlloc }, o.ops, o.directions));
  if (wd !== null) {
    ours.push(...ourCases(wd.data, zeroCopy(1), o.ops, o.directions));
    ours.push(...ourCases(d, { backend: 'wasm', label: 'wasm+copy', threads: 1, alloc: jsAlloc }, o.ops, o.directions));
    try {
      ours.push(...naiveCases(wd.data, wd.alloc, o.ops, o.directions));
    } catch (err) {
      ctx.notes.push(`naive kernel rows left out at ${d.rows}×${d.cols}: ${(err as Error).message}`);
    }
  }
  ours.push(...ceilingCasesFor(ctx, d, big && !twoThreads ? [1, 2] : [1]));
  const two = twoThreads ? () => [...ourCases(wd!.data, zeroCopy(2), o.ops, o.directions), ...ceilingCasesFor(ctx, d, [2])] : null;
  const peers = o.peers ? await peerCases(ctx, d) : { cases: [], dispose: async () => {} };
  disposers.push(peers.dispose);
  const kept = peers.cases.filter((c) => {
    const per = ctx.msPerElement.get(caseKey(c));
    if (per === undefined || per * n <= o.maxCallMs) return true;
    ctx.notes.push(`skipped ${c.impl} ${c.op} ${c.direction} at ${d.rows}×${d.cols}: predicted ${(per * n / 1000).toFixed(1)} s per call > --max-call`);
    return false;
  });
  return { ours, two, peers: kept, dispose: async () => { for (const f of disposers) await f(); } };
}

/** One phase: settle, then measure the cases round-robin, reporting progress. */
async function phase(ctx: Context, name: string, cases: BenchCase[], mo: MeasureOptions): Promise<Measured[]> {
  if (cases.length === 0) return [];
  await settle();
  ctx.progress.phase(name, cases);
  return measure(cases, mo, (e) => ctx.progress.event(e));
}

/** All phases of one shape → one round's results (failures become notes). */
async function measureShape(ctx: Context, d: ShapeData, rep: number, si: number): Promise<RoundResult[]> {
  const { ours, two, peers, dispose } = await buildCases(ctx, d);
  // For the time estimate: the 2-thread phase has the zero-copy wasm and ceiling cases again, at 2 threads.
  const twin = two === null ? [] : ours.filter((c) => c.backend === 'wasm' || c.impl.startsWith('ceiling-')).map((c) => ({ ...c, threads: 2 }));
  ctx.progress.shape(rep, si, [...ours, ...twin, ...peers].map(caseKey), ctx.msPerElement);
  const results: Measured[] = [];
  try {
    results.push(...(await phase(ctx, 'ours, 1 thread', ours, ctx.mo)));
    if (two !== null) {
      await initThreads(2);
      try {
        results.push(...(await phase(ctx, 'ours, 2 threads', two(), ctx.mo)));
      } finally {
        await terminateThreads();
      }
    }
    // A peer whose first call blows the cap (a wrong extrapolation) is dropped after that one call.
    results.push(...(await phase(ctx, 'peers', peers, { ...ctx.mo, maxCallMs: 2 * ctx.o.maxCallMs })));
  } finally {
    await dispose();
  }
  const n = d.rows * d.cols;
  const out: RoundResult[] = [];
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
 * against the loop of the same shape, threads, stream mix and (nearest) bytes, itself a median over rounds.
 */
export function toRecords(rounds: readonly RoundResult[][], stamp: Stamp): BenchRecord[] {
  const byKey = new Map<string, RoundResult[]>();
  for (const round of rounds) for (const r of round) byKey.set(caseKey(r.c), [...(byKey.get(caseKey(r.c)) ?? []), r]);
  const merged = [...byKey.values()].map((rs) => {
    const p50s = rs.map((r) => r.p50);
    const cpus = rs.map((r) => r.cpu50).filter((v): v is number => v !== null);
    const p50 = median(p50s);
    return {
      c: rs[0].c, p20: median(rs.map((r) => r.p20)), p50, p80: median(rs.map((r) => r.p80)),
      cpu50: cpus.length > 0 ? median(cpus) : null, repeats: rs.length,
      spread: rs.length > 1 ? (100 * (Math.max(...p50s) - Math.min(...p50s))) / p50 : null,
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
  return merged.map(({ c, p20, p50, p80, cpu50, repeats, spread }) => {
    const achieved = gbps(c.bytes, p50);
    const ceiling = matchingCeiling(c);
    const pct = pctOfCeiling(achieved, ceiling);
    return {
      op: c.op, direction: c.direction, impl: c.impl, backend: c.backend, threads: c.threads, rows: c.rows,
      cols: c.cols, p: c.p, ms_p20: sig(p20, 5), ms_p50: sig(p50, 5), ms_p80: sig(p80, 5), gbps: sig(achieved, 4),
      ceiling_gbps: ceiling === null ? null : sig(ceiling, 4), pct_of_ceiling: pct === null ? null : sig(pct, 3),
      ...stamp,
      repeats, spread_pct: spread === null ? null : sig(spread, 3), cpu_ms_p50: cpu50 === null ? null : sig(cpu50, 4),
      isolated_ms_p50: null,
    };
  });
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
): Promise<{ records: BenchRecord[]; notes: string[]; versions: Record<string, string> }> {
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
  return { records, notes: [...new Set(ctx.notes)], versions: ctx.versions };
}
