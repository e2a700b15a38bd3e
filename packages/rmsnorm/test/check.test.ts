// `rmsnorm check`: the live invariance table matches the paper, the self-test passes, and the flags behave
// (exit 0 / 1 / 2). Expected marks come from the paper's Table 1, not from the code under test.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { run } from '../src/check/command.js';
import { computeInvarianceTable } from '../src/check/invariance.js';
import { runSelfTest } from '../src/check/self-test.js';

/** Run the command with console output captured. */
async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    const code = await run(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

describe('rmsnorm check', () => {
  it('the measured invariance table matches paper Table 1 on js (f32 noise ≪ threshold ≪ real changes)', () => {
    const t = computeInvarianceTable({ backend: 'js' });
    const marks = Object.fromEntries(t.rows.map((r) => [r.norm, r.cells.map((c) => (c.invariant ? 1 : 0)).join('')]));
    // columns: W-matrix re-scaling, W-matrix re-centering, W-vector re-scaling, dataset re-scaling,
    // dataset re-centering, single-case re-scaling
    assert.deepEqual(marks, { LayerNorm: '110101', RMSNorm: '100101', pRMSNorm: '100101' });
    assert.ok(t.allMatch);
    for (const row of t.rows) {
      for (const c of row.cells) {
        assert.ok(c.invariant ? c.relativeDelta < 1e-6 : c.relativeDelta > 1e-2, `${row.norm} ${c.transform}: ${c.relativeDelta} is too close to the threshold`);
      }
    }
    assert.doesNotThrow(() => JSON.stringify(t));
  });

  it('the self-test passes on every available backend', () => {
    const s = runSelfTest();
    assert.ok(s.backends.includes('js'));
    assert.ok(s.ok, s.rows.filter((r) => !r.ok).map((r) => `${r.backend} ${r.op} ${r.rows}x${r.cols}: ${r.detail}`).join('\n'));
  });

  it('--json prints one JSON report and exits 0; --help exits 0; bad flags exit 2 with one line', async () => {
    const j = await capture(['--json', '--backend', 'js']);
    assert.equal(j.code, 0);
    const report = JSON.parse(j.out) as { ok: boolean; invariance: { rows: unknown[] }; selfTest: { rows: unknown[] } };
    assert.equal(report.ok, true);
    assert.equal(report.invariance.rows.length, 3);
    assert.ok(report.selfTest.rows.length > 0);
    const h = await capture(['--help']);
    assert.equal(h.code, 0);
    assert.match(h.out, /usage: rmsnorm check/);
    for (const bad of [['--bogus'], ['--backend', 'gpu'], ['extra']]) {
      const b = await capture(bad);
      assert.equal(b.code, 2, `${bad.join(' ')} must exit 2`);
      assert.equal(b.err.split('\n').length, 1);
      assert.equal(b.out, '');
    }
    const text = await capture(['--backend', 'js']);
    assert.equal(text.code, 0);
    assert.match(text.out, /every cell matches the paper/);
    assert.match(text.out, /check: OK/);
  });
});

describe('kernel checks of `reproduce` (claims 6.1, 6.3)', () => {
  it('finite differences of every op agree with the reference backward (≤ 1e-7 of the gradient scale) and f32 ops are within tolerance', async () => {
    const { computeCorrectness, CORRECTNESS_OPS, CORRECTNESS_SHAPES, CORRECTNESS_EPS } = await import('../src/check/correctness.js');
    const r = computeCorrectness(['js']);
    assert.equal(r.fd.length, CORRECTNESS_OPS.length * CORRECTNESS_SHAPES.length * CORRECTNESS_EPS.length);
    for (const c of r.fd) assert.ok(c.relError <= 1e-7, `${c.op} eps ${c.eps} ${c.rows}x${c.cols}: ${c.relError}`);
    // pRMSNorm rows really use k < cols and the two k rules differ (odd widths, p = 0.3).
    const k = (op: string) => r.fd.filter((c) => c.op === op && c.cols === 33)[0]?.k;
    assert.deepEqual([k('pRMSNorm p=0.3 k=ceil'), k('pRMSNorm p=0.3 k=floor')], [10, 9]);
    assert.equal(r.f32.length, CORRECTNESS_OPS.length * 2);
    assert.ok(r.ok, r.f32.filter((x) => !x.ok).map((x) => `${x.op} ${x.direction}: ${x.worstRatio}`).join('; '));
    assert.doesNotThrow(() => JSON.stringify(r));
  });

  it('a wrong analytic gradient is caught: the eps-outside gradient judged against the eps-inside forward', async () => {
    const { finiteDifferenceCase } = await import('../src/check/correctness.js');
    const { reference } = await import('../src/index.js');
    const { mulberry32, randomNormal } = await import('../src/check/random.js');
    const rand = mulberry32(5);
    const x = randomNormal(rand, 6, 0, 0.3);
    const dy = randomNormal(rand, 6);
    const gamma = randomNormal(rand, 3, 1, 0.2);
    const beta = randomNormal(rand, 3);
    const c = { name: 'rms 2x3', op: 'rmsNorm' as const, cols: 3, x, dy, gamma, beta, eps: 1e-2, epsPlacement: 'inside' as const };
    assert.ok(finiteDifferenceCase(c).relError <= 1e-7);
    const wrong = reference.rmsNormBackwardRef(dy, x, 3, { gamma, beta, eps: 1e-2, epsPlacement: 'outside' });
    const caught = finiteDifferenceCase(c, { analytic: wrong }).relError;
    assert.ok(caught > 1e-3, `relative error ${caught}`);
  });

  it('gradient laws on linear + RMSNorm hold to rounding in float64 and to f32 rounding through the ops', async () => {
    const { computeGradientClaims } = await import('../src/check/gradient-claims.js');
    const g = computeGradientClaims({ backend: 'js' });
    assert.equal(g.rows.length, 2 * g.deltas.length * 7);
    for (const r of g.rows) {
      assert.ok(r.deviation <= 1e-12, `${r.norm} ${r.quantity} ${r.transform} δ=${r.delta}: ${r.deviation}`);
      assert.ok(r.deviationF32 <= 1e-5, `${r.norm} ${r.quantity} ${r.transform} δ=${r.delta} f32: ${r.deviationF32}`);
    }
    assert.ok(g.ok);
  });
});
