// The norm kernels built on a private (non-shared) imported memory: for browsers that are not cross-origin isolated
// (no SharedArrayBuffer), where worker threads are impossible anyway. Kernels: _norm-kernels.ts.
export { runJob, reduceParams, heapBase } from './_norm-kernels';
