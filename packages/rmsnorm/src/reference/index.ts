// The float64 oracle: one implementation per op family. Exported as `rmsnorm`'s `reference` namespace.
export { partialK } from './partial-k.js';
export { rmsNormRef, rmsNormBackwardRef, type RmsNormRefOptions, type RefForward, type RefBackward } from './rms-norm.js';
export { layerNormRef, layerNormBackwardRef, type LayerNormRefOptions } from './layer-norm.js';
export { l2NormRef, l2NormBackwardRef, type L2NormRefOptions } from './l2-norm.js';
export {
  addRmsNormRef, addRmsNormBackwardRef, type AddRmsNormRefOptions, type AddRmsNormRefForward,
} from './add-rms-norm.js';
export { halfToNumber, numberToHalf, roundToDtype, decodeArray, encodeArray } from './half.js';
