// The memory-bandwidth ceiling measured in the bench process: assembly/ceiling.ts (f32x4 copy and triad loops) on a
// shared WebAssembly.Memory, on the main thread alone or shared with one worker thread (which spins briefly, then
// sleeps, between calls — the same hand-off a threaded kernel pays; both claim chunks of the call, as our pool does).
import { Worker } from 'node:worker_threads';
import { wasmBase64 } from './generated/ceiling.js';
import type { BenchCase } from './runner.js';

export interface CeilingExports {
  copy(src: number, dst: number, n: number): void;
  triad(a: number, b: number, c: number, s: number, n: number): void;
}

// Control block (Int32 slots): 0 generation, 1 op (0 quit, 1 copy, 2 triad), 2..4 addresses, 5 n, 7 scalar,
// 8 next chunk to claim, 9 chunks done, 10 chunk count. Both threads claim chunks of a call from slot 8 — as our thread
// pool does — so a helper that is late (descheduled on a busy machine) costs the call its share, not a wait.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { module, memory, control } = workerData;
const k = new WebAssembly.Instance(module, { env: { memory } }).exports;
const c = new Int32Array(control);
const f = new Float32Array(control);
let seen = 0;
parentPort.postMessage('ready');
for (;;) {
  // Spin ~0.2 ms for back-to-back calls, then sleep, so an idle ceiling worker never competes with other configs.
  let spins = 0;
  let since = performance.now();
  while (Atomics.load(c, 0) === seen) {
    if ((++spins & 1023) === 0 && performance.now() - since > 0.2) { Atomics.wait(c, 0, seen); since = performance.now(); }
  }
  seen = Atomics.load(c, 0);
  if (Atomics.load(c, 1) === 0) break;
  for (;;) {
    const i = Atomics.add(c, 8, 1);
    const chunks = Atomics.load(c, 10);
    if (i >= chunks) break;
    // Parameters are read after the claim: they were written before the claim counter was reset for this call.
    const n = c[5];
    const size = (Math.ceil(n / chunks) + 15) & ~15;
    const from = Math.min(n, i * size);
    const len = Math.min(size, n - from);
    if (len > 0 && c[1] === 1) k.copy((c[2] >>> 0) + 4 * from, (c[3] >>> 0) + 4 * from, len);
    else if (len > 0) k.triad((c[2] >>> 0) + 4 * from, (c[3] >>> 0) + 4 * from, (c[4] >>> 0) + 4 * from, f[7], len);
    Atomics.add(c, 9, 1);
  }
}
`;

const PAGE = 65536;

/** Copy/triad loops at 1 or 2 threads over one shared memory of at least `bytes` bytes. */
export class CeilingLoops {
  readonly memory: WebAssembly.Memory;
  private readonly k: CeilingExports;
  private readonly module: WebAssembly.Module;
  private readonly control = new Int32Array(new SharedArrayBuffer(64));
  private readonly scalar = new Float32Array(this.control.buffer);
  private worker: Worker | null = null;
  private generation = 0;

  constructor(bytes: number) {
    this.module = new WebAssembly.Module(Buffer.from(wasmBase64, 'base64'));
    const pages = Math.max(1, Math.ceil(bytes / PAGE));
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: 65536, shared: true });
    this.k = new WebAssembly.Instance(this.module, { env: { memory: this.memory } }).exports as unknown as CeilingExports;
    new Float32Array(this.memory.buffer).fill(1.5);
  }

  /** Start the helper thread for the 2-thread loops. */
  async startWorker(): Promise<void> {
    if (this.worker !== null) return;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { module: this.module, memory: this.memory, control: this.control.buffer },
    });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    worker.unref();
    this.worker = worker;
  }

  async close(): Promise<void> {
    if (this.worker === null) return;
    this.control[1] = 0;
    Atomics.store(this.control, 0, ++this.generation);
    Atomics.notify(this.control, 0);
    await this.worker.terminate();
    this.worker = null;
  }

  /**
   * Split n floats into chunks that this thread and the worker claim in turn; return when every chunk is done. The
   * worker, spinning between back-to-back calls, takes about half; if it is late, this thread takes the rest.
   */
  private split(op: 1 | 2, a: number, b: number, c: number, s: number, n: number, run: (byteOffset: number, m: number) => void): void {
    const ctl = this.control;
    const chunks = Math.min(16, Math.max(2, Math.floor(n / 4096)));
    const size = (Math.ceil(n / chunks) + 15) & ~15;
    ctl[1] = op;
    ctl[2] = a;
    ctl[3] = b;
    ctl[4] = c;
    ctl[5] = n;
    this.scalar[7] = s;
    Atomics.store(ctl, 9, 0);
    Atomics.store(ctl, 10, chunks);
    Atomics.store(ctl, 8, 0); // opens the call for claims: everything above is visible to a claimer
    Atomics.store(ctl, 0, ++this.generation);
    Atomics.notify(ctl, 0);
    for (;;) {
      const i = Atomics.add(ctl, 8, 1);
      if (i >= chunks) break;
      const from = Math.min(n, i * size);
      const len = Math.min(size, n - from);
      if (len > 0) run(4 * from, len);
      Atomics.add(ctl, 9, 1);
    }
    // Spin until the worker's chunks are done. A dead worker must not hang the bench: give up after 30 s.
    let spins = 0;
    const t0 = Date.now();
    while (Atomics.load(ctl, 9) !== chunks) {
      if ((++spins & 0xfffff) === 0 && Date.now() - t0 > 30_000) throw new Error('ceiling worker did not answer in 30 s');
    }
  }

  /** dst = src over n floats (byte addresses), on 1 or 2 threads. */
  copy(src: number, dst: number, n: number, threads: number): void {
    if (threads === 1 || this.worker === null) this.k.copy(src, dst, n);
    else this.split(1, src, dst, 0, 0, n, (o, m) => this.k.copy(src + o, dst + o, m));
  }

  /** a = b + s·c over n floats, on 1 or 2 threads. */
  triad(a: number, b: number, c: number, s: number, n: number, threads: number): void {
    if (threads === 1 || this.worker === null) this.k.triad(a, b, c, s, n);
    else this.split(2, a, b, c, s, n, (o, m) => this.k.triad(a + o, b + o, c + o, s, m));
  }
}

/** Bytes of shared memory the ceiling cases of one shape need (see ceilingCases). */
export function ceilingMemoryBytes(bytesPerCall: readonly number[]): number {
  let most = 0;
  for (const b of bytesPerCall) most = Math.max(most, b * setsFor(b));
  return most + PAGE;
}

/** Rotate 3 buffer sets like our kernels do, except where one set alone is far beyond the L3 (rotation is moot). */
function setsFor(bytesPerCall: number): number {
  return bytesPerCall > 96 * 2 ** 20 ? 1 : 3;
}

/**
 * Ceiling cases moving `bytes` per call: copy (read bytes/2, write bytes/2) and, when `triad`, the triad
 * (2 streams read, 1 written, bytes/3 each) — each at the given thread counts. `direction` only labels which
 * kernels' footprint (forward ≈ 8·rows·cols bytes, backward ≈ 12·rows·cols) the case stands for.
 */
export function ceilingCases(
  loops: CeilingLoops,
  rows: number,
  cols: number,
  bytes: number,
  threads: readonly number[],
  triad: boolean,
  direction: 'forward' | 'backward',
): BenchCase[] {
  const sets = setsFor(bytes);
  const cases: BenchCase[] = [];
  const base = { rows, cols, p: null, direction, backend: 'wasm-simd' };
  const nCopy = Math.max(16, Math.round(bytes / 8 / 16) * 16);
  const nTriad = Math.max(16, Math.round(bytes / 12 / 16) * 16);
  for (const t of threads) {
    const stride = nCopy * 8;
    cases.push({
      ...base, op: 'copy', impl: 'ceiling-copy', threads: t, bytes: nCopy * 8,
      call: (i) => {
        const at = (i % sets) * stride;
        loops.copy(at, at + nCopy * 4, nCopy, t);
      },
    });
    if (triad) {
      const strideT = nTriad * 12;
      cases.push({
        ...base, op: 'triad', impl: 'ceiling-triad', threads: t, bytes: nTriad * 12,
        call: (i) => {
          const at = (i % sets) * strideT;
          loops.triad(at, at + nTriad * 4, at + nTriad * 8, 0.5, nTriad, t);
        },
      });
    }
  }
  return cases;
}
