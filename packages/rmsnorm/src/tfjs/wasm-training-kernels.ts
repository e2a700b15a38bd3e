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

/**
 * Conv2DBackpropFilter (NHWC): dW[kh, kw, cin, cout] = Σ_{b,oh,ow} x_pad[b, oh·sh + kh, ow·sw + kw, cin] · dy[b, oh, ow, cout],
 * built from the wasm backend's own kernels as im2col + one XNNPACK matmul: pad, kh·kw strided slices concatenated
 * on the channel axis ([N, kh·kw·cin]), then patchesᵀ · dy.
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
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const run = (name: string, ins: unknown, at: object): TensorInfo =>
    tf.getKernel(name, 'wasm')!.kernelFunc({ inputs: ins as never, attrs: at as never, backend: backend as never }) as TensorInfo;
  const temps: TensorInfo[] = [];
  const keep = (t: TensorInfo) => { temps.push(t); return t; };
  try {
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    // Pad enough for every window the output positions touch (bottom/right may need less than padInfo says).
    const needH = (outHeight - 1) * strideHeight + filterHeight;
    const needW = (outWidth - 1) * strideWidth + filterWidth;
    const bottom = Math.max(0, needH - inHeight - top);
    const right = Math.max(0, needW - inWidth - left);
    const xp = top + bottom + left + right === 0 ? x
      : keep(run('PadV2', { x }, { paddings: [[0, 0], [top, bottom], [left, right], [0, 0]], constantValue: 0 }));
    const patches: TensorInfo[] = [];
    for (let kh = 0; kh < filterHeight; kh++) {
      for (let kw = 0; kw < filterWidth; kw++) {
        patches.push(keep(run('StridedSlice', { x: xp }, {
          begin: [0, kh, kw, 0],
          end: [batchSize, kh + (outHeight - 1) * strideHeight + 1, kw + (outWidth - 1) * strideWidth + 1, inChannels],
          strides: [1, strideHeight, strideWidth, 1],
          beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
        })));
      }
    }
    const n = batchSize * outHeight * outWidth;
    const cols = patches.length === 1 ? patches[0] : keep(run('Concat', patches, { axis: 3 }));
    const a3 = keep(run('Reshape', { x: cols }, { shape: [1, n, filterHeight * filterWidth * inChannels] }));
    const b3 = keep(run('Reshape', { x: dy }, { shape: [1, n, outChannels] }));
    const m = keep(run('BatchMatMul', { a: a3, b: b3 }, { transposeA: true, transposeB: false }));
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
