// Helpers shared by the task files: norm config from a run spec, seeded index sampling, learning-rate schedules.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from 'rmsnorm/internal';
import type { NormConfig } from '../models/norm.js';
import type { RunSpec } from './task.js';

/** pRMSNorm fraction used by default (paper §5: 6.25% for all experiments except CIFAR). */
export const DEFAULT_P = 0.0625;

export function normConfig(spec: RunSpec, defaultP = DEFAULT_P): NormConfig {
  return { variant: spec.variant, p: spec.p ?? defaultP, eps: 1e-6 };
}

/** `batch` indices drawn uniformly with replacement from [0, n): stateless apart from the run's PRNG (resumable). */
export function sampleIndices(rng: Rng, n: number, batch: number): number[] {
  return Array.from({ length: batch }, () => rng.int(n));
}

/**
 * The Transformer's inverse-square-root schedule (Vaswani et al., used by the paper's Table 4 runs):
 * lr(step) = scale · d^−½ · min(step^−½, step · warmup^−1.5).
 */
export function noamLr(step: number, dModel: number, warmup: number, scale = 1): number {
  return scale * dModel ** -0.5 * Math.min(step ** -0.5, step * warmup ** -1.5);
}

/** Validation loss (nats) and bits per character of a character model over fixed evaluation batches. */
export function charLmMetrics(evalSet: Int32Array[], loss: (ids: Int32Array) => tf.Scalar): { valLoss: number; bpc: number } {
  let total = 0;
  for (const ids of evalSet) total += tf.tidy(() => loss(ids).dataSync()[0]);
  const valLoss = total / evalSet.length;
  return { valLoss, bpc: valLoss / Math.LN2 };
}
