// Type-level tests of the public API. Never run: the root typecheck (`npx tsc -p tsconfig.json --noEmit`) compiles
// this file, where every line must compile except those under `@ts-expect-error`, which must fail to (an unused
// `@ts-expect-error` is itself an error, so a type that became too loose fails the typecheck).
import {
  addRmsNorm, addRmsNormBackward, l2Norm, l2NormBackward, layerNorm, layerNormBackward, rmsNorm, rmsNormBackward,
  type AddRmsNormOptions, type L2NormOptions, type LayerNormOptions, type RmsNormOptions,
} from '../src/index.js';

declare const x: Float32Array;
declare const dy: Float32Array;
declare const gamma: Float32Array;
declare const beta: Float32Array;
declare const x16: Uint16Array;

// The forward options object serves the backward unchanged, whether inferred or declared with the forward type.
const o = { gamma, eps: 1e-5 };
const f = rmsNorm(x, 4, o);
const grads = rmsNormBackward(dy, x, f.rstd, 4, o);
const typed: RmsNormOptions = { gamma, eps: 1e-5, out: { y: new Float32Array(8), rstd: new Float32Array(2) } };
rmsNormBackward(dy, x, rmsNorm(x, 4, typed).rstd, 4, typed);
const lnTyped: LayerNormOptions = { gamma, beta, out: { mean: new Float32Array(2) } };
const ln = layerNorm(x, 4, lnTyped);
layerNormBackward(dy, x, ln.mean, ln.rstd, 4, lnTyped);
const l2Typed: L2NormOptions = { gammaOffset: 1, gamma };
l2NormBackward(dy, x, l2Norm(x, 4, l2Typed).rstd, 4, l2Typed);
const addTyped: AddRmsNormOptions = { gamma, out: { sum: x } };
const a = addRmsNorm(dy, x, 4, addTyped);
addRmsNormBackward(dy, null, a.sum, a.rstd, 4, addTyped);

// dgamma / dbeta are non-null exactly when gamma / beta are given.
const dgamma: Float32Array = grads.dgamma;
const both = layerNormBackward(dy, x, ln.mean, ln.rstd, 4, { gamma, beta });
const lnDgamma: Float32Array = both.dgamma;
const lnDbeta: Float32Array = both.dbeta;
const onlyBeta = rmsNormBackward(dy, x, f.rstd, 4, { beta });
const rmsDbeta: Float32Array = onlyBeta.dbeta;
// @ts-expect-error without gamma, dgamma may be null
const noGamma: Float32Array = onlyBeta.dgamma;
// @ts-expect-error no options: both may be null
const bare: Float32Array = l2NormBackward(dy, x, f.rstd, 4).dgamma;
// @ts-expect-error gamma declared optional (RmsNormOptions): dgamma may be null
const maybe: Float32Array = rmsNormBackward(dy, x, f.rstd, 4, typed).dgamma;
const addDgamma: Float32Array = addRmsNormBackward(dy, dy, a.sum, a.rstd, 4, { gamma }).dgamma;

// 16-bit storage: dx keeps the storage type, parameter gradients stay Float32Array.
const h = rmsNorm(x16, 4, { gamma, dtype: 'float16' });
const g16 = rmsNormBackward(x16, x16, h.rstd, 4, { gamma, dtype: 'float16' });
const dx16: Uint16Array = g16.dx;
const dgamma16: Float32Array = g16.dgamma;

// Misspelt options and outputs of the wrong pass are still compile errors.
// @ts-expect-error `epsilon` is the Keras name; the core option is `eps`
rmsNormBackward(dy, x, f.rstd, 4, { gamma, epsilon: 1e-5 });
// @ts-expect-error the forward has no dx output
rmsNorm(x, 4, { out: { dx: new Float32Array(8) } });
// @ts-expect-error LayerNorm has no pRMSNorm fraction
layerNormBackward(dy, x, ln.mean, ln.rstd, 4, { p: 0.5 });

export const used = [dgamma, lnDgamma, lnDbeta, rmsDbeta, noGamma, bare, maybe, addDgamma, dx16, dgamma16];
