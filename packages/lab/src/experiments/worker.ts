// Worker process entry (child_process.fork): trains the runs the parent sends, one at a time, with its own tfjs wasm
// backend, and reports progress and results over IPC. One worker per core: tfjs-wasm threads don't work in Node.
import { isStorageError } from './atomic-write.js';
import { executeRun, type RunProgress } from './runner.js';
import { measureStepTimes, type StepTiming } from './timing.js';
import type { RunSpec } from './tasks/task.js';
import type { RunResult } from './types.js';

export type ToWorker =
  | { type: 'run'; spec: RunSpec; outDir: string; resume: boolean }
  | { type: 'timing'; id: string; specs: RunSpec[]; rounds: number }
  | { type: 'exit' };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; progress: RunProgress }
  | { type: 'done'; id: string; result: RunResult }
  | { type: 'timed'; id: string; timings: StepTiming[] }
  | { type: 'notice'; id: string; message: string }
  /** `storage`: the disk refused a write (full, read-only): the parent stops the sweep, resumable. */
  | { type: 'error'; id: string; message: string; storage?: boolean };

function send(msg: FromWorker): void {
  process.send?.(msg);
}

function failure(id: string, err: unknown): FromWorker {
  if (isStorageError(err)) return { type: 'error', id, message: (err as Error).message, storage: true };
  return { type: 'error', id, message: err instanceof Error ? (err.stack ?? err.message) : String(err) };
}

process.on('message', (msg: ToWorker) => {
  if (msg.type === 'exit') {
    process.disconnect?.();
    return;
  }
  if (msg.type === 'timing') {
    measureStepTimes(msg.specs, msg.rounds).then(
      (timings) => send({ type: 'timed', id: msg.id, timings }),
      (err: unknown) => send(failure(msg.id, err)),
    );
    return;
  }
  let last = 0;
  executeRun(msg.spec, msg.outDir, {
    resume: msg.resume,
    onNotice: (message) => send({ type: 'notice', id: msg.spec.id, message }),
    onProgress: (progress) => {
      const now = Date.now();
      // Throttle IPC traffic; always pass phase changes through.
      if (progress.phase === 'train' && now - last < 200 && progress.step !== progress.steps) return;
      last = now;
      send({ type: 'progress', progress });
    },
  }).then(
    (result) => send({ type: 'done', id: msg.spec.id, result }),
    (err: unknown) => send(failure(msg.spec.id, err)),
  );
});

// The parent went away (Ctrl-C, crash): stop; the last checkpoint lets --resume continue.
process.on('disconnect', () => process.exit(0));

send({ type: 'ready' });
