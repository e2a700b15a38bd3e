// The norm kernels built on an imported shared memory, so worker threads can run parts of a job on the same data
// (Node, and cross-origin-isolated browsers). Kernels: _norm-kernels.ts.
export { runJob, reduceParams, heapBase } from './_norm-kernels';
