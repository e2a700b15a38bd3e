// The fused norm ops the models use: helper D's TensorFlow.js plug-in (src/tfjs), one implementation for the project.
import { layerNorm, l2Norm, rmsNorm } from 'rmsnorm/tfjs';

export const normOps = { rmsNorm, layerNorm, l2Norm };
