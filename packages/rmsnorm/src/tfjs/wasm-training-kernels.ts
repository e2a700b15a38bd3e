// Opt-in training kernels that stock @tensorflow/tfjs-backend-wasm 4.22 lacks: UnsortedSegmentSum (the gradient of
// gather, i.e. embeddings) and Conv2DBackpropFilter (conv nets). Checked against the cpu backend in the tests.
import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object): boolean;
}

type KernelArgs = { inputs: unknown; attrs?: NamedAttrMap; backend: unknown };

function size(shape: readonly number[]): number {
  return shape.reduce((p, q) => p * q, 1);
}

/**
 * UnsortedSegmentSum: out[s, …] = Σ_{i: ids[i] = s} x[i, …], ids outside [0, numSegments) dropped (as TF does).
 * x [rows, …inner] (ids cover the leading ids.rank axes), out [numSegments, …inner]. Plain loop on the wasm heap.
 */
function unsortedSegmentSum({ inputs, attrs, backend }: KernelArgs): TensorInfo {
  const b = backend as WasmBackendLike;
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const numSegments = (attrs as { numSegments: number }).numSegments;
  const innerShape = x.shape.slice(segmentIds.shape.length);
  const inner = size(innerShape);
  const rows = size(segmentIds.shape);
  const out = b.makeOutput([numSegments, ...innerShape], x.dtype);
  const xs = b.typedArrayFromHeap(x); // views after makeOutput: an allocation may grow (detach) the heap
  const ids = b.typedArrayFromHeap(segmentIds);
  const ys = b.typedArrayFromHeap(out);
  ys.fill(0);
  for (let i = 0; i < rows; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) ys[dst + j] += xs[src + j];
  }
  return out;
}

type Conv2DInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

/**
 * im2col, transposed: p[k, j] = x[b, oh·sh + kh − top, ow·sw + kw − left, ci] (0 in the padding) for the filter tap
 * k = (kh·filterWidth + kw)·inChannels + ci and the output position j = (b·outHeight + oh)·outWidth + ow — the
 * [kh·kw·cin, N] operand of dW = p · dy. Written in order; x is read at stride inChannels (it stays in cache).
 */
function im2colTransposed(x: Float32Array, p: Float32Array, info: Conv2DInfo): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth } = info;
  const { strideHeight, strideWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  let j = 0;
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let kw = 0; kw < filterWidth; kw++) {
      for (let ci = 0; ci < inChannels; ci++) {
        for (let b = 0; b < batchSize; b++) {
          for (let oh = 0; oh < outHeight; oh++) {
            const ih = oh * strideHeight + kh - top;
            if (ih < 0 || ih >= inHeight) {
              p.fill(0, j, j + outWidth);
              j += outWidth;
              continue;
            }
            const base = (b * inHeight + ih) * inWidth * inChannels + ci;
            for (let ow = 0; ow < outWidth; ow++) {
              const iw = ow * strideWidth + kw - left;
              p[j++] = iw >= 0 && iw < inWidth ? x[base + iw * inChannels] : 0;
            }
          }
        }
      }
    }
  }
}

/**
 * Conv2DBackpropFilter (NHWC): dW[kh, kw, cin, cout] = Σ_{b,oh,ow} x_pad[b, oh·sh + kh, ow·sw + kw, cin] · dy[b, oh, ow, cout],
 * as im2col + one XNNPACK matmul without transposes: the patches written transposed ([kh·kw·cin, N], a plain loop on
 * the heap), then patches · dy. (Built from tfjs's PadV2 + kh·kw StridedSlices + Concat and a transposeA matmul it
 * took 20 ms for a 3×3 filter on [32, 28, 28, 1] — 70 % of a small CNN's training step — against ≈ 1 ms now.)
 */
function conv2DBackpropFilter({ inputs, attrs, backend }: KernelArgs): TensorInfo {
  const b = backend as WasmBackendLike;
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as {
    strides: number | [number, number]; pad: 'valid' | 'same' | number; dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil'; filterShape: [number, number, number, number];
  };
  if (a.dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter (rmsnorm wasm kernel): NCHW is not supported, use NHWC');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], a.filterShape, a.strides, 1, a.pad as never, a.dimRoundingMode, false, 'channelsLast',
  );
  const { batchSize, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  const run = (name: string, ins: unknown, at: object): TensorInfo =>
    tf.getKernel(name, 'wasm')!.kernelFunc({ inputs: ins as never, attrs: at as never, backend: backend as never }) as TensorInfo;
  const temps: TensorInfo[] = [];
  const keep = (t: TensorInfo) => { temps.push(t); return t; };
  try {
    const taps = filterHeight * filterWidth * inChannels;
    const n = batchSize * outHeight * outWidth;
    const patches = keep(b.makeOutput([1, taps, n], 'float32'));
    // Views after the allocation (it may grow, and so detach, the heap).
    if (taps * n > 0) im2colTransposed(b.typedArrayFromHeap(x) as Float32Array, b.typedArrayFromHeap(patches) as Float32Array, info);
    const dy3 = keep(run('Reshape', { x: dy }, { shape: [1, n, outChannels] }));
    const m = keep(run('BatchMatMul', { a: patches, b: dy3 }, { transposeA: false, transposeB: false }));
    return run('Reshape', { x: m }, { shape: [filterHeight, filterWidth, inChannels, outChannels] });
  } finally {
    for (const t of temps) b.disposeData(t.dataId);
  }
}

let registered = false;

/**
 * Register the training kernels stock tfjs-backend-wasm lacks (UnsortedSegmentSum → embeddings/gather gradients,
 * Conv2DBackpropFilter → conv nets), for the 'wasm' backend. Idempotent; kernels tfjs already has are left alone.
 * Returns the names registered now.
 *
 * @example
 * registerWasmTrainingKernels();
 * await initTfjsWasm(); // now tf.layers.embedding and tf.layers.conv2d train on wasm
 */
export function registerWasmTrainingKernels(): string[] {
  if (registered) return [];
  registered = true;
  const added: string[] = [];
  const kernels: Array<[string, tf.KernelFunc]> = [
    ['UnsortedSegmentSum', unsortedSegmentSum as never],
    ['Conv2DBackpropFilter', conv2DBackpropFilter as never],
  ];
  for (const [kernelName, kernelFunc] of kernels) {
    if (tf.getKernel(kernelName, 'wasm') === undefined) {
      tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
      added.push(kernelName);
    }
  }
  return added;
}
