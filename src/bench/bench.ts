// The benchmark run: for each shape (smallest first) build every configuration — ours, the ceiling loops, the peers —
// measure them interleaved (runner.ts), and turn the samples into records of the one schema (record.ts).
import { DEFAULT_MIN_ELEMENTS } from '../backends/wasm/threads.js';
import { allocFloat32, availableBackends, freeFloat32, initThreads, terminateThreads } from '../index.js';
import { partialK } from '../reference/partial-k.js';
import type { BenchOptions } from './args.js';
import { CeilingLoops, ceilingCases, ceilingMemoryBytes } from './ceiling.js';
import { machineInfo } from './machine.js';
import { ourCases, type OurVariant } from './ours.js';
import { loadOrt, ortCases } from './peers-ort.js';
import { loadTfjs, tfjsCases } from './peers-tfjs.js';
import type { BenchRecord } from './record.js';
import { measure, type BenchCase, type Measured } from './runner.js';
import { copyShapeData, makeShapeData, type ShapeData } from './shape-data.js';
import { gbps, matchCeiling, opBytes, pctOfCeiling, summarize } from './stats.js';

/** Rotated input/output sets per shape. */
const SETS = 3;

type Stamp = Pick<BenchRecord, 'node' | 'cpu' | 'date' | 'version'>;

interface Context {
  o: BenchOptions;
  backends: ('js' | 'wasm')[];
  tf: Awaited<ReturnType<typeof loadTfjs>> | null;
  ort: Awaited<ReturnType<typeof loadOrt>> | null;
  loops: CeilingLoops;
  /** p50 ms per element of each configuration at the last shape measured: predicts slow peers' cost. */
  msPerElement: Map<string, number>;
  notes: string[];
  /** Versions of the peers that loaded (for the results file). */
  versions: Record<string, string>;
  log(msg: string): void;
}

const caseKey = (c: BenchCase) => `${c.impl}|${c.backend}|${c.op}|${c.direction}|${c.threads}`;
const isPeer = (c: BenchCase) => !c.impl.startsWith('rmsnorm-') && !c.impl.startsWith('ceiling-');
/** Round to `digits` significant digits (timings are not more precise than that; keeps the files readable). */
const sig = (v: number, digits: number) => Number(v.toPrecision(digits));

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

/**
 * Phase A: everything at one thread (js, wasm zero-copy, wasm with copies, peers) plus the ceiling.
 * Phase B: wasm zero-copy at 2 threads with the 2-thread ceiling — threads are a global setting of the wasm backend
 * (initThreads), so they get their own interleaved phase; below the pool's size threshold they would run on one
 * thread anyway and are not timed.
 */
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
  const a: BenchCase[] = [];
  if (ctx.backends.includes('js')) a.push(...ourCases(d, { backend: 'js', label: 'js', threads: 1, alloc: jsAlloc }, o.ops, o.directions));
  if (wd !== null) {
    a.push(...ourCases(wd.data, zeroCopy(1), o.ops, o.directions));
    a.push(...ourCases(d, { backend: 'wasm', label: 'wasm+copy', threads: 1, alloc: jsAlloc }, o.ops, o.directions));
  }
  a.push(...ceilingCasesFor(ctx, d, big && !twoThreads ? [1, 2] : [1]));
  if (ctx.tf !== null) {
    const t = tfjsCases(ctx.tf, d, {
      ops: o.ops, forward: o.directions.includes('forward'), full: o.directions.includes('backward'),
      backends: ['wasm', 'cpu'], layer: true, noReadback: true,
    });
    a.push(...t.cases);
    disposers.push(t.dispose);
  }
  if (ctx.ort !== null && o.directions.includes('forward')) {
    const t = await ortCases(ctx.ort, d, o.ops);
    a.push(...t.cases);
    disposers.push(t.dispose);
  }
  const phaseA = a.filter((c) => {
    const per = ctx.msPerElement.get(caseKey(c));
    if (!isPeer(c) || per === undefined || per * n <= o.maxCallMs) return true;
    ctx.notes.push(`skipped ${c.impl} ${c.op} ${c.direction} at ${d.rows}×${d.cols}: predicted ${(per * n / 1000).toFixed(1)} s per call > --max-call`);
    return false;
  });
  const phaseB = twoThreads ? () => [...ourCases(wd!.data, zeroCopy(2), o.ops, o.directions), ...ceilingCasesFor(ctx, d, [2])] : null;
  return { phaseA, phaseB, dispose: async () => { for (const f of disposers) await f(); } };
}

/** Samples → records; % of ceiling against the loop of the same shape, threads, stream mix and (nearest) bytes. */
function toRecords(ctx: Context, results: Measured[], d: ShapeData, stamp: Stamp): BenchRecord[] {
  const { rows, cols } = d;
  const ok: { c: BenchCase; s: ReturnType<typeof summarize> }[] = [];
  for (const m of results) {
    if (m.error !== undefined || m.samples.length === 0) {
      ctx.notes.push(`${m.case.impl} ${m.case.op} ${m.case.direction} at ${rows}×${cols} failed: ${m.error ?? 'no samples'}`);
      continue;
    }
    const s = summarize(m.samples);
    ok.push({ c: m.case, s });
    ctx.msPerElement.set(caseKey(m.case), s.p50 / (rows * cols));
  }
  const loop = (impl: string) => ok
    .filter(({ c }) => c.impl === impl)
    .map(({ c, s }) => ({ threads: c.threads, bytes: c.bytes, gbps: gbps(c.bytes, s.p50) }));
  const copy = loop('ceiling-copy');
  const triad = loop('ceiling-triad');
  // The ceiling with the same stream mix: forward reads x and writes y (copy: 1 read, 1 write stream); backward
  // reads dy and x and writes dx (triad: 2 reads, 1 write). With write-allocate caches the two mixes differ by
  // 15–40 % for the same counted bytes, so matching the mix keeps % of ceiling honest.
  const matchingCeiling = (c: BenchCase) =>
    c.impl === 'ceiling-copy' || (c.direction === 'forward' && c.impl !== 'ceiling-triad')
      ? matchCeiling(copy, c.threads, c.bytes)
      : (matchCeiling(triad, c.threads, c.bytes) ?? matchCeiling(copy, c.threads, c.bytes));
  return ok.map(({ c, s }) => {
    const achieved = gbps(c.bytes, s.p50);
    const ceiling = matchingCeiling(c);
    const pct = pctOfCeiling(achieved, ceiling);
    return {
      op: c.op, direction: c.direction, impl: c.impl, backend: c.backend, threads: c.threads, rows, cols, p: c.p,
      ms_p20: sig(s.p20, 5), ms_p50: sig(s.p50, 5), ms_p80: sig(s.p80, 5), gbps: sig(achieved, 4),
      ceiling_gbps: ceiling === null ? null : sig(ceiling, 4), pct_of_ceiling: pct === null ? null : sig(pct, 3),
      ...stamp,
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
  const ctx: Context = {
    o,
    backends: availableBackends().filter((b): b is 'js' | 'wasm' => b === 'js' || b === 'wasm').reverse(),
    tf: null,
    ort: null,
    loops: new CeilingLoops(ceilingMemoryBytes(ceilBytes)),
    msPerElement: new Map(),
    notes: [],
    versions: {},
    log,
  };
  if (machine.loadavg[0] > machine.cores * 0.75) {
    ctx.notes.push(`machine busy at start (load average ${machine.loadavg[0]} on ${machine.cores} cores): absolute times and 2-thread rows are unreliable; 1-thread ratios are still measured side by side`);
  }
  if (o.peers) await loadPeers(ctx);
  if (o.threads.includes(2)) await ctx.loops.startWorker();
  const mo = { reps: o.reps, minReps: 3, rounds: o.rounds, budgetMs: o.budgetMs, sampleMs: 2 };
  const records: BenchRecord[] = [];
  // Smallest shapes first, so slow peers' cost per element is known before the big shapes (and they can be skipped).
  const order = [...o.shapes].sort((a, b) => a[0] * a[1] - b[0] * b[1]);
  try {
    for (const [si, [rows, cols]] of order.entries()) {
      const t0 = Date.now();
      const d = makeShapeData(rows, cols, o.p, partialK(o.p, cols), SETS);
      const { phaseA, phaseB, dispose } = await buildCases(ctx, d);
      try {
        log(`[${si + 1}/${order.length}] ${rows}×${cols}: ${phaseA.length} configurations, ${o.rounds} rounds…`);
        const results = await measure(phaseA, mo);
        if (phaseB !== null) {
          await initThreads(2);
          try {
            const casesB = phaseB();
            log(`    + 2 threads: ${casesB.length} configurations`);
            results.push(...(await measure(casesB, mo)));
          } finally {
            await terminateThreads();
          }
        }
        records.push(...toRecords(ctx, results, d, stamp));
      } finally {
        await dispose();
      }
      log(`    done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      onShape?.(records, ctx.notes, ctx.versions);
    }
  } finally {
    await ctx.loops.close();
  }
  return { records, notes: ctx.notes, versions: ctx.versions };
}
