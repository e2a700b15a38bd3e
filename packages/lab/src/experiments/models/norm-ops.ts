// The fused norm ops the models use: the library's TensorFlow.js plug-in (rmsnorm/tfjs), one implementation for the project.
import { layerNorm, l2Norm, rmsNorm } from 'rmsnorm/tfjs';

export const normOps = { rmsNorm, layerNorm, l2Norm };
