// Fashion-MNIST subset shipped in data/fashion-mnist/ (6,000 train / 1,000 test, class-balanced; MIT licence):
// images as normalised Float32Array [N, 28, 28, 1] (NHWC, what tf.conv2d expects) and integer labels.

import { readDataFile, parseIdx } from './files.js';
import { permutation, type RandomSource } from 'rmsnorm/internal';

export const FASHION_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;

export interface ImageSet {
  /** [n, height, width, channels] row-major, normalised (see loadFashionMnist). */
  x: Float32Array;
  /** [n] class ids 0..9 */
  y: Int32Array;
  n: number;
  height: number;
  width: number;
  channels: number;
}

export interface FashionMnist {
  train: ImageSet;
  test: ImageSet;
  classes: readonly string[];
  /** Pixel mean and std (of the training images, in [0, 1] units) used by 'standard' normalisation. */
  mean: number;
  std: number;
  source: string;
}

function readSplit(prefix: 'train' | 't10k'): { pixels: Uint8Array; labels: Uint8Array; n: number; h: number; w: number } {
  const images = parseIdx(readDataFile(`fashion-mnist/${prefix}-images-idx3-ubyte.gz`));
  const labels = parseIdx(readDataFile(`fashion-mnist/${prefix}-labels-idx1-ubyte.gz`));
  const [n, h, w] = images.shape as [number, number, number];
  if (labels.shape[0] !== n) throw new RangeError(`fashion-mnist ${prefix}: ${n} images but ${labels.shape[0]} labels`);
  return { pixels: images.data, labels: labels.data, n, h, w };
}

/**
 * Load the shipped Fashion-MNIST subset. normalize 'unit': x = p/255 ∈ [0, 1]; 'standard' (default):
 * x = (p/255 − mean)/std with the training set's mean/std. Optional limits take the first N (still mixed classes:
 * the files are in class-balanced file order).
 * @example
 * const { train, test } = loadFashionMnist(); train.x.length === train.n * 28 * 28;
 */
export function loadFashionMnist(options: { normalize?: 'unit' | 'standard'; trainLimit?: number; testLimit?: number } = {}): FashionMnist {
  const tr = readSplit('train');
  const te = readSplit('t10k');
  let sum = 0;
  let sumSq = 0;
  for (const p of tr.pixels) {
    const v = p / 255;
    sum += v;
    sumSq += v * v;
  }
  const mean = sum / tr.pixels.length;
  const std = Math.sqrt(sumSq / tr.pixels.length - mean * mean);
  const standard = (options.normalize ?? 'standard') === 'standard';
  const toSet = (s: typeof tr, limit: number | undefined): ImageSet => {
    const n = Math.min(s.n, limit ?? s.n);
    const px = s.h * s.w;
    const x = new Float32Array(n * px);
    for (let i = 0; i < n * px; i++) {
      const v = (s.pixels[i] as number) / 255;
      x[i] = standard ? (v - mean) / std : v;
    }
    return { x, y: Int32Array.from(s.labels.subarray(0, n)), n, height: s.h, width: s.w, channels: 1 };
  };
  return {
    train: toSet(tr, options.trainLimit),
    test: toSet(te, options.testLimit),
    classes: FASHION_CLASSES,
    mean,
    std,
    source: 'Fashion-MNIST subset (Debian dataset-fashion-mnist 0.0~git20200523.55506a9-1; Zalando SE, MIT)',
  };
}

/** Copy the given examples into one batch: x [B, H, W, C], y [B]. */
export function imageBatch(set: ImageSet, indices: readonly number[]): { x: Float32Array; y: Int32Array; batch: number } {
  const size = set.height * set.width * set.channels;
  const x = new Float32Array(indices.length * size);
  const y = new Int32Array(indices.length);
  indices.forEach((i, b) => {
    if (!(i >= 0 && i < set.n)) throw new RangeError(`indices: ${i} is outside 0..${set.n - 1}`);
    x.set(set.x.subarray(i * size, (i + 1) * size), b * size);
    y[b] = set.y[i] as number;
  });
  return { x, y, batch: indices.length };
}

/**
 * Endless seeded training batches (a fresh permutation each epoch).
 * @example
 * const it = imageBatches(data.train, 32, createRng(1)); const { x, y } = it.next().value;
 */
export function* imageBatches(set: ImageSet, batch: number, rng: RandomSource): Generator<{ x: Float32Array; y: Int32Array; batch: number }, never> {
  if (set.n < batch) throw new RangeError(`batch: ${batch} exceeds the ${set.n} examples available`);
  for (;;) {
    const order = permutation(set.n, rng);
    for (let i = 0; i + batch <= set.n; i += batch) yield imageBatch(set, order.slice(i, i + batch));
  }
}
