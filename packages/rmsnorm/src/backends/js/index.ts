// The portable backend: plain TypeScript over Float32Array (and Uint16Array 16-bit storage), always available; it
// defines every kernel of the Backend interface, optional ones included.
import { registerBackend, type Backend } from '../backend.js';
import { addRmsNorm, addRmsNorm16, addRmsNormBackward, addRmsNormBackward16 } from './add-rms-norm.js';
import { layerNormChannels, layerNormChannelsBackward } from './layer-norm-channels.js';
import { layerNorm, layerNorm16, layerNormBackward, layerNormBackward16 } from './layer-norm.js';
import { rmsNormChannels, rmsNormChannelsBackward } from './rms-norm-channels.js';
import { rmsNorm, rmsNorm16, rmsNormBackward, rmsNormBackward16 } from './rms-norm.js';

export const jsBackend: Backend = {
  name: 'js',
  isAvailable: () => true,
  rmsNorm,
  rmsNormBackward,
  layerNorm,
  layerNormBackward,
  addRmsNorm,
  addRmsNormBackward,
  rmsNorm16,
  rmsNormBackward16,
  layerNorm16,
  layerNormBackward16,
  addRmsNorm16,
  addRmsNormBackward16,
  rmsNormChannels,
  rmsNormChannelsBackward,
  layerNormChannels,
  layerNormChannelsBackward,
};

registerBackend(jsBackend);
