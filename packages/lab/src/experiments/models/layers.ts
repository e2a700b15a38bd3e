// Small building blocks shared by the models: embedding lookup, dense layer, masked cross-entropy.
import * as tf from '@tensorflow/tfjs';

/**
 * Embedding lookup table[ids] → [...ids.shape, dim]. Uses tf.gather when the backend has its gradient kernel
 * (UnsortedSegmentSum; stock tfjs wasm lacks it until rmsnorm/tfjs registers one), else an exact one-hot matmul.
 * @example const e = embed(table, ids); // table [V, E], ids int32 [B, T] → [B, T, E]
 */
export function embed(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  const [vocab, dim] = table.shape;
  const flat = ids.reshape([-1]) as tf.Tensor1D;
  const rows = hasKernel('UnsortedSegmentSum') ? tf.gather(table, flat) : tf.oneHot(flat, vocab).toFloat().matMul(table);
  return rows.reshape([...ids.shape, dim]);
}

function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/** y = x W + b over the last axis (x of any rank ≥ 2). */
export function dense(x: tf.Tensor, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor {
  const shape = x.shape;
  let y = x.reshape([-1, shape[shape.length - 1]]).matMul(w);
  if (b) y = y.add(b);
  return y.reshape([...shape.slice(0, -1), w.shape[1]]);
}

/**
 * Mean softmax cross-entropy (nats) of logits [N, V] against integer labels [N]; `weights` [N] (0/1 mask) averages
 * over the unmasked positions only.
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, weights?: tf.Tensor1D): tf.Scalar {
  const onehot = tf.oneHot(labels, logits.shape[1]);
  if (!weights) return tf.losses.softmaxCrossEntropy(onehot, logits) as tf.Scalar;
  return tf.losses.softmaxCrossEntropy(onehot, logits, weights, 0, tf.Reduction.SUM_BY_NONZERO_WEIGHTS) as tf.Scalar;
}
