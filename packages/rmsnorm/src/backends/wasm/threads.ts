// Optional worker pool for the wasm backend: n−1 workers share the module's memory; a large job is cut into 2n row
// ranges that the calling thread and the workers claim (so a descheduled worker's share is taken by whoever runs).
// Node `worker_threads` are imported dynamically only when threads are requested (the core stays browser-bundleable);
// browsers use Workers (needs cross-origin isolation).
import { BackendUnavailableError } from '../backend.js';
import { wasmFailure, wasmState, type WasmState } from './instance.js';
import {
  claimParts, CTL_ARGS, CTL_DONE, CTL_INTS, CTL_PARTS, CTL_QUIT, CTL_SEQ, CTL_SLEEPERS, CTL_STATE, MAX_PARTS,
  WORKER_SOURCE,
} from './worker-source.js';

/** Options of initThreads. */
export interface ThreadOptions {
  /** Jobs with fewer elements (rows × cols) than this run on the calling thread only. Default 65536 (measured). */
  minElements?: number;
  /** How long an idle worker spins before sleeping, ms. Default 0.2: back-to-back calls find it awake (hand-off ≈0.3 µs
   *  instead of ≈20 µs), and an idle pool soon stops taking CPU from other work. */
  spinMs?: number;
  /** Jobs below this many elements do not wake sleeping workers (run on the calling thread). Default 2^20. */
  wakeMinElements?: number;
}

interface PoolWorker {
  terminate(): Promise<unknown> | void;
}

interface Pool {
  threads: number;
  minElements: number;
  wakeMinElements: number;
  ctl: Int32Array;
  ctlPtr: number;
  workers: PoolWorker[];
  state: WasmState;
}

/** Default threshold: below ≈64 Ki elements the hand-off costs more than the second thread saves. */
export const DEFAULT_MIN_ELEMENTS = 65536;

let pool: Pool | null = null;

/** Number of threads jobs run on (1 = no pool). */
export function getThreads(): number {
  return pool === null ? 1 : pool.threads;
}

/**
 * Default size from which a job wakes sleeping workers (a wake costs the caller ≈2–15 µs in Atomics.notify and the
 * worker ≈20 µs to start); smaller jobs run on the calling thread while the workers sleep.
 */
export const DEFAULT_WAKE_MIN_ELEMENTS = 1 << 20;

/** How many parts a job of `rows` rows and `elements` values is split into (2 per thread, for stealing). */
export function partsFor(state: WasmState, rows: number, elements: number): number {
  if (pool === null || pool.state !== state || elements < pool.minElements) return 1;
  if (elements < pool.wakeMinElements && Atomics.load(pool.ctl, CTL_SLEEPERS) > 0) return 1;
  return Math.min(2 * pool.threads, rows, MAX_PARTS);
}

// Whether this thread may block in Atomics.wait (Node's main thread may; a browser's main thread may not).
let canWait = true;

/**
 * Run a job in `parts` parts on the pool: announce it, claim parts here too (stealing any a worker has not taken
 * yet), then wait for the parts other threads are running — spinning briefly, then sleeping in Atomics.wait so a
 * worker that shares this core gets it.
 */
export function runParts(state: WasmState, args: number, parts: number): void {
  const ctl = pool!.ctl; // shared memory never moves on growth: this view stays valid
  Atomics.store(ctl, CTL_ARGS, args);
  Atomics.store(ctl, CTL_PARTS, parts);
  Atomics.store(ctl, CTL_DONE, 0);
  for (let p = 0; p < MAX_PARTS; p++) Atomics.store(ctl, CTL_STATE + p, p < parts ? 0 : 1);
  Atomics.add(ctl, CTL_SEQ, 1);
  if (Atomics.load(ctl, CTL_SLEEPERS) > 0) Atomics.notify(ctl, CTL_SEQ);
  claimParts(ctl, 0, state.exports.runJob);
  let spins = 0;
  for (let done = Atomics.load(ctl, CTL_DONE); done !== parts; done = Atomics.load(ctl, CTL_DONE)) {
    if (++spins > 20000 && canWait) {
      try {
        Atomics.wait(ctl, CTL_DONE, done, 1);
      } catch {
        canWait = false; // browser main thread: keep spinning
      }
    }
  }
}

function isNode(): boolean {
  return typeof process === 'object' && typeof process.versions === 'object' && typeof process.versions.node === 'string';
}

async function spawn(state: WasmState, index: number, ctlPtr: number, spinMs: number): Promise<PoolWorker> {
  const data = { module: state.module, memory: state.memory, ctl: ctlPtr, index, spinMs };
  if (isNode()) {
    // A computed specifier keeps bundlers from trying to resolve a Node built-in for browser builds.
    const specifier = 'node:worker_threads';
    const { Worker } = (await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier)) as typeof import('node:worker_threads');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: data, execArgv: [] }); // plain JS: no loaders needed
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    worker.unref(); // an idle pool never keeps the process alive
    return worker;
  }
  const g = globalThis as unknown as {
    Worker: new (url: string) => { postMessage(d: unknown): void; terminate(): void; onmessage: unknown; onerror: unknown };
    Blob: new (parts: string[], o: object) => unknown;
    URL: { createObjectURL(b: unknown): string };
  };
  const worker = new g.Worker(g.URL.createObjectURL(new g.Blob([WORKER_SOURCE], { type: 'text/javascript' })));
  await new Promise<void>((resolve, reject) => {
    worker.onmessage = () => resolve();
    worker.onerror = reject;
    worker.postMessage(data);
  });
  return worker;
}

const OPTION_KEYS = ['minElements', 'spinMs', 'wakeMinElements'] as const;

/** initThreads' arguments, checked before anything starts: TypeError/RangeError naming the argument. */
function checkThreadArgs(n: unknown, options: unknown): ThreadOptions {
  if (typeof n !== 'number') throw new TypeError(`threads must be a number, got ${typeof n}`);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`threads must be a positive integer, got ${n}`);
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Object.prototype.toString.call(options) !== '[object Object]') {
    throw new TypeError(`initThreads options must be a plain object, got ${options === null ? 'null' : typeof options}`);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key)) {
      throw new TypeError(`options.${key} is not a known initThreads option (expected one of: ${OPTION_KEYS.join(', ')})`);
    }
  }
  const snap: ThreadOptions = {};
  for (const key of OPTION_KEYS) {
    const v = o[key];
    if (v === undefined) continue;
    if (typeof v !== 'number') throw new TypeError(`options.${key} must be a number, got ${typeof v}`);
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`options.${key} must be a finite number >= 0, got ${v}`);
    snap[key] = v;
  }
  return snap;
}

// initThreads/terminateThreads run one at a time, in call order: two overlapping initThreads would otherwise each
// see no pool, each spawn workers, and the first pool's workers would leak when the second replaces it.
let queue: Promise<unknown> = Promise.resolve();

function serialised<T>(task: () => Promise<T>): Promise<T> {
  const run = queue.then(task, task);
  queue = run.catch(() => undefined);
  return run;
}

/**
 * Run wasm kernels on `n` threads (the calling thread plus n − 1 workers on the shared memory); n = 1 stops the pool.
 * Jobs below `minElements` stay on the calling thread. Calling it again with the same n (and no spinMs) only updates
 * the thresholds. Needs shared memory (Node; cross-origin-isolated browsers). Concurrent calls (and
 * terminateThreads) are serialised: each takes effect in call order, and no worker outlives its pool.
 * Workers are unref'd: an idle pool never keeps Node alive; call terminateThreads() to stop them explicitly.
 * @example await initThreads(2); rmsNorm(x, 1024, { out: { y, rstd } }); await terminateThreads();
 */
export async function initThreads(n: number, options: ThreadOptions = {}): Promise<number> {
  const o = checkThreadArgs(n, options);
  return serialised(() => start(n, o));
}

async function start(n: number, options: ThreadOptions): Promise<number> {
  const state = wasmState();
  if (state === null) throw new BackendUnavailableError(`wasm backend not available: ${wasmFailure()}`);
  if (pool !== null && pool.threads === n && pool.state === state && options.spinMs === undefined) {
    // same pool size: only the thresholds change, the running workers are kept
    pool.minElements = options.minElements ?? DEFAULT_MIN_ELEMENTS;
    pool.wakeMinElements = options.wakeMinElements ?? DEFAULT_WAKE_MIN_ELEMENTS;
    return n;
  }
  await stop();
  if (n === 1) return 1;
  if (!state.shared) {
    throw new BackendUnavailableError('wasm threads need shared memory (SharedArrayBuffer / cross-origin isolation)');
  }
  const minElements = options.minElements ?? DEFAULT_MIN_ELEMENTS;
  const spinMs = options.spinMs ?? 0.2;
  const wakeMinElements = options.wakeMinElements ?? DEFAULT_WAKE_MIN_ELEMENTS;
  const heap = state.heap;
  const ctlPtr = heap.alloc(CTL_INTS * 4); // 64-byte aligned: slot 0 starts a cache line
  heap.refresh();
  const ctl = new Int32Array(state.memory.buffer, ctlPtr, CTL_INTS);
  ctl.fill(0);
  const workers: PoolWorker[] = [];
  try {
    for (let i = 1; i < n; i++) workers.push(await spawn(state, i, ctlPtr, spinMs));
  } catch (err) {
    Atomics.store(ctl, CTL_QUIT, 1);
    await Promise.all(workers.map((w) => w.terminate()));
    heap.release(ctlPtr);
    throw err;
  }
  pool = { threads: n, minElements, wakeMinElements, ctl, ctlPtr, workers, state };
  return n;
}

/** Stop the worker pool (if any) and wait for the workers to exit; later jobs run on the calling thread. */
export function terminateThreads(): Promise<void> {
  return serialised(stop);
}

async function stop(): Promise<void> {
  const p = pool;
  if (p === null) return;
  pool = null;
  Atomics.store(p.ctl, CTL_QUIT, 1);
  Atomics.add(p.ctl, CTL_SEQ, 1);
  Atomics.notify(p.ctl, CTL_SEQ);
  await Promise.all(p.workers.map((w) => w.terminate()));
  p.state.heap.release(p.ctlPtr);
}
