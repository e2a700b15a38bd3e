// The backward outputs every op family returns (dx, and dgamma/dbeta when gamma/beta were given): caller-provided
// ones are checked for size and aliasing, missing ones allocated. Shared by ops/rms-norm.ts and ops/layer-norm.ts.
import type { Dtype, Storage } from '../backends/backend.js';
import type { BackwardResult } from '../types.js';
import { aliasAdd, aliasBegin, aliasCheck, describe, outputBuffer, outputStorage } from './validate.js';

/**
 * dx has x.length values and may be dy itself (in place); dgamma/dbeta have cols values. Only caller-provided
 * outputs are alias-checked (fresh ones cannot overlap anything). `mean` is null for the RMS family. `perChannel`:
 * the channels-last layout, where dgamma/dbeta have `cols` = options.channels values.
 */
export function backwardOutputs(
  out: Record<string, unknown>,
  dy: Storage,
  x: Storage,
  mean: Float32Array | null,
  rstd: Float32Array,
  gamma: Float32Array | null,
  beta: Float32Array | null,
  cols: number,
  dtype: Dtype = 'float32',
  perChannel = false,
): BackwardResult<Storage> {
  const givenDx = out.dx;
  const givenDgamma = out.dgamma;
  const givenDbeta = out.dbeta;
  // Without a gain (bias) there is no dgamma (dbeta): a buffer given for it would silently stay untouched.
  if (gamma === null && givenDgamma !== undefined) {
    throw new RangeError(`options.out.dgamma (${describe(givenDgamma)}) needs options.gamma: without a gain there is no dgamma`);
  }
  if (beta === null && givenDbeta !== undefined) {
    throw new RangeError(`options.out.dbeta (${describe(givenDbeta)}) needs options.beta: without a bias there is no dbeta`);
  }
  const dx = outputStorage('options.out.dx', givenDx, x.length, 'x.length', dtype);
  const what = perChannel ? 'options.channels' : 'cols';
  const dgamma = gamma === null ? null : outputBuffer('options.out.dgamma', givenDgamma, cols, what);
  const dbeta = beta === null ? null : outputBuffer('options.out.dbeta', givenDbeta, cols, what);
  if (givenDx !== undefined || givenDgamma !== undefined || givenDbeta !== undefined) {
    aliasBegin();
    aliasAdd('dy', dy);
    aliasAdd('x', x);
    aliasAdd('mean', mean);
    aliasAdd('rstd', rstd);
    aliasAdd('options.gamma', gamma);
    aliasAdd('options.beta', beta);
    aliasAdd('options.out.dx', givenDx === undefined ? null : dx);
    aliasAdd('options.out.dgamma', givenDgamma === undefined ? null : dgamma);
    aliasAdd('options.out.dbeta', givenDbeta === undefined ? null : dbeta);
    aliasCheck(6, true);
  }
  return { dx, dgamma, dbeta };
}
