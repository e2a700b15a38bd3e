// `rmsnorm check` self-test: every public op on a few shapes, per available backend, against the float64 reference,
// with the same tolerance table and comparison as the test suite.
import { availableBackends } from '../index.js';
import { mulberry32 } from './random.js';
import { randomCase, runCase } from './run-case.js';
import { tolerance, type Tolerance, type ToleranceBackend, type ToleranceOp } from './tolerance.js';

export interface SelfTestRow {
  backend: ToleranceBackend;
  /** e.g. 'rmsNorm', 'pRMSNorm p=0.0625', 'l2Norm', 'layerNorm'. */
  op: string;
  rows: number;
  cols: number;
  /** Worst |actual − expected| / natural row scale over y, rstd (, mean). */
  forwardError: number;
  /** The same over dx, dgamma, dbeta. */
  backwardError: number;
  forwardTolerance: Tolerance;
  backwardTolerance: Tolerance;
  /** Worst error / allowed over all outputs (≤ 1 passes). */
  worstRatio: number;
  /** The worst element when it failed, e.g. "dx[17]: actual …, expected …". */
  detail?: string;
  ok: boolean;
}

export interface SelfTestResult {
  backends: ToleranceBackend[];
  rows: SelfTestRow[];
  ok: boolean;
}

const SHAPES: ReadonlyArray<readonly [number, number]> = [[1, 1], [3, 5], [4, 127], [2, 1024], [1, 4097]];
const OPS: ReadonlyArray<{ label: string; op: ToleranceOp; p?: number; epsPlacement?: 'outside' }> = [
  { label: 'rmsNorm', op: 'rmsNorm' },
  { label: 'rmsNorm eps outside', op: 'rmsNorm', epsPlacement: 'outside' },
  { label: 'pRMSNorm p=0.0625', op: 'rmsNorm', p: 0.0625 },
  { label: 'l2Norm', op: 'l2Norm' },
  { label: 'layerNorm', op: 'layerNorm' },
];

/**
 * Run every op × shape (with gamma and beta) on each available backend (or the given ones) and compare with the
 * reference. @example const r = runSelfTest(); r.ok
 */
export function runSelfTest(backends?: ToleranceBackend[]): SelfTestResult {
  const which = backends ?? (availableBackends().filter((b) => b === 'js' || b === 'wasm') as ToleranceBackend[]);
  const rows: SelfTestRow[] = [];
  for (const backend of which) {
    for (const spec of OPS) {
      for (const [r, cols] of SHAPES) {
        const rand = mulberry32(r * 100003 + cols);
        const c = randomCase(rand, r, { name: `${spec.label} ${r}x${cols}`, op: spec.op, cols, p: spec.p, epsPlacement: spec.epsPlacement });
        const fwdTol = tolerance(backend, spec.op, 'forward');
        const bwdTol = tolerance(backend, spec.op, 'backward');
        const result = runCase(c, backend, (d) => (d === 'forward' ? fwdTol : bwdTol));
        const all = [...Object.entries(result.forward), ...Object.entries(result.backward)];
        const worst = all.reduce((w, e) => (e[1].ratio > w[1].ratio ? e : w));
        const ok = all.every(([, comp]) => comp.ok);
        rows.push({
          backend,
          op: spec.label,
          rows: r,
          cols,
          forwardError: Math.max(...Object.values(result.forward).map((comp) => comp.scaledError)),
          backwardError: Math.max(...Object.values(result.backward).map((comp) => comp.scaledError)),
          forwardTolerance: fwdTol,
          backwardTolerance: bwdTol,
          worstRatio: worst[1].ratio,
          detail: ok ? undefined : `${worst[0]}[${worst[1].worstIndex}]: actual ${worst[1].actual}, expected ${worst[1].expected}`,
          ok,
        });
      }
    }
  }
  return { backends: which, rows, ok: rows.length > 0 && rows.every((row) => row.ok) };
}
