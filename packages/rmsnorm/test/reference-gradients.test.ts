// The float64 reference's backward against float64 central finite differences of its own forward, for every op
// (RMSNorm, pRMSNorm with both k rules, LayerNorm, L2-Norm), both eps placements, with/without gamma/beta/gammaOffset,
// batched rows. L = Σ dy ⊙ y; dx, dgamma and dbeta are all checked.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { partialK, reference } from '../src/index.js';
import { mulberry32, normal } from './compare.js';

const COLS = [1, 2, 3, 7, 64, 1000];
const ROWS = 2;
/** Max |fd − analytic| / scale allowed. The script in paper §2 reaches ≤ 2e-9; rounding in fd is ~√n·1e-10. */
const TARGET = 1e-7;

interface Params {
  gamma?: Float64Array;
  beta?: Float64Array;
  gammaOffset?: number;
  eps: number;
  epsPlacement?: 'inside' | 'outside';
  k?: number;
}

type Forward = (x: Float64Array, cols: number, o: Params) => Float64Array;
type Backward = (dy: Float64Array, x: Float64Array, cols: number, o: Params) => ReturnType<typeof reference.rmsNormBackwardRef>;

const families: Array<{ name: string; fwd: Forward; bwd: Backward; placements: Array<'inside' | 'outside'>; offset: boolean; k?: (cols: number) => number }> = [
  { name: 'RMSNorm', fwd: (x, c, o) => reference.rmsNormRef(x, c, o).y, bwd: (d, x, c, o) => reference.rmsNormBackwardRef(d, x, c, o), placements: ['inside', 'outside'], offset: true },
  { name: 'pRMSNorm p=0.3 ceil', fwd: (x, c, o) => reference.rmsNormRef(x, c, o).y, bwd: (d, x, c, o) => reference.rmsNormBackwardRef(d, x, c, o), placements: ['inside', 'outside'], offset: true, k: (c) => partialK(0.3, c, 'ceil') },
  { name: 'pRMSNorm p=0.3 floor', fwd: (x, c, o) => reference.rmsNormRef(x, c, o).y, bwd: (d, x, c, o) => reference.rmsNormBackwardRef(d, x, c, o), placements: ['inside', 'outside'], offset: true, k: (c) => partialK(0.3, c, 'floor') },
  { name: 'pRMSNorm p=0.0625', fwd: (x, c, o) => reference.rmsNormRef(x, c, o).y, bwd: (d, x, c, o) => reference.rmsNormBackwardRef(d, x, c, o), placements: ['inside', 'outside'], offset: false, k: (c) => partialK(0.0625, c, 'ceil') },
  { name: 'LayerNorm', fwd: (x, c, o) => reference.layerNormRef(x, c, o).y, bwd: (d, x, c, o) => reference.layerNormBackwardRef(d, x, c, o), placements: ['inside'], offset: false },
  { name: 'L2-Norm', fwd: (x, c, o) => reference.l2NormRef(x, c, o).y, bwd: (d, x, c, o) => reference.l2NormBackwardRef(d, x, c, o), placements: ['inside', 'outside'], offset: true },
];

function vec(z: () => number, n: number, mean = 0, std = 1): Float64Array {
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = mean + std * z();
  return v;
}

/** Σ dy ⊙ (y(+h) − y(−h)) / 2h, differences taken element-wise before summing (less cancellation). */
function centralDifference(dy: Float64Array, plus: Float64Array, minus: Float64Array, h: number): number {
  let s = 0;
  for (let i = 0; i < dy.length; i++) s += dy[i] * (plus[i] - minus[i]);
  return s / (2 * h);
}

/** Coordinates to probe: all for small sizes, a seeded random subset of `limit` otherwise. */
function probe(n: number, rand: () => number, limit = 24): number[] {
  if (n <= limit) return Array.from({ length: n }, (_, i) => i);
  const picks = new Set<number>([0, n - 1]);
  while (picks.size < limit) picks.add(Math.floor(rand() * n));
  return [...picks];
}

let checked = 0;

describe('reference backward = float64 central finite differences', () => {
  for (const f of families) {
    it(`${f.name}: cols ${COLS.join('/')}, ${f.placements.join('/')} eps, eps ∈ {1e-6, 1e-2}, with/without gamma/beta${f.offset ? '/gammaOffset' : ''}`, () => {
      let worst = 0;
      for (const cols of COLS) {
        for (const epsPlacement of f.placements) {
          for (const eps of [1e-6, 1e-2]) {
            for (const params of ['none', 'gamma+beta', ...(f.offset ? ['gammaOffset=1'] : [])]) {
              const tag = `${f.name} ${ROWS}x${cols} ${epsPlacement} eps=${eps} ${params}`;
              const rand = mulberry32(cols * 7919 + eps * 1e6 + params.length);
              const z = normal(rand);
              const x = vec(z, ROWS * cols);
              const dy = vec(z, ROWS * cols);
              const o: Params = { eps, epsPlacement, k: f.k?.(cols) };
              if (params !== 'none') {
                o.gamma = params === 'gammaOffset=1' ? vec(z, cols, 0, 0.3) : vec(z, cols, 1, 0.3);
                o.beta = vec(z, cols, 0, 0.5);
                if (params === 'gammaOffset=1') o.gammaOffset = 1;
              }
              const g = f.bwd(dy, x, cols, o);
              // Scale of a gradient: its largest |entry|, floored by the size of its terms (|dy|·|gain|/RMS), so
              // exactly-cancelling gradients (cols = 1) are judged in the units of the row, not relative to ~0.
              const gainMax = o.gamma === undefined ? 1 : Math.max(...o.gamma.map((v) => Math.abs((o.gammaOffset ?? 0) + v)));
              const dyMax = Math.max(...dy.map(Math.abs));
              const rstdMax = Math.max(...x.map((v) => 1 / Math.sqrt(v * v + eps)).filter(Number.isFinite), 1);
              const check = (what: string, analytic: Float64Array, fd: (i: number) => number, n: number, termScale: number) => {
                const scale = Math.max(Math.max(...analytic.map(Math.abs)), termScale);
                for (const i of probe(n, rand)) {
                  const diff = Math.abs(fd(i) - analytic[i]);
                  const err = diff === 0 ? 0 : diff / scale;
                  worst = Math.max(worst, err);
                  checked++;
                  assert.ok(err <= TARGET, `[${tag}] ${what}[${i}]: fd ${fd(i)}, analytic ${analytic[i]}, |error|/scale ${err.toExponential(2)} > ${TARGET}`);
                }
              };
              const at = (arr: Float64Array, i: number, h: number) => {
                const a = arr.slice();
                a[i] += h;
                return a;
              };
              check('dx', g.dx, (i) => {
                const h = 1e-6 * Math.max(1, Math.abs(x[i]));
                return centralDifference(dy, f.fwd(at(x, i, h), cols, o), f.fwd(at(x, i, -h), cols, o), h);
              }, x.length, dyMax * gainMax * Math.min(rstdMax, 1e3) * 1e-3);
              if (o.gamma !== undefined) {
                const gamma = o.gamma;
                assert.ok(g.dgamma !== null && g.dbeta !== null, `[${tag}] dgamma/dbeta must be present`);
                check('dgamma', g.dgamma, (j) => {
                  const h = 1e-6 * Math.max(1, Math.abs(gamma[j]));
                  return centralDifference(dy, f.fwd(x, cols, { ...o, gamma: at(gamma, j, h) }), f.fwd(x, cols, { ...o, gamma: at(gamma, j, -h) }), h);
                }, cols, 0);
                const beta = o.beta!;
                check('dbeta', g.dbeta, (j) => centralDifference(dy, f.fwd(x, cols, { ...o, beta: at(beta, j, 1e-6) }), f.fwd(x, cols, { ...o, beta: at(beta, j, -1e-6) }), 1e-6), cols, 0);
              } else {
                assert.equal(g.dgamma, null);
                assert.equal(g.dbeta, null);
              }
            }
          }
        }
      }
      console.log(`${f.name}: worst |fd − analytic| / scale = ${worst.toExponential(2)} (${checked} coordinates so far)`);
    });
  }
});
