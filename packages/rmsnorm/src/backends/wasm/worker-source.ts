// Source of a pool worker, kept as a string so it runs from any file layout (tsx, dist, bundles): Node evaluates it
// with `new Worker(src, { eval: true })`, browsers from a Blob URL. It instantiates the same compiled module on the
// same shared memory and claims parts of each job announced through an Int32Array control block.

/**
 * Control block slots (Int32 indices). SEQ, which idle workers poll, sits alone on the first cache line, so the
 * caller's writes to the other slots never bounce that line between cores.
 */
export const CTL_SEQ = 0; // bumped by the calling thread to announce a job
export const CTL_QUIT = 1; // non-zero: leave the loop
export const CTL_SLEEPERS = 2; // workers sleeping in Atomics.wait (the caller notifies only when > 0)
export const CTL_DONE = 16; // parts of the current job finished
export const CTL_PARTS = 17; // parts of the current job
export const CTL_ARGS = 18; // byte address of the job's argument block
export const CTL_STATE = 32; // one slot per part: 0 = free, 1 = claimed (compare-exchange)
export const MAX_PARTS = 64;
export const CTL_INTS = CTL_STATE + MAX_PARTS;

/**
 * Claim and run every still-free part, starting at `first` (each thread starts at its own index, then steals the
 * rest). Shared by the workers (inlined into WORKER_SOURCE) and the calling thread (threads.ts), so a descheduled
 * worker never stalls a job: whoever is running takes its part.
 */
export function claimParts(ctl: Int32Array, first: number, runJob: (args: number, part: number, parts: number) => void): void {
  const parts = Atomics.load(ctl, CTL_PARTS);
  for (let i = 0; i < parts; i++) {
    const p = (first + i) % parts;
    if (Atomics.compareExchange(ctl, CTL_STATE + p, 0, 1) === 0) {
      // args and parts are read after the claim: a claim can only succeed once the job's slots are written
      runJob(Atomics.load(ctl, CTL_ARGS), p, Atomics.load(ctl, CTL_PARTS));
      Atomics.add(ctl, CTL_DONE, 1);
      Atomics.notify(ctl, CTL_DONE);
    }
  }
}

export const WORKER_SOURCE = `
'use strict';
const CTL_SEQ = ${CTL_SEQ}, CTL_QUIT = ${CTL_QUIT}, CTL_INTS = ${CTL_INTS}, CTL_SLEEPERS = ${CTL_SLEEPERS};
const CTL_DONE = ${CTL_DONE}, CTL_PARTS = ${CTL_PARTS}, CTL_ARGS = ${CTL_ARGS}, CTL_STATE = ${CTL_STATE};
const claimParts = ${claimParts.toString()};
function start(d, post) {
  const inst = new WebAssembly.Instance(d.module, { env: { memory: d.memory } });
  const runJob = inst.exports.runJob;
  const ctl = new Int32Array(d.memory.buffer, d.ctl, CTL_INTS);
  const spinMs = d.spinMs;
  let seen = Atomics.load(ctl, CTL_SEQ);
  post('ready');
  for (;;) {
    // Spin for spinMs after the last job (a hand-off then costs well under a microsecond), then sleep.
    let spins = 0;
    let since = 0;
    while (Atomics.load(ctl, CTL_SEQ) === seen) {
      if (++spins === 1024) {
        spins = 0;
        const now = performance.now();
        if (since === 0) since = now;
        else if (now - since > spinMs) {
          // announce the sleep first: a caller that bumps SEQ after this sees it and notifies; one that bumped
          // SEQ before makes the wait return at once (sequentially consistent atomics on both sides)
          Atomics.add(ctl, CTL_SLEEPERS, 1);
          Atomics.wait(ctl, CTL_SEQ, seen);
          Atomics.sub(ctl, CTL_SLEEPERS, 1);
          since = 0;
        }
      }
    }
    seen = Atomics.load(ctl, CTL_SEQ);
    if (Atomics.load(ctl, CTL_QUIT) !== 0) break;
    claimParts(ctl, d.index, runJob);
  }
  post('stopped');
}
if (typeof process === 'object' && process.versions && process.versions.node) {
  // CommonJS normally; ESM when the parent runs with --input-type=module (then process.getBuiltinModule, Node ≥ 20.16)
  const wt = typeof require === 'function' ? require('node:worker_threads') : process.getBuiltinModule('node:worker_threads');
  start(wt.workerData, (m) => wt.parentPort.postMessage(m));
} else {
  self.onmessage = (e) => start(e.data, (m) => self.postMessage(m));
}
`;
