// Cross-check of addRmsNorm against an implementation no one here wrote: ONNX Runtime's contrib op
// SkipSimplifiedLayerNormalization (onnxruntime-node, CPU), both outputs `output` (= y) and `input_skip_bias_sum`
// (= sum), in float32 and float16. ORT is also compared with the float64 reference, so a disagreement says who is off.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type * as Ort from 'onnxruntime-node';
import { addRmsNorm, reference } from '../src/index.js';
import { hashSeed, mulberry32, randomNormal } from './compare.js';
import { buildSkipSimplifiedModel } from './onnx-skip-model.js';
import { backendsFor, checkClose, encode, toleranceBackend, ulpStats, values } from './storage-check.js';
import { storageTolerance } from './tolerance.js';

let ort: typeof Ort | null = null;
let skipReason: string | false = false;
try {
  ort = await import('onnxruntime-node');
} catch (e) {
  skipReason = `onnxruntime-node cannot be loaded here: ${String(e).slice(0, 120)}`;
}
if (ort !== null) {
  try {
    const probe = buildSkipSimplifiedModel({ cols: 2, gamma: new Float32Array(2), eps: 1e-6 });
    await (await ort.InferenceSession.create(probe, { executionProviders: ['cpu'] })).release();
  } catch (e) {
    skipReason = `this onnxruntime-node CPU build has no SkipSimplifiedLayerNormalization: ${String(e).slice(0, 160)}`;
  }
}

const SHAPES: Array<[number, number]> = [[4, 3], [3, 64], [17, 768], [2, 4097]];
const EPS = [1e-6, 1e-2];
const sessions: Ort.InferenceSession[] = [];

async function runOrt(rows: number, cols: number, gamma: Float32Array | Uint16Array, eps: number, x: Float32Array | Uint16Array, r: Float32Array | Uint16Array) {
  const f16 = gamma instanceof Uint16Array;
  const session = await ort!.InferenceSession.create(buildSkipSimplifiedModel({ cols, gamma, eps, float16: f16 }), {
    executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1,
  });
  sessions.push(session);
  const type = f16 ? 'float16' : 'float32';
  const out = await session.run({
    input: new ort!.Tensor(type, x, [1, rows, cols]),
    skip: new ort!.Tensor(type, r, [1, rows, cols]),
  });
  return { y: out.output.data as Float32Array | Uint16Array, sum: out.input_skip_bias_sum.data as Float32Array | Uint16Array };
}

describe('addRmsNorm vs ONNX Runtime SkipSimplifiedLayerNormalization', { skip: skipReason }, () => {
  before(() => assert.ok(ort !== null));
  after(async () => {
    for (const s of sessions) await s.release();
  });

  it('float32: output and input_skip_bias_sum agree (sum bit-exact, y within the f32 tolerance table)', async () => {
    let worstOursVsOrt = 0;
    let worstOrtVsRef = 0;
    for (const [rows, cols] of SHAPES) {
      for (const eps of EPS) {
        const rand = mulberry32(hashSeed(`ort f32 ${rows}x${cols} ${eps}`));
        const x = randomNormal(rand, rows * cols);
        const r = randomNormal(rand, rows * cols, 0, 3);
        const gamma = randomNormal(rand, cols, 1, 0.2);
        const theirs = await runOrt(rows, cols, gamma, eps, x, r);
        const ref = reference.addRmsNormRef(x, r, cols, { gamma, eps });
        // ORT's own error against the float64 reference (it computes in f32): its y is held to the wasm bound
        worstOrtVsRef = Math.max(worstOrtVsRef, checkClose(`ORT y ${rows}x${cols}`, theirs.y, ref.y, 'float32', storageTolerance('wasm', 'rmsNorm', 'forward', 'float32'), cols));
        for (const { backend, missing } of backendsFor('addRmsNorm')) {
          if (missing) continue;
          const name = `${backend} ${rows}x${cols} eps=${eps}`;
          const ours = addRmsNorm(x, r, cols, { gamma, eps, backend });
          assert.deepEqual(ours.sum, theirs.sum, `${name}: sum = input_skip_bias_sum bit for bit`);
          // ours vs ORT: both within their tolerance of the reference, so within the sum of the two bounds
          const tb = toleranceBackend(backend, 'addRmsNorm');
          const own = storageTolerance(tb, 'rmsNorm', 'forward', 'float32');
          const peer = storageTolerance('wasm', 'rmsNorm', 'forward', 'float32');
          const both = { atol: own.atol + peer.atol, rtol: own.rtol + peer.rtol };
          worstOursVsOrt = Math.max(worstOursVsOrt, checkClose(`${name} y vs ORT output`, ours.y, values(theirs.y, 'float32'), 'float32', both, cols));
          checkClose(`${name} y vs reference`, ours.y, ref.y, 'float32', own, cols);
        }
      }
    }
    console.log(`# float32: worst |ours − ORT| = ${worstOursVsOrt.toFixed(3)} of the bound; ORT vs float64 reference ${worstOrtVsRef.toFixed(3)} of the wasm bound`);
  });

  it('float16: both outputs within one binary16 ulp of ORT (and ours within storageTolerance of the reference)', async () => {
    let maxUlpsY = 0;
    let maxUlpsSum = 0;
    let exactY = 1;
    let ortVsRef = { maxUlps: 0, exactShare: 1 };
    for (const [rows, cols] of SHAPES) {
      const rand = mulberry32(hashSeed(`ort f16 ${rows}x${cols}`));
      const x = encode(randomNormal(rand, rows * cols), 'float16') as Uint16Array;
      const r = encode(randomNormal(rand, rows * cols, 0, 3), 'float16') as Uint16Array;
      // ORT's op has one type parameter: gamma is float16 too; ours takes the same (exactly representable) values
      const gamma16 = encode(randomNormal(rand, cols, 1, 0.2), 'float16') as Uint16Array;
      const gamma = Float32Array.from(values(gamma16, 'float16'));
      const theirs = await runOrt(rows, cols, gamma16, 1e-6, x, r);
      const ref = reference.addRmsNormRef(values(x, 'float16'), values(r, 'float16'), cols, { gamma, dtype: 'float16' });
      const o = ulpStats(theirs.y as Uint16Array, ref.y, 'float16');
      ortVsRef = { maxUlps: Math.max(ortVsRef.maxUlps, o.maxUlps), exactShare: Math.min(ortVsRef.exactShare, o.exactShare) };
      for (const { backend, missing } of backendsFor('addRmsNorm16')) {
        if (missing) continue;
        const ours = addRmsNorm(x, r, cols, { gamma, dtype: 'float16', backend });
        const tb = toleranceBackend(backend, 'addRmsNorm16');
        checkClose(`${backend} f16 y vs reference`, ours.y, ref.y, 'float16', storageTolerance(tb, 'rmsNorm', 'forward', 'float16'), cols);
        const theirY = values(theirs.y, 'float16');
        const sy = ulpStats(ours.y, theirY, 'float16');
        const ss = ulpStats(ours.sum, values(theirs.sum, 'float16'), 'float16');
        maxUlpsY = Math.max(maxUlpsY, sy.maxUlps);
        maxUlpsSum = Math.max(maxUlpsSum, ss.maxUlps);
        exactY = Math.min(exactY, sy.exactShare);
      }
    }
    assert.ok(maxUlpsSum <= 1, `sum: ${maxUlpsSum} ulp from ORT`);
    assert.ok(maxUlpsY <= 1, `y: ${maxUlpsY} ulp from ORT`);
    console.log(`# float16 vs ORT: sum max ${maxUlpsSum} ulp, y max ${maxUlpsY} ulp (≥ ${(100 * exactY).toFixed(1)}% identical); ORT vs the correctly rounded reference: max ${ortVsRef.maxUlps} ulp (≥ ${(100 * ortVsRef.exactShare).toFixed(1)}% exact)`);
  });
});
