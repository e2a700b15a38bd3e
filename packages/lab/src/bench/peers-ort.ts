// ONNX Runtime (onnxruntime-node, CPU execution provider, 1 intra-op thread, no spinning) peers: RMSNormalization-23
// and LayerNormalization-17, forward only (the npm build ships no training ops). Timed end to end: Float32Array in,
// Float32Array out (the Node binding allocates the output on every call).
import type * as Ort from 'onnxruntime-node';
import { buildNormModel } from './onnx-model.js';
import type { BenchCase } from './runner.js';
import type { ShapeData } from './shape-data.js';
import { opBytes, type OpName } from './stats.js';

type OrtModule = typeof Ort;

export async function loadOrt(): Promise<OrtModule> {
  return await import('onnxruntime-node');
}

/** Session options for a fair single-thread peer: one intra-op thread, no busy-waiting threads. */
export const ORT_SESSION_OPTIONS: Ort.InferenceSession.SessionOptions = {
  executionProviders: ['cpu'],
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
};

/** ORT cases of one shape for the ops it has (RMSNorm, LayerNorm); `dispose` releases the sessions. */
export async function ortCases(ort: OrtModule, d: ShapeData, ops: OpName[]): Promise<{ cases: BenchCase[]; dispose(): Promise<void> }> {
  const { rows, cols, sets } = d;
  const cases: BenchCase[] = [];
  const sessions: Ort.InferenceSession[] = [];
  let sink = 0;
  for (const op of ops) {
    if (op === 'pRmsNorm') continue; // no partial RMS in ONNX
    const ln = op === 'layerNorm';
    const model = buildNormModel({
      op: ln ? 'LayerNormalization' : 'RMSNormalization', cols, gamma: d.gamma, beta: ln ? d.beta : undefined, eps: 1e-6,
    });
    const session = await ort.InferenceSession.create(model, ORT_SESSION_OPTIONS);
    sessions.push(session);
    const xs = d.x.slice(0, sets);
    cases.push({
      op, direction: 'forward', impl: ln ? 'ort-LayerNormalization-17' : 'ort-RMSNormalization-23', backend: 'ort-cpu',
      threads: 1, rows, cols, p: ln ? null : 1, bytes: opBytes(op, 'forward', rows, cols),
      call: async (i) => {
        const out = await session.run({ X: new ort.Tensor('float32', xs[i % sets], [rows, cols]) });
        const y = out.Y.data as Float32Array;
        sink += y[y.length - 1];
      },
    });
  }
  return {
    cases,
    dispose: async () => {
      for (const s of sessions) await s.release();
      if (sink === Infinity) console.log('');
    },
  };
}
