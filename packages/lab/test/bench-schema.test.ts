// Logic of `rmsnorm bench` (no timing): percentiles, bytes/GB/s/%-of-ceiling arithmetic, CSV/JSON round trip, argument
// parsing, and the hand-encoded ONNX models checked against the float64 reference through onnxruntime-node.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { parseBenchArgs, UsageError } from '../src/bench/args.js';
import { CeilingLoops } from '../src/bench/ceiling.js';
import { aloneCpuMs, caseKey, pinNote, recordKey, runBench, specKeys, toRecords, type RoundResult } from '../src/bench/bench.js';
import { kernelsId, timeInChild } from '../src/bench/isolated.js';
import { canPin, describeChoice, fastest } from '../src/bench/cpus.js';
import { naiveCases } from '../src/bench/naive.js';
import { copyShapeData, makeShapeData } from '../src/bench/shape-data.js';
import { allocFloat32, freeFloat32 } from 'rmsnorm';
import { formatDuration, predictCaseMs } from '../src/bench/progress.js';
import { formatIsolated } from '../src/bench/table.js';
import { buildNormModel } from '../src/bench/onnx-model.js';
import { ORT_SESSION_OPTIONS } from '../src/bench/peers-ort.js';
import { fromCsv, fromJson, outPaths, RECORD_FIELDS, toCsv, toJson, type BenchRecord } from '../src/bench/record.js';
import { gbps, matchCeiling, opBytes, pctOfCeiling, quantile, speedupOverLn, summarize } from '../src/bench/stats.js';
import { layerNormRef, rmsNormRef } from 'rmsnorm/internal';

test('quantiles interpolate linearly between order statistics (numpy default)', () => {
  // sorted 1..5: position (n−1)q = 0.8 → 1.8; 2.0 → 3; 3.2 → 4.2
  const s = summarize([5, 3, 1, 4, 2]);
  assert.ok(Math.abs(s.p20 - 1.8) < 1e-12);
  assert.equal(s.p50, 3);
  assert.ok(Math.abs(s.p80 - 4.2) < 1e-12);
  assert.equal(quantile([7], 0.2), 7);
  assert.ok(Number.isNaN(quantile([], 0.5)));
  // numpy.percentile([10, 20, 30, 40], 20) = 16
  assert.ok(Math.abs(quantile([40, 10, 30, 20], 0.2) - 16) < 1e-12);
});

test('bytes per call, GB/s, % of ceiling and speed-up arithmetic', () => {
  // RMS forward 2×4: read x (8) + gamma (4), write y (8) + rstd (2) = 22 floats = 88 bytes
  assert.equal(opBytes('rmsNorm', 'forward', 2, 4), 88);
  // LN forward: + beta (4) + mean (2) = 28 floats
  assert.equal(opBytes('layerNorm', 'forward', 2, 4), 112);
  // RMS backward: dy, x (16) + rstd (2) + gamma (4); write dx (8) + dgamma (4) = 34 floats
  assert.equal(opBytes('rmsNorm', 'backward', 2, 4), 136);
  // LN backward: dy, x (16) + mean, rstd (4) + gamma (4); write dx (8) + dgamma, dbeta (8) = 40 floats
  assert.equal(opBytes('layerNorm', 'backward', 2, 4), 160);
  assert.equal(opBytes('pRmsNorm', 'full', 2, 4), 88 + 136);
  // 128 MiB moved in 6.710886 ms = 20 GB/s
  assert.ok(Math.abs(gbps(134217728, 6.7108864) - 20) < 1e-9);
  assert.equal(pctOfCeiling(15, 20), 75);
  assert.equal(pctOfCeiling(15, null), null);
  assert.equal(speedupOverLn(6, 10), 40);
  const ceilings = [
    { threads: 1, bytes: 8e6, gbps: 20 },
    { threads: 1, bytes: 12e6, gbps: 18 },
    { threads: 2, bytes: 8e6, gbps: 30 },
  ];
  assert.equal(matchCeiling(ceilings, 1, 8.1e6), 20);
  assert.equal(matchCeiling(ceilings, 1, 20e6), 18);
  assert.equal(matchCeiling(ceilings, 2, 12e6), 30);
  assert.equal(matchCeiling(ceilings, 4, 8e6), null);
});

const sample: BenchRecord[] = [
  {
    op: 'rmsNorm', direction: 'forward', impl: 'rmsnorm-js', backend: 'js', threads: 1, rows: 32, cols: 768, p: 1,
    ms_p20: 0.0042, ms_p50: 0.0043, ms_p80: 0.0051, gbps: 45.5, ceiling_gbps: 95.1, pct_of_ceiling: 47.8,
    node: 'v20.20.2', cpu: 'Some "quoted", CPU', date: '2026-11-28T10:00:00.000Z', version: '0.1.0',
    repeats: 3, spread_pct: 4.2, cpu_ms_p50: 0.0041, isolated_ms_p50: 0.0044,
  },
  {
    op: 'layerNorm', direction: 'full', impl: 'tfjs-wasm-composite', backend: 'tfjs-wasm', threads: 1, rows: 4096,
    cols: 512, p: null, ms_p20: 80, ms_p50: 90, ms_p80: 95, gbps: 0.5, ceiling_gbps: null, pct_of_ceiling: null,
    node: 'v20.20.2', cpu: 'line\nbreak', date: '2026-11-28T10:00:00.000Z', version: '0.1.0',
    repeats: 1, spread_pct: null, cpu_ms_p50: null, isolated_ms_p50: null,
  },
];

test('CSV and JSON writers round-trip the record schema', () => {
  const csv = toCsv(sample);
  // the schema's original fields in their order (packages/lab/bench/README.md); added fields only after them
  assert.equal(csv.split('\n')[0], 'op,direction,impl,backend,threads,rows,cols,p,ms_p20,ms_p50,ms_p80,gbps,ceiling_gbps,pct_of_ceiling,node,cpu,date,version,repeats,spread_pct,cpu_ms_p50,isolated_ms_p50');
  assert.deepEqual(fromCsv(csv), sample);
  assert.deepEqual(fromJson(toJson(sample, { command: 'rmsnorm bench' })), sample);
  assert.deepEqual(outPaths('bench/results/run'), { json: 'bench/results/run.json', csv: 'bench/results/run.csv' });
  assert.deepEqual(outPaths('r.csv'), { json: 'r.json', csv: 'r.csv' });
});

test('bench arguments: defaults, lists, and one-line usage errors', () => {
  const d = parseBenchArgs([]);
  assert.deepEqual(d.shapes, [[32, 768], [256, 1024], [4096, 512], [1024, 4096], [16384, 1024]]);
  assert.equal(d.repeat, 1);
  assert.equal(d.checkIsolated, false);
  const r = parseBenchArgs(['--repeat', '3', '--check-isolated']);
  assert.equal(r.repeat, 3);
  assert.equal(r.checkIsolated, true);
  assert.equal(d.pin, true);
  assert.equal(parseBenchArgs(['--no-pin']).pin, false);
  assert.deepEqual(d.ops, ['rmsNorm', 'pRmsNorm', 'layerNorm']);
  assert.equal(d.peers, true);
  assert.equal(d.p, 0.0625);
  const o = parseBenchArgs(['--shapes', '8x16,2×3', '--ops', 'rms', '--no-peers', '--threads', '1', '--reps', '5']);
  assert.deepEqual(o.shapes, [[8, 16], [2, 3]]);
  assert.deepEqual(o.ops, ['rmsNorm']);
  assert.equal(o.peers, false);
  assert.deepEqual(o.threads, [1]);
  assert.equal(o.reps, 5);
  for (const bad of [['--shapes', '8by16'], ['--ops', 'bn'], ['--reps', '0'], ['--frobnicate'], ['--threads', '3'], ['--p', '2'], ['--repeat', '0'], ['--repeat', '1.5']]) {
    assert.throws(() => parseBenchArgs(bad), (e: unknown) => e instanceof UsageError && !e.message.includes('\n'), bad.join(' '));
  }
});

test('hand-encoded ONNX models run in onnxruntime-node and match the float64 reference', async () => {
  const rows = 3;
  const cols = 37;
  const x = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 0.7) * 3 + (i % 5) * 0.1);
  const gamma = Float32Array.from({ length: cols }, (_, j) => 0.5 + 0.03 * j);
  const beta = Float32Array.from({ length: cols }, (_, j) => 0.01 * j - 0.1);
  const eps = 1e-6;
  const cases = [
    { op: 'RMSNormalization' as const, ref: rmsNormRef(x, cols, { gamma, eps }).y },
    { op: 'LayerNormalization' as const, ref: layerNormRef(x, cols, { gamma, beta, eps }).y },
  ];
  for (const c of cases) {
    const model = buildNormModel({ op: c.op, cols, gamma, beta: c.op === 'LayerNormalization' ? beta : undefined, eps });
    const session = await ort.InferenceSession.create(model, ORT_SESSION_OPTIONS);
    const out = await session.run({ X: new ort.Tensor('float32', x, [rows, cols]) });
    const y = out.Y.data as Float32Array;
    assert.deepEqual(out.Y.dims, [rows, cols]);
    for (let i = 0; i < y.length; i++) {
      const tol = 1e-5 + 1e-5 * Math.abs(c.ref[i]);
      assert.ok(Math.abs(y[i] - c.ref[i]) <= tol, `${c.op}: index ${i} got ${y[i]}, expected ${c.ref[i]} ± ${tol}`);
    }
    await session.release();
  }
});

test('ceiling loops compute what they claim on 1 and 2 threads (odd sizes, tails included)', async () => {
  const loops = new CeilingLoops(1 << 20);
  await loops.startWorker();
  try {
    const f = new Float32Array(loops.memory.buffer);
    for (const threads of [1, 2]) {
      const n = 1003;
      for (let i = 0; i < 3 * n; i++) f[i] = i * 0.5;
      const dst = 4 * 4096;
      loops.copy(0, dst, n, threads);
      for (let i = 0; i < n; i++) assert.equal(f[4096 + i], i * 0.5, `copy ${threads}t index ${i}`);
      loops.triad(dst, 0, 4 * n, 2, n, threads); // a = b + 2·c with b[i] = i/2, c[i] = (n + i)/2
      for (let i = 0; i < n; i++) assert.equal(f[4096 + i], i * 0.5 + (n + i), `triad ${threads}t index ${i}`);
    }
  } finally {
    await loops.close();
  }
});

test('a tiny bench run yields complete records of the one schema (no timing checked)', async () => {
  // Each row of ours is timed in its own child process (with its ceiling loop and, zero-copy wasm, the naive kernel).
  const opts = parseBenchArgs(['--shapes', '4x8', '--ops', 'rms,layer', '--no-peers', '--threads', '1', '--reps', '3', '--rounds', '1', '--budget', '5']);
  const { records, notes } = await runBench(opts);
  assert.deepEqual(notes.filter((n) => /failed/.test(n)), []);
  const impls = new Set(records.map((r) => r.impl));
  assert.ok(impls.has('rmsnorm-js') && impls.has('ceiling-copy') && impls.has('ceiling-triad'), [...impls].join(','));
  for (const r of records) {
    assert.deepEqual(Object.keys(r).sort(), [...RECORD_FIELDS].sort());
    assert.ok(r.ms_p20 <= r.ms_p50 && r.ms_p50 <= r.ms_p80 && r.ms_p20 > 0, `${r.impl} ${r.op}`);
    assert.equal(r.rows, 4);
    assert.equal(r.cols, 8);
    assert.equal(r.p, r.op === 'rmsNorm' ? 1 : null);
    assert.equal(r.repeats, 1);
    assert.equal(r.spread_pct, null);
    if (r.impl.startsWith('rmsnorm-') || r.impl === 'naive-f32x4') {
      // % of ceiling against the row's own same-process loop
      assert.ok(r.ceiling_gbps !== null && r.ceiling_gbps > 0 && r.pct_of_ceiling !== null, `${r.impl} ${r.op}`);
      assert.ok(Math.abs(r.pct_of_ceiling - (100 * r.gbps) / r.ceiling_gbps) <= 0.01 * r.pct_of_ceiling + 1e-9);
    }
  }
  assert.deepEqual(new Set(records.filter((r) => r.impl === 'naive-f32x4').map((r) => `${r.op}/${r.direction}`)),
    new Set(['rmsNorm/forward', 'rmsNorm/backward', 'layerNorm/forward', 'layerNorm/backward']));
  const ours = records.filter((r) => r.impl.startsWith('rmsnorm-'));
  assert.deepEqual(new Set(ours.map((r) => r.backend)), new Set(['js', 'wasm', 'wasm+copy']));
  assert.equal(ours.length, 3 * 4);
});

const stamp = { node: 'v20', cpu: 'cpu', date: '2026-11-28T00:00:00.000Z', version: '0.1.0' };
const ident = (impl: string, op: string, direction: 'forward' | 'backward', bytes: number) => ({
  impl, op, direction, backend: impl === 'rmsnorm-wasm' ? 'wasm' : 'wasm-simd', threads: 1, rows: 4, cols: 8,
  p: impl === 'rmsnorm-wasm' ? 1 : null, bytes,
});

test('records of N rounds: medians of the per-round percentiles, spread of the p50s, ceiling from the median loop', () => {
  const round = (k: number, kernelP50: number): RoundResult[] => [
    { c: ident('rmsnorm-wasm', 'rmsNorm', 'forward', 1e6), p20: kernelP50 - 1, p50: kernelP50, p80: kernelP50 + 1, cpu50: kernelP50 },
    { c: ident('ceiling-copy', 'copy', 'forward', 1e6), p20: 0.04, p50: 0.05 * k, p80: 0.06 * k, cpu50: null },
  ];
  // kernel p50 over rounds: 10, 30, 11 → median 11, spread (30 − 10)/11; copy p50: 0.05, 0.10, 0.15 → 0.10 (10 GB/s)
  const recs = toRecords([round(1, 10), round(2, 30), round(3, 11)], stamp);
  const k = recs.find((r) => r.impl === 'rmsnorm-wasm')!;
  assert.equal(k.ms_p50, 11);
  assert.equal(k.ms_p20, 10);
  assert.equal(k.ms_p80, 12);
  assert.equal(k.repeats, 3);
  assert.ok(Math.abs(k.spread_pct! - (100 * 20) / 11) < 0.5, String(k.spread_pct)); // 3 significant digits
  assert.equal(k.cpu_ms_p50, 11);
  assert.equal(k.ceiling_gbps, 10);
  assert.ok(Math.abs(k.pct_of_ceiling! - (100 * (1e6 / 11e6)) / 10) < 0.01);
  assert.equal(k.isolated_ms_p50, null);
  const one = toRecords([round(1, 10)], stamp).find((r) => r.impl === 'rmsnorm-wasm')!;
  assert.equal(one.repeats, 1);
  assert.equal(one.spread_pct, null);
  // a configuration missing from one round (e.g. it failed there) is the median of the rounds it has
  const partial = toRecords([round(1, 10), [round(2, 30)[1]]], stamp).find((r) => r.impl === 'rmsnorm-wasm')!;
  assert.equal(partial.repeats, 1);
});

test('--check-isolated: each round\'s alone child becomes isolated_ms_p50 (median over rounds) and its CPU time', () => {
  const row = (p50: number, alone: number | null): RoundResult => ({
    c: ident('rmsnorm-wasm', 'rmsNorm', 'forward', 1e6), p20: p50, p50, p80: p50, cpu50: p50,
    alone: alone === null ? null : { p50: alone, cpu50: alone / 2 },
  });
  // alone 4, 9, 5 over three rounds → median 5 (CPU 2.5); a round whose alone child failed does not count
  const recs = toRecords([[row(1, 4)], [row(1, 9)], [row(1, 5)], [row(1, null)]], stamp);
  assert.equal(recs[0].isolated_ms_p50, 5);
  assert.deepEqual([...aloneCpuMs([[row(1, 4)], [row(1, 9)], [row(1, 5)]])], [[recordKey(recs[0]), 2.5]]);
  assert.equal(toRecords([[row(1, null)]], stamp)[0].isolated_ms_p50, null);
});

test('a row timed with its own ceiling loop is judged against that loop (median over rounds), not the shape-level one', () => {
  const row = (p50: number, ceilingGbps: number): RoundResult => ({
    c: ident('rmsnorm-wasm', 'rmsNorm', 'forward', 1e6), p20: p50, p50, p80: p50, cpu50: p50, ceilingGbps,
  });
  const shapeCeiling: RoundResult = { c: ident('ceiling-copy', 'copy', 'forward', 1e6), p20: 0.1, p50: 0.1, p80: 0.1, cpu50: null };
  // own ceilings 20, 40, 25 GB/s → median 25; the shape-level loop reads 10 GB/s
  const recs = toRecords([[row(0.1, 20), shapeCeiling], [row(0.1, 40)], [row(0.1, 25)]], stamp);
  const k = recs.find((r) => r.impl === 'rmsnorm-wasm')!;
  assert.equal(k.ceiling_gbps, 25);
  assert.equal(k.pct_of_ceiling, 40); // 10 GB/s of 25
  assert.equal(recs.find((r) => r.impl === 'ceiling-copy')!.ceiling_gbps, 10);
});

test('progress: durations and the predicted cost of a configuration follow the runner rules', () => {
  assert.equal(formatDuration(95_000), '1m35s');
  assert.equal(formatDuration(4_400), '4s');
  const mo = { reps: 21, minReps: 3, rounds: 5, budgetMs: 1000, sampleMs: 2 };
  // 1 ms calls: warm-up 1 + ≥ 30 ms, batches of 2 calls, min(21, 1000/2) = 21 samples × 2 ms
  assert.equal(predictCaseMs(1, mo, 2500), 31 + 42);
  // 100 ms calls: warm-up 6 calls, batch 1, min(21, 10) = 10 samples
  assert.equal(predictCaseMs(100, mo, 2500), 600 + 10 * 100);
  // 400 ms calls: warm-up cut at 2 s, batch 1, max(3, min(21, 2)) = 3 samples
  assert.equal(predictCaseMs(400, mo, 2500), 2000 + 3 * 400);
  // 2 s calls: the first call alone is past the cut
  assert.equal(predictCaseMs(2000, mo, 2500), 2000 + 3 * 2000);
  // over the cap: skipped, costs nothing
  assert.equal(predictCaseMs(3000, mo, 2500), 0);
});

test('--check-isolated table: ratio per row and how many are within 10 %', () => {
  const base = sample[0];
  const a = { ...base, ms_p50: 1, isolated_ms_p50: 1.05, cpu_ms_p50: 0.9 };
  const b = { ...base, direction: 'backward' as const, ms_p50: 2, isolated_ms_p50: 1, cpu_ms_p50: 2 };
  const text = formatIsolated([a, b, { ...base, impl: 'ceiling-copy', ms_p50: 1, isolated_ms_p50: null }], new Map([[a, 0.6]]));
  assert.match(text, /0\.95×\s+900 µs\s+600 µs\s+1\.50×\n/); // wall ratio, then CPU in run / alone and their ratio
  assert.match(text, /2\.00×\s+2\.00 ms\s+—\s+—\s+off by > 10 %/);
  assert.match(text, /1 of 2 rows within 10 % \(wall clock/);
  assert.match(text, /0 of 1 rows within 10 % in process CPU time/); // only a has both CPU times: 0.9 vs 0.6
});

test('an isolated child process times one of our configurations with the run\'s settings', async () => {
  const r = await timeInChild({
    op: 'rmsNorm', direction: 'backward', backend: 'wasm', threads: 1, rows: 4, cols: 8, p: 1, sets: 3,
    mo: { reps: 3, minReps: 3, rounds: 1, budgetMs: 5, sampleMs: 1 },
  });
  assert.ok(r.p20 > 0 && r.p20 <= r.p50 && r.p50 <= r.p80 && Number.isFinite(r.p80), JSON.stringify(r));
  assert.ok(r.cpu50 >= 0, JSON.stringify(r));
  assert.equal(r.kernels, kernelsId()); // the child ran the kernels this process loaded
  assert.deepEqual(r.companions, []); // alone: nothing else timed in that process
  const withLoop = await timeInChild({
    op: 'rmsNorm', direction: 'backward', backend: 'wasm', threads: 1, rows: 4, cols: 8, p: 1, sets: 3,
    mo: { reps: 3, minReps: 3, rounds: 1, budgetMs: 5, sampleMs: 1 }, companions: true,
  });
  // the run's child: the triad loop (backward's stream mix) and the naive kernel on the same buffers, interleaved
  assert.deepEqual(withLoop.companions.map((m) => `${m.c.impl} ${m.c.op} ${m.c.direction} ${m.c.threads}`),
    ['ceiling-triad triad backward 1', 'naive-f32x4 rmsNorm backward 1']);
  for (const m of withLoop.companions) assert.ok(m.p50 > 0 && m.c.bytes > 0, JSON.stringify(m));
  // 2 threads: the 2-thread copy loop, timed after the row in the same process (no naive kernel: it is 1-thread)
  const two = await timeInChild({
    op: 'layerNorm', direction: 'forward', backend: 'wasm', threads: 2, rows: 4, cols: 8, p: 1, sets: 3,
    mo: { reps: 3, minReps: 3, rounds: 1, budgetMs: 5, sampleMs: 1 }, companions: true,
  });
  assert.deepEqual(two.companions.map((m) => `${m.c.impl} ${m.c.direction} ${m.c.threads}`), ['ceiling-copy forward 2']);
  // the keys the run predicts progress with and stores costs under are those of what the child timed
  const spec = { op: 'rmsNorm' as const, direction: 'backward' as const, backend: 'wasm', threads: 1, rows: 4, cols: 8, p: 1, sets: 3,
    mo: { reps: 3, minReps: 3, rounds: 1, budgetMs: 5, sampleMs: 1 }, companions: true };
  assert.deepEqual(specKeys(spec), ['rmsnorm-wasm|wasm|rmsNorm|backward|1', ...withLoop.companions.map((m) => caseKey(m.c))]);
  await assert.rejects(timeInChild({
    op: 'rmsNorm', direction: 'forward', backend: 'wasm', threads: 1, rows: 4, cols: 0, p: 1, sets: 1,
    mo: { reps: 3, minReps: 3, rounds: 1, budgetMs: 5, sampleMs: 1 },
  }), /isolated child/);
});

test('--check-isolated times each row of ours alone right beside its own child, every round (no timing checked)', async () => {
  const opts = parseBenchArgs(['--shapes', '4x8', '--ops', 'rms', '--directions', 'f', '--no-peers', '--threads', '1',
    '--reps', '3', '--rounds', '1', '--budget', '5', '--repeat', '2', '--check-isolated']);
  const lines: string[] = [];
  const { records, aloneCpu } = await runBench(opts, undefined, (l) => lines.push(l));
  const ours = records.filter((r) => r.impl.startsWith('rmsnorm-'));
  assert.equal(ours.length, 3); // js, wasm, wasm+copy
  for (const r of ours) {
    assert.equal(r.repeats, 2);
    assert.ok(r.isolated_ms_p50 !== null && r.isolated_ms_p50 > 0, `${r.backend}: ${r.isolated_ms_p50}`);
    assert.ok((aloneCpu.get(recordKey(r)) ?? 0) > 0, r.backend);
  }
  for (const r of records.filter((x) => !x.impl.startsWith('rmsnorm-'))) assert.equal(r.isolated_ms_p50, null);
  assert.equal(lines.filter((l) => /: [0-9.]+ [µm]s\/call.*; alone [0-9.]+ [µm]s \(/.test(l)).length, 2 * 3, lines.join('\n'));
});

test('unequal CPUs: the fastest calibrated CPU is chosen, children run pinned to it, the run says where', async () => {
  assert.equal(fastest([0.7, 1.2, NaN]), 1);
  assert.equal(fastest([NaN, NaN]), -1);
  assert.equal(fastest([2, 1]), 0);
  assert.equal(describeChoice({ cpu: 1, relative: [0.71, 1] }), 'cpu 1 (cpu 0 at 0.71 of its speed)');
  assert.equal(pinNote(false, []), '1-thread children not pinned (--no-pin): each ran where the OS put it');
  assert.match(pinNote(true, [{ cpu: 1, relative: [0.62, 1] }, { cpu: 0, relative: [1, 0.9] }, { cpu: 1, relative: [0.8, 1] }]),
    /\(cpu 0 1×, cpu 1 2× of 3\); the slowest CPU measured 0\.62–0\.90 of the chosen one's speed$/);
  const spec = {
    op: 'rmsNorm' as const, direction: 'forward' as const, backend: 'js', threads: 1, rows: 4, cols: 8, p: 1, sets: 1,
    mo: { reps: 3, minReps: 3, rounds: 1, budgetMs: 5, sampleMs: 1 },
  };
  const free = await timeInChild(spec);
  if (!canPin()) {
    assert.ok(free.cpus === null || !/^\d+$/.test(free.cpus) || free.cpus === '0', String(free.cpus));
    return;
  }
  // the highest CPU this process may use (a container's cpuset may allow fewer than os.cpus() lists)
  const last = Number(/(\d+)$/.exec(free.cpus ?? '')?.[1]);
  assert.ok(Number.isInteger(last), `Cpus_allowed_list of an unpinned child: ${free.cpus}`);
  assert.equal((await timeInChild(spec, last)).cpus, String(last)); // taskset took effect in the child
  const opts = parseBenchArgs(['--shapes', '4x8', '--ops', 'rms', '--directions', 'f', '--no-peers', '--threads', '1',
    '--reps', '3', '--rounds', '1', '--budget', '5']);
  const lines: string[] = [];
  const { notes } = await runBench(opts, undefined, (l) => lines.push(l));
  assert.ok(lines.some((l) => / 1-thread children pinned to cpu \d+/.test(l)), lines.join('\n'));
  assert.ok(notes.some((n) => n.startsWith('1-thread children pinned to the fastest CPU of a calibration before each shape (cpu ')), notes.join(' | '));
});

test('peers are probed on a small shape first, so a single large shape skips the slow ones (no timing checked)', async () => {
  // --max-call far below any real call: every peer must be skipped at a shape larger than the probe, from the
  // probe's cost alone — before one call at that shape is made.
  const opts = parseBenchArgs(['--shapes', '512x1024', '--ops', 'rms', '--directions', 'f', '--threads', '1', '--reps', '3',
    '--rounds', '1', '--budget', '5', '--max-call', '0.001']);
  const { records, notes } = await runBench(opts);
  assert.deepEqual([...new Set(records.map((r) => r.impl))].sort(), ['ceiling-copy', 'naive-f32x4', 'rmsnorm-js', 'rmsnorm-wasm']);
  for (const impl of ['tfjs-wasm-composite', 'tfjs-cpu-composite', 'ort-RMSNormalization-23']) {
    assert.ok(notes.some((n) => n.startsWith(`skipped ${impl} rmsNorm forward at 512×1024`)), `${impl}: ${notes.join(' | ')}`);
  }
});

test('naive-kernel rows run on the same zero-copy buffers as ours and compute the norm', () => {
  const rows = 3;
  const cols = 12;
  const wd = copyShapeData(makeShapeData(rows, cols, 1, cols, 2), allocFloat32, freeFloat32);
  try {
    const cases = naiveCases(wd.data, wd.alloc, ['rmsNorm', 'pRmsNorm', 'layerNorm'], ['forward']);
    assert.deepEqual(cases.map((c) => c.op), ['rmsNorm', 'layerNorm']);
    const { x, y, gamma, beta } = wd.data;
    for (const c of cases) {
      y[1].fill(0);
      c.call(1); // buffer set 1
      const ref = c.op === 'rmsNorm' ? rmsNormRef(x[1], cols, { gamma, eps: 1e-6 }).y : layerNormRef(x[1], cols, { gamma, beta, eps: 1e-6 }).y;
      for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(y[1][i] - ref[i]) <= 1e-5 * (1 + Math.abs(ref[i])), `${c.op} ${i}: ${y[1][i]} vs ${ref[i]}`);
    }
    assert.throws(() => naiveCases({ ...wd.data, cols: 6 }, wd.alloc, ['rmsNorm'], ['forward']), /cols % 4/);
  } finally {
    wd.free();
  }
});
