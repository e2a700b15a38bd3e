// The ONE case matrix every backend runs: shapes with SIMD tails, parameter variants, eps placements,
// NaN/Inf rows, zero rows, extreme magnitudes, offset data for LayerNorm, large shapes with an NMSE bound.
// A backend's test file calls describeCaseMatrix('<backend>'); expected values always come from src/reference.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hashSeed, mulberry32, randomNormal } from '../src/check/random.js';
import { describeComparison } from '../src/check/compare.js';
import { runCase, type CaseResult, type NormCase } from '../src/check/run-case.js';
import { NMSE_BOUND, tolerance, type Direction, type ToleranceBackend, type ToleranceOp } from './tolerance.js';

export const MATRIX_COLS = [1, 3, 4, 5, 127, 1024, 4097] as const;
const OPS: readonly ToleranceOp[] = ['rmsNorm', 'l2Norm', 'layerNorm'];

/** Options of describeCaseMatrix. */
export interface CaseMatrixOptions {
  /** Suffix for the suite name, e.g. 'threads=2'. */
  label?: string;
  /** Runs before the suite (await a backend's readiness, set a thread count, …). */
  before?: () => unknown;
  /** Runs after the suite (restore settings). */
  after?: () => unknown;
  /** Skip the whole suite (true or a reason), e.g. when the backend is not available here. */
  skip?: boolean | string;
  /** Called with every case result (e.g. to aggregate worst errors). */
  onResult?: (c: NormCase, result: CaseResult) => void;
}

/** Input generator: seeded from the case name so a failure reproduces from its message alone. */
function data(name: string, rows: number, cols: number, mean = 0, std = 1) {
  const rand = mulberry32(hashSeed(name));
  return { x: randomNormal(rand, rows * cols, mean, std), dy: randomNormal(rand, rows * cols), rand };
}

type ParamVariant = Pick<NormCase, 'gamma' | 'beta' | 'gammaOffset'> & { tag: string };

function paramVariants(rand: () => number, cols: number, withOffset: boolean): ParamVariant[] {
  const gamma = randomNormal(rand, cols, 1, 0.2);
  const gammaSmall = randomNormal(rand, cols, 0, 0.2);
  const beta = randomNormal(rand, cols, 0, 0.5);
  const variants: ParamVariant[] = [
    { tag: 'plain' },
    { tag: 'gamma', gamma },
    { tag: 'beta', beta },
    { tag: 'gamma+beta', gamma, beta },
  ];
  if (withOffset) variants.push({ tag: 'gammaOffset=1+gamma+beta', gamma: gammaSmall, beta, gammaOffset: 1 });
  return variants;
}

const P_VARIANTS = [
  { p: undefined, kRule: undefined },
  { p: 0.5, kRule: 'ceil' },
  { p: 0.5, kRule: 'floor' },
  { p: 0.0625, kRule: 'ceil' },
  { p: 0.0625, kRule: 'floor' },
] as const;

/** The shape × parameter cases of one op and one cols value (rows 1 and 3). */
export function shapeCases(op: ToleranceOp, cols: number): NormCase[] {
  const cases: NormCase[] = [];
  for (const rows of [1, 3]) {
    const base = `${op} ${rows}x${cols}`;
    const { x, dy, rand } = data(base, rows, cols);
    const pVariants = op === 'rmsNorm' ? P_VARIANTS : [P_VARIANTS[0]];
    const placements = op === 'layerNorm' ? [undefined] : [undefined, 'outside' as const];
    for (const v of paramVariants(rand, cols, op !== 'layerNorm')) {
      for (const pv of pVariants) {
        for (const epsPlacement of placements) {
          const name = `${base} ${v.tag} p=${pv.p ?? 'default'} kRule=${pv.kRule ?? 'default'} eps=${epsPlacement ?? 'default'}`;
          cases.push({ name, op, cols, x, dy, gamma: v.gamma, beta: v.beta, gammaOffset: v.gammaOffset, p: pv.p, kRule: pv.kRule, epsPlacement });
        }
      }
    }
  }
  return cases;
}

/** eps values (0, default, 1e-2 — large enough to matter) × placements, on small-magnitude rows where eps bites. */
export function epsCases(op: ToleranceOp): NormCase[] {
  const cases: NormCase[] = [];
  for (const cols of [3, 127]) {
    for (const std of [1, 0.01]) {
      const base = `${op} eps 4x${cols} std=${std}`;
      const { x, dy, rand } = data(base, 4, cols, 0, std);
      const gamma = randomNormal(rand, cols, 1, 0.2);
      for (const eps of [0, undefined, 1e-2]) {
        for (const epsPlacement of op === 'layerNorm' ? [undefined] : (['inside', 'outside'] as const)) {
          for (const p of op === 'rmsNorm' ? [undefined, 0.5] : [undefined]) {
            cases.push({ name: `${base} eps=${eps ?? 'default'} ${epsPlacement ?? ''} p=${p ?? 1}`, op, cols, x, dy, gamma, eps, epsPlacement, p });
          }
        }
      }
    }
  }
  return cases;
}

/** |x| ≈ 1e30 (x² overflows f32) and ≈ 1e-30 (x² underflows f32): only f64 accumulation survives both. */
export function magnitudeCases(op: ToleranceOp): NormCase[] {
  const cases: NormCase[] = [];
  for (const cols of [5, 127, 4097]) {
    for (const scale of [1e30, 1e-30]) {
      const base = `${op} |x|~${scale} 2x${cols}`;
      const { x, dy, rand } = data(base, 2, cols, 0, scale);
      const gamma = randomNormal(rand, cols, 1, 0.2);
      const beta = randomNormal(rand, cols, 0, 0.5);
      for (const eps of [0, undefined]) {
        for (const p of op === 'rmsNorm' ? [undefined, 0.0625] : [undefined]) {
          cases.push({ name: `${base} eps=${eps ?? 'default'} p=${p ?? 1}`, op, cols, x, dy, gamma, beta, eps, p });
        }
      }
    }
  }
  return cases;
}

/** Large inputs, checked element-wise and by NMSE: one large odd shape and one row of 2^20. */
export function largeCases(op: ToleranceOp): NormCase[] {
  const cases: NormCase[] = [];
  for (const [rows, cols] of [[257, 1031], [1, 1 << 20]] as const) {
    const base = `${op} large ${rows}x${cols}`;
    const { x, dy, rand } = data(base, rows, cols);
    const gamma = randomNormal(rand, cols, 1, 0.2);
    const beta = randomNormal(rand, cols, 0, 0.5);
    cases.push({ name: base, op, cols, x, dy, gamma, beta, p: op === 'rmsNorm' && rows === 1 ? 0.0625 : undefined });
  }
  return cases;
}

/** Failure text for the non-passing comparisons of one case (worst index, actual, expected, allowed). */
function failures(c: NormCase, r: CaseResult): string[] {
  const out: string[] = [];
  for (const [direction, comps] of [['forward', r.forward], ['backward', r.backward]] as const) {
    for (const [name, comp] of Object.entries(comps)) {
      if (!comp.ok) out.push(`[${c.name}] ${direction} ${describeComparison(name, comp)}`);
    }
  }
  return out;
}

/** Worst scaled f32-vs-f64 error seen per op × direction (printed after the suite). */
export type WorstTable = Record<string, { error: number; where: string }>;

function record(worst: WorstTable, c: NormCase, r: CaseResult): void {
  for (const [direction, comps] of [['forward', r.forward], ['backward', r.backward]] as const) {
    for (const [name, comp] of Object.entries(comps)) {
      const key = `${c.op} ${direction}`;
      if (comp.scaledError > (worst[key]?.error ?? -1)) worst[key] = { error: comp.scaledError, where: `${c.name} (${name})` };
    }
  }
}

/**
 * Register the whole case matrix as node:test suites for one backend: every public op (rmsNorm/pRMSNorm, l2Norm,
 * layerNorm, forward and backward) called with `{ backend }` and compared with the float64 reference under
 * tolerance(backend, op, direction). Reusable by any backend's test file.
 * @example describeCaseMatrix('wasm', { label: 'threads=2', before: () => setThreads(2), after: () => setThreads(1) })
 */
export function describeCaseMatrix(backend: ToleranceBackend, extra: CaseMatrixOptions = {}): void {
  const suite = `case matrix: ${backend}${extra.label === undefined ? '' : ` (${extra.label})`}`;
  const worst: WorstTable = {};
  describe(suite, { skip: extra.skip }, () => {
    if (extra.before !== undefined) before(extra.before);
    after(() => {
      const lines = Object.entries(worst).map(([key, w]) => `  ${key.padEnd(20)} ${w.error.toExponential(2)}  at ${w.where}`);
      console.log(`worst f32-vs-f64 error (|Δ| / natural row scale), ${suite}:\n${lines.join('\n')}`);
      return extra.after?.();
    });
    const tol = (op: ToleranceOp) => (direction: Direction) => tolerance(backend, op, direction);
    const run = (cases: NormCase[], extraCheck?: (c: NormCase, r: CaseResult) => void) => {
      const problems: string[] = [];
      for (const c of cases) {
        const r = runCase(c, backend, tol(c.op));
        record(worst, c, r);
        extra.onResult?.(c, r);
        problems.push(...failures(c, r));
        extraCheck?.(c, r);
      }
      assert.ok(problems.length === 0, `${problems.length} mismatches:\n${problems.slice(0, 8).join('\n')}`);
      return cases.length;
    };

    for (const op of OPS) {
      describe(op, () => {
        for (const cols of MATRIX_COLS) {
          it(`cols=${cols}, rows 1 and 3, gamma/beta/gammaOffset${op === 'rmsNorm' ? ', p ∈ {1, 0.5, 0.0625} × kRule' : ''}${op !== 'layerNorm' ? ', eps inside/outside' : ''}`, () => {
            run(shapeCases(op, cols));
          });
        }
        it('eps ∈ {0, default, 1e-2} × placements on unit and 0.01-scale rows', () => {
          run(epsCases(op));
        });
        it('|x| ≈ 1e30 and 1e-30 (f64 accumulation)', () => {
          run(magnitudeCases(op));
        });
        it('large shapes (257x1031, 1x2^20): element-wise and NMSE ≤ 1e-7', () => {
          run(largeCases(op), (c, r) => {
            for (const [direction, comps] of [['forward', r.forward], ['backward', r.backward]] as const) {
              for (const [name, comp] of Object.entries(comps)) {
                assert.ok(comp.nmse <= NMSE_BOUND, `[${c.name}] ${direction} ${name}: NMSE ${comp.nmse} > ${NMSE_BOUND}`);
              }
            }
          });
        });
        it('rows = 0: empty outputs, zero dgamma/dbeta', () => {
          for (const cols of [1, 5, 1024]) {
            const rand = mulberry32(cols);
            const gamma = randomNormal(rand, cols, 1, 0.2);
            const beta = randomNormal(rand, cols);
            const c: NormCase = { name: `${op} rows=0 cols=${cols}`, op, cols, x: new Float32Array(0), dy: new Float32Array(0), gamma, beta };
            const r = runCase(c, backend, tol(op));
            assert.equal(r.outputs.y.length, 0);
            assert.equal(r.outputs.rstd.length, 0);
            assert.equal(r.outputs.dx.length, 0);
            assert.deepEqual(failures(c, r), []);
            assert.ok(r.backward.dgamma !== undefined && r.backward.dbeta !== undefined);
          }
        });
        it('NaN / Inf in one row propagate to that row only; other rows match the reference', () => {
          for (const cols of [5, 127]) {
            for (const p of op === 'rmsNorm' ? [undefined, 0.5] : [undefined]) {
              for (const [bad, at] of [[NaN, 0], [NaN, cols - 1], [Infinity, 1], [-Infinity, cols - 1]] as const) {
                const name = `${op} 4x${cols} p=${p ?? 1} x[1,${at}]=${bad}`;
                const { x, dy, rand } = data(name, 4, cols);
                x[cols + at] = bad;
                const gamma = randomNormal(rand, cols, 1, 0.2);
                const beta = randomNormal(rand, cols, 0, 0.5);
                const c: NormCase = { name, op, cols, x, dy, gamma, beta, p };
                run([c], (_c, r) => {
                  const { y, dx } = r.outputs;
                  for (const row of [0, 2, 3]) {
                    for (let j = 0; j < cols; j++) {
                      assert.ok(Number.isFinite(y[row * cols + j]) && Number.isFinite(dx[row * cols + j]), `[${name}] row ${row} must stay finite`);
                    }
                  }
                  const k = p === undefined ? cols : Math.ceil(p * cols);
                  if (Number.isNaN(bad) && at < k) {
                    for (let j = 0; j < cols; j++) assert.ok(Number.isNaN(y[cols + j]), `[${name}] y[1,${j}] must be NaN`);
                  }
                });
              }
            }
          }
        });
        it('zero rows: eps > 0 gives y = beta exactly; eps = 0 gives rstd = +Infinity and NaN outputs', () => {
          for (const cols of [4, 127]) {
            for (const eps of [1e-6, 0]) {
              for (const epsPlacement of op === 'layerNorm' ? [undefined] : (['inside', 'outside'] as const)) {
                const name = `${op} zero row 3x${cols} eps=${eps} ${epsPlacement ?? ''}`;
                const { x, dy, rand } = data(name, 3, cols);
                // LayerNorm's degenerate row is any constant row (x − mean = 0); RMS-family's is the zero row.
                x.fill(op === 'layerNorm' ? 3.5 : 0, cols, 2 * cols);
                const gamma = randomNormal(rand, cols, 1, 0.2);
                const beta = randomNormal(rand, cols, 0, 0.5);
                const c: NormCase = { name, op, cols, x, dy, gamma, beta, eps, epsPlacement };
                run([c], (_c, r) => {
                  const { y, rstd, dx } = r.outputs;
                  if (eps > 0) {
                    for (let j = 0; j < cols; j++) assert.equal(y[cols + j], beta[j], `[${name}] y[1,${j}] must equal beta`);
                    assert.ok(Number.isFinite(rstd[1]));
                  } else {
                    assert.equal(rstd[1], Infinity, `[${name}] rstd must be +Infinity`);
                    // Inside: dx = ∞·u − 0·NaN = NaN. Outside: the correction term is dropped at RMS = 0 (the
                    // subgradient of docs/math.md), leaving dx = u/(0 + eps) = ±Infinity.
                    for (let j = 0; j < cols; j++) {
                      assert.ok(Number.isNaN(y[cols + j]), `[${name}] y[1,${j}] must be NaN`);
                      const d = dx[cols + j];
                      const want = epsPlacement === 'outside' && op !== 'layerNorm' ? Math.abs(d) === Infinity : Number.isNaN(d);
                      assert.ok(want, `[${name}] dx[1,${j}] = ${d} must be ${epsPlacement === 'outside' ? '±Infinity' : 'NaN'}`);
                    }
                  }
                  for (let j = 0; j < cols; j++) assert.ok(Number.isFinite(y[j]) && Number.isFinite(y[2 * cols + j]));
                });
              }
            }
          }
        });
      });
    }

    it('layerNorm on 1e4 + N(0,1) rows (catches one-pass variance)', () => {
      const cases: NormCase[] = [];
      for (const cols of [5, 1024, 4097]) {
        const name = `layerNorm offset 1e4 8x${cols}`;
        const { x, dy, rand } = data(name, 8, cols, 1e4, 1);
        cases.push({ name, op: 'layerNorm', cols, x, dy, gamma: randomNormal(rand, cols, 1, 0.2), beta: randomNormal(rand, cols) });
      }
      run(cases);
    });
  });
}

