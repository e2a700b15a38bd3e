// Paper Table 1 measured live: apply each re-scaling / re-centering to y = norm(W x) through the public float32 ops
// and report the measured change next to the paper's mark, so a mismatch is visible (used by `rmsnorm check`).
import { layerNorm, rmsNorm } from '../index.js';
import type { BackendName } from '../types.js';
import { linearForward } from './linear.js';
import { mulberry32, normal } from './random.js';

export type InvarianceNorm = 'LayerNorm' | 'RMSNorm' | 'pRMSNorm';
export type InvarianceTransform =
  | 'W-matrix re-scaling'
  | 'W-matrix re-centering'
  | 'W-vector re-scaling'
  | 'dataset re-scaling'
  | 'dataset re-centering'
  | 'single-case re-scaling';

export const INVARIANCE_TRANSFORMS: readonly InvarianceTransform[] = [
  'W-matrix re-scaling',
  'W-matrix re-centering',
  'W-vector re-scaling',
  'dataset re-scaling',
  'dataset re-centering',
  'single-case re-scaling',
];

/** RMSNorm's row of Table 1; pRMSNorm's row in the paper is identical. */
const RMS_MARKS: Readonly<Record<InvarianceTransform, boolean>> = {
  'W-matrix re-scaling': true,
  'W-matrix re-centering': false,
  'W-vector re-scaling': false,
  'dataset re-scaling': true,
  'dataset re-centering': false,
  'single-case re-scaling': true,
};

/** Paper Table 1 (confirmed by the official README): true = invariant (☑). */
export const PAPER_TABLE_1: Readonly<Record<InvarianceNorm, Readonly<Record<InvarianceTransform, boolean>>>> = {
  LayerNorm: {
    'W-matrix re-scaling': true,
    'W-matrix re-centering': true,
    'W-vector re-scaling': false,
    'dataset re-scaling': true,
    'dataset re-centering': false,
    'single-case re-scaling': true,
  },
  RMSNorm: RMS_MARKS,
  pRMSNorm: RMS_MARKS,
};

export interface InvarianceCell {
  transform: InvarianceTransform;
  /** max |y' − y| over the batch. */
  maxAbsDelta: number;
  /** maxAbsDelta / max |y|. */
  relativeDelta: number;
  /** Measured: relativeDelta ≤ threshold. */
  invariant: boolean;
  /** The paper's mark. */
  paper: boolean;
  matches: boolean;
}

export interface InvarianceRow {
  norm: InvarianceNorm;
  cells: InvarianceCell[];
}

/** JSON-friendly result: the setup, one row per norm, and whether every cell matches the paper. */
export interface InvarianceTable {
  backend: BackendName;
  batch: number;
  inputs: number;
  outputs: number;
  p: number;
  eps: number;
  seed: number;
  threshold: number;
  columns: InvarianceTransform[];
  rows: InvarianceRow[];
  allMatch: boolean;
}

export interface InvarianceOptions {
  backend?: BackendName;
  batch?: number;
  /** Input width n of x (W is outputs × inputs). */
  inputs?: number;
  /** Normalised width m = the norm's cols. */
  outputs?: number;
  /** pRMSNorm fraction. */
  p?: number;
  seed?: number;
  /** Relative change below which a cell counts as invariant (f32 rounding gives ~1e-7; real changes are O(0.1)). */
  threshold?: number;
}

/** a = x Wᵀ in float64, then rounded to float32 (what a float32 model would feed the norm). */
function project(x: Float64Array, W: Float64Array, batch: number, n: number, m: number): Float32Array {
  return Float32Array.from(linearForward(x, W, batch, n, m));
}

/**
 * Measure Table 1 for LayerNorm, RMSNorm and pRMSNorm: y = norm(x Wᵀ) with unit gain and eps = 0 (the table's
 * setting; eps only blurs it when ms ≲ eps), through the public ops on the chosen backend.
 *
 * Transforms: W → δW; W → W + 1vᵀ (every row of W shifted by one vector: each a_b shifts by the scalar v·x_b);
 * w_0 → δ w_0; x → δx for all samples; x → x + v for all samples; x_b → δ_b x_b per sample. δ, δ_b > 0.
 *
 * @example
 * const t = computeInvarianceTable(); // t.allMatch === true
 * t.rows[1].cells[1] // { transform: 'W-matrix re-centering', invariant: false, paper: false, matches: true, ... }
 */
export function computeInvarianceTable(options: InvarianceOptions = {}): InvarianceTable {
  const backend = options.backend ?? 'auto';
  const batch = options.batch ?? 8;
  const n = options.inputs ?? 32;
  const m = options.outputs ?? 64;
  const p = options.p ?? 0.0625;
  const seed = options.seed ?? 1910;
  const threshold = options.threshold ?? 1e-4;
  const eps = 0;
  const z = normal(mulberry32(seed));
  const vec = (len: number, mean = 0) => Float64Array.from({ length: len }, () => mean + z());
  const x = vec(batch * n);
  const W = vec(m * n);
  const v = vec(n, 0.5); // a shift with non-zero mean, so re-centering is a real change
  const delta = 3.7;
  const perCase = Float64Array.from({ length: batch }, (_, b) => 0.25 + 0.5 * b);

  const transformed: Record<InvarianceTransform, Float32Array> = {
    'W-matrix re-scaling': project(x, W.map((w) => w * delta), batch, n, m),
    'W-matrix re-centering': project(x, W.map((w, idx) => w + v[idx % n]), batch, n, m),
    'W-vector re-scaling': project(x, W.map((w, idx) => (idx < n ? w * delta : w)), batch, n, m),
    'dataset re-scaling': project(x.map((t) => t * delta), W, batch, n, m),
    'dataset re-centering': project(x.map((t, idx) => t + v[idx % n]), W, batch, n, m),
    'single-case re-scaling': project(x.map((t, idx) => t * perCase[Math.floor(idx / n)]), W, batch, n, m),
  };
  const a = project(x, W, batch, n, m);
  const norms: Record<InvarianceNorm, (t: Float32Array) => Float32Array> = {
    LayerNorm: (t) => layerNorm(t, m, { eps, backend }).y,
    RMSNorm: (t) => rmsNorm(t, m, { eps, backend }).y,
    pRMSNorm: (t) => rmsNorm(t, m, { eps, p, backend }).y,
  };

  const rows: InvarianceRow[] = (Object.keys(norms) as InvarianceNorm[]).map((norm) => {
    const y = norms[norm](a);
    let scale = 0;
    for (const t of y) scale = Math.max(scale, Math.abs(t));
    const cells = INVARIANCE_TRANSFORMS.map((transform): InvarianceCell => {
      const y2 = norms[norm](transformed[transform]);
      let maxAbsDelta = 0;
      for (let i = 0; i < y.length; i++) maxAbsDelta = Math.max(maxAbsDelta, Math.abs(y2[i] - y[i]));
      const relativeDelta = maxAbsDelta / scale;
      const invariant = relativeDelta <= threshold;
      const paper = PAPER_TABLE_1[norm][transform];
      return { transform, maxAbsDelta, relativeDelta, invariant, paper, matches: invariant === paper };
    });
    return { norm, cells };
  });
  return {
    backend, batch, inputs: n, outputs: m, p, eps, seed, threshold,
    columns: [...INVARIANCE_TRANSFORMS],
    rows,
    allMatch: rows.every((r) => r.cells.every((c) => c.matches)),
  };
}
