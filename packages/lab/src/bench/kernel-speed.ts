// Paper claim 6.4 measured live: forward+backward time of LayerNorm, RMSNorm and pRMSNorm (p = 6.25 %, the kernels
// read only the first k inputs for the statistic: no slicing copies) on the paper's §6 item 4 shapes, timed with the
// benchmark's interleaved round-robin harness (src/bench/runner.ts) over rotated buffer sets.
import { allocFloat32, availableBackends, freeFloat32, partialK } from 'rmsnorm';
import { ourCases, type OurVariant } from '../bench/ours.js';
import { measure, type BenchCase } from '../bench/runner.js';
import { copyShapeData, makeShapeData } from '../bench/shape-data.js';
import { speedupOverLn, summarize, type OpName } from '../bench/stats.js';

export interface KernelSpeedRow {
  /** The backend asked for ('auto' = the library default) and what it ran on. */
  backend: 'auto' | 'js';
  resolved: 'wasm' | 'js';
  rows: number;
  cols: number;
  op: OpName;
  /** pRMSNorm fraction (1 for RMSNorm, null for LayerNorm) and k. */
  p: number | null;
  k: number;
  /** Forward + backward ms per call: 20th, 50th, 80th percentile over the samples. */
  ms_p20: number;
  ms_p50: number;
  ms_p80: number;
  samples: number;
  /** The paper's speed-up over LayerNorm at the same shape and backend, (T_LN − T)/T_LN in percent; null for LN. */
  speedupVsLn: number | null;
}

export interface KernelSpeedResult {
  shapes: Array<[number, number]>;
  p: number;
  reps: number;
  sets: number;
  rows: KernelSpeedRow[];
  /** Wall time of the whole measurement (ms). */
  wallMs: number;
  notes: string[];
}

export interface KernelSpeedOptions {
  shapes?: Array<[number, number]>;
  p?: number;
  /** Samples per case (≥ 20 for the claim). */
  reps?: number;
  /** Round-robin rounds the samples are spread over. */
  rounds?: number;
  /** Rotated input/output buffer sets (≥ 3: every call streams memory the previous one did not touch). */
  sets?: number;
}

const OPS: readonly OpName[] = ['layerNorm', 'rmsNorm', 'pRmsNorm'];

/**
 * Time forward+backward (backward reads the rstd/mean its forward saved) of each op per shape, on the default
 * backend ('auto': wasm SIMD with zero-copy buffers when available) and on js, all cases of a shape interleaved.
 * About 5–10 s on a 2-core machine with the default shapes (4096×1024 and 80×1024).
 * @example const r = await measureKernelSpeed(); r.rows.find((x) => x.op === 'rmsNorm')?.speedupVsLn
 */
export async function measureKernelSpeed(options: KernelSpeedOptions = {}): Promise<KernelSpeedResult> {
  const t0 = performance.now();
  const shapes = options.shapes ?? [[4096, 1024], [80, 1024]];
  const p = options.p ?? 0.0625;
  const reps = options.reps ?? 20;
  const rounds = options.rounds ?? 5;
  const sets = options.sets ?? 3;
  const notes: string[] = [];
  const hasWasm = availableBackends().includes('wasm');
  if (!hasWasm) notes.push("wasm backend unavailable: 'auto' runs on js");
  const out: KernelSpeedRow[] = [];
  for (const [rows, cols] of shapes) {
    const k = partialK(p, cols, 'ceil');
    const d = makeShapeData(rows, cols, p, k, sets);
    const wd = hasWasm ? copyShapeData(d, allocFloat32, freeFloat32) : null;
    const jsAlloc = (len: number) => new Float32Array(len);
    const variants: Array<{ backend: 'auto' | 'js'; resolved: 'wasm' | 'js'; cases: BenchCase[] }> = [];
    const fused = (cases: BenchCase[]): BenchCase[] =>
      OPS.map((op) => {
        const fwd = cases.find((c) => c.op === op && c.direction === 'forward')!;
        const bwd = cases.find((c) => c.op === op && c.direction === 'backward')!;
        return { ...fwd, direction: 'backward', bytes: fwd.bytes + bwd.bytes, call: (i: number) => (fwd.call(i), bwd.call(i)) };
      });
    try {
      if (wd !== null) {
        const v: OurVariant = { backend: 'wasm', label: 'wasm', threads: 1, alloc: wd.alloc };
        variants.push({ backend: 'auto', resolved: 'wasm', cases: fused(ourCases(wd.data, v, OPS, ['forward', 'backward'])) });
      }
      const js = fused(ourCases(d, { backend: 'js', label: 'js', threads: 1, alloc: jsAlloc }, OPS, ['forward', 'backward']));
      if (wd === null) variants.push({ backend: 'auto', resolved: 'js', cases: js });
      else variants.push({ backend: 'js', resolved: 'js', cases: js });
      const all = variants.flatMap((v) => v.cases);
      const measured = await measure(all, { reps, minReps: reps, rounds, budgetMs: 0, sampleMs: 2 });
      for (const v of variants) {
        const stats = v.cases.map((c) => {
          const m = measured.find((x) => x.case === c)!;
          if (m.error !== undefined) notes.push(`${v.backend} ${c.op} ${rows}×${cols}: ${m.error}`);
          return { op: c.op as OpName, s: summarize(m.samples), n: m.samples.length };
        });
        const ln = stats.find((x) => x.op === 'layerNorm')!.s.p50;
        for (const { op, s, n } of stats) {
          out.push({
            backend: v.backend, resolved: v.resolved, rows, cols, op,
            p: op === 'layerNorm' ? null : op === 'rmsNorm' ? 1 : p,
            k: op === 'pRmsNorm' ? k : cols,
            ms_p20: s.p20, ms_p50: s.p50, ms_p80: s.p80, samples: n,
            speedupVsLn: op === 'layerNorm' ? null : speedupOverLn(s.p50, ln),
          });
        }
      }
    } finally {
      wd?.free();
    }
  }
  return { shapes: shapes.map(([r, c]) => [r, c]), p, reps, sets, rows: out, wallMs: performance.now() - t0, notes };
}
