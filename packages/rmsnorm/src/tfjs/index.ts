// `rmsnorm/tfjs`: the TensorFlow.js plug-in. Importing it registers our kernels (cpu, wasm), their gradients and the
// serializable layer/cell classes. See docs/tfjs.md. No Node built-ins here (it bundles
// for browsers); the Node-only helpers (initTfjsWasm, file:// model IO) are in `rmsnorm/tfjs/node`.
export { rmsNorm, l2Norm, layerNorm, normalizeAxes, type TfRmsNormOptions, type TfL2NormOptions, type TfLayerNormOptions } from './ops.js';
export { addRmsNorm, ADD_RMS_NORM, ADD_RMS_NORM_GRAD, type TfAddRmsNormOptions } from './add-rms-norm.js';
export { setTfjsCoreBackend, RMS_FAMILY, RMS_FAMILY_GRAD, LAYER_NORM, LAYER_NORM_GRAD } from './kernels.js';
export { rmsNormComposite, layerNormComposite, type CompositeRmsSettings } from './composite.js';
export {
  RMSNormalization, rmsNormalization, FusedLayerNormalization, fusedLayerNormalization, useFusedLayerNormalizationOnLoad,
  type RMSNormalizationArgs, type FusedLayerNormalizationArgs,
} from './layers.js';
export {
  NormalizedGRUCell, NormalizedLSTMCell, normalizedGruCell, normalizedLstmCell, createCellWeights, BlockOrthogonal,
  type NormalizedCellArgs,
} from './cells.js';
export {
  cellNormSettings, gruStep, gruStepProjected, gruProjectInputs, lstmStep, lstmStepProjected, lstmProjectInputs,
  type CellNorm, type CellNormSettings, type GruWeights, type LstmWeights,
} from './rnn-steps.js';
export { registerWasmTrainingKernels } from './wasm-training-kernels.js';
export { registerWebGpuKernels } from './webgpu/index.js';
