// The portable backend: plain TypeScript over Float32Array, always available.
import { registerBackend, type Backend } from '../backend.js';
import { layerNorm, layerNormBackward } from './layer-norm.js';
import { rmsNorm, rmsNormBackward } from './rms-norm.js';

export const jsBackend: Backend = {
  name: 'js',
  isAvailable: () => true,
  rmsNorm,
  rmsNormBackward,
  layerNorm,
  layerNormBackward,
};

registerBackend(jsBackend);
