// Where one training run keeps its state: checkpoints (sealed with their length and SHA-256, the previous one kept as
// a fallback), the step and evaluation logs, and the result. FileRunStore writes `<out>/runs/<id>.*` (a local sweep);
// the queue's RedisRunStore (queue/redis-store.ts) keeps the same things in Redis so another worker can take a run over.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendText, writeAtomic } from './atomic-write.js';
import type { EvalRecord, RunResult, StepRecord } from './types.js';

/** One stored checkpoint slot as read back: where it lives (for messages) and its raw text (null = absent). */
export interface CheckpointSlot {
  where: string;
  text: string | null;
}

/** Storage of one run's checkpoints, logs and result (files or Redis). */
export interface RunStore {
  /** The latest checkpoint first, then the previous one (the fallback). */
  readCheckpoints(): Promise<CheckpointSlot[]>;
  /** Store a sealed checkpoint; the one it replaces becomes the previous one. */
  saveCheckpoint(sealed: string): Promise<void>;
  /** Step and evaluation records with step ≤ maxStep (a torn last record is dropped). */
  readLog(maxStep: number): Promise<{ steps: StepRecord[]; evals: EvalRecord[] }>;
  /** Replace both logs with exactly these records (a fresh start, or the state at a checkpoint). */
  resetLog(steps: StepRecord[], evals: EvalRecord[]): Promise<void>;
  /** Append one record; may finish in the background (errors surface at the next awaited call). */
  appendStep(rec: StepRecord): void;
  appendEval(rec: EvalRecord): void;
  saveResult(result: RunResult): Promise<void>;
}

const FORMAT = 'rmsnorm-checkpoint';

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** A checkpoint body (JSON) behind a one-line header with its byte length and SHA-256. */
export function sealCheckpoint(body: string): string {
  return `${JSON.stringify({ format: FORMAT, version: 2, bytes: Buffer.byteLength(body, 'utf8'), sha256: sha256(body) })}\n${body}`;
}

/**
 * The body of a sealed checkpoint, or why it cannot be used (truncated, corrupted, not a checkpoint). Unsealed
 * version-1 files (plain JSON, written before the seal existed) are accepted when they parse.
 */
export function openCheckpoint(text: string): { body: string } | { damaged: string } {
  const nl = text.indexOf('\n');
  const first = nl < 0 ? text : text.slice(0, nl);
  type Header = { format?: unknown; bytes?: unknown; sha256?: unknown };
  let header: Header | null;
  try {
    header = JSON.parse(first) as Header;
  } catch {
    header = null;
  }
  if (header === null || typeof header !== 'object' || header.format !== FORMAT) {
    try {
      JSON.parse(text);
      return { body: text };
    } catch (err) {
      return { damaged: `not a valid checkpoint (${(err as Error).message})` };
    }
  }
  const body = nl < 0 ? '' : text.slice(nl + 1);
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes !== header.bytes) return { damaged: `truncated or padded: ${bytes} of ${String(header.bytes)} bytes` };
  if (sha256(body) !== header.sha256) return { damaged: 'SHA-256 mismatch (corrupted)' };
  return { body };
}

function readJsonl<T extends { step: number }>(text: string, maxStep: number): T[] {
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const rec = JSON.parse(line) as T;
      if (rec.step <= maxStep) out.push(rec);
    } catch {
      // A torn last line from a kill mid-write: dropped, the step is recomputed.
    }
  }
  return out;
}

/**
 * Parse JSONL records with step ≤ maxStep, skipping torn lines, one record per step in step order (a worker that lost
 * its lock but kept running may have appended records a second time; they are identical, training is deterministic).
 */
export function parseLog<T extends { step: number }>(lines: string[] | string, maxStep: number): T[] {
  const byStep = new Map<number, T>();
  for (const rec of readJsonl<T>(Array.isArray(lines) ? lines.join('\n') : lines, maxStep)) byStep.set(rec.step, rec);
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

/** Files of one run under `<out>/runs/`. */
export function runFiles(outDir: string, id: string) {
  const dir = join(outDir, 'runs');
  return {
    dir,
    steps: join(dir, `${id}.steps.jsonl`),
    evals: join(dir, `${id}.evals.jsonl`),
    checkpoint: join(dir, `${id}.ckpt.json`),
    previousCheckpoint: join(dir, `${id}.ckpt.prev.json`),
    result: join(dir, `${id}.result.json`),
  };
}

function jsonl(records: unknown[]): string {
  return records.map((r) => JSON.stringify(r) + '\n').join('');
}

/** A run's state as files under `<out>/runs/` (what a local sweep uses). */
export class FileRunStore implements RunStore {
  readonly files: ReturnType<typeof runFiles>;

  constructor(outDir: string, id: string) {
    this.files = runFiles(outDir, id);
    mkdirSync(this.files.dir, { recursive: true });
  }

  async readCheckpoints(): Promise<CheckpointSlot[]> {
    const read = (where: string): CheckpointSlot => ({ where, text: existsSync(where) ? readFileSync(where, 'utf8') : null });
    return [read(this.files.checkpoint), read(this.files.previousCheckpoint)];
  }

  async saveCheckpoint(sealed: string): Promise<void> {
    writeAtomic(this.files.checkpoint, sealed, { keepPrevious: this.files.previousCheckpoint });
  }

  async readLog(maxStep: number): Promise<{ steps: StepRecord[]; evals: EvalRecord[] }> {
    const read = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : '');
    return { steps: parseLog<StepRecord>(read(this.files.steps), maxStep), evals: parseLog<EvalRecord>(read(this.files.evals), maxStep) };
  }

  async resetLog(steps: StepRecord[], evals: EvalRecord[]): Promise<void> {
    writeAtomic(this.files.steps, jsonl(steps));
    writeAtomic(this.files.evals, jsonl(evals));
  }

  appendStep(rec: StepRecord): void {
    appendText(this.files.steps, JSON.stringify(rec) + '\n');
  }

  appendEval(rec: EvalRecord): void {
    appendText(this.files.evals, JSON.stringify(rec) + '\n');
  }

  async saveResult(result: RunResult): Promise<void> {
    writeAtomic(this.files.result, JSON.stringify(result));
  }
}

/** Write a finished run's files (logs, result) under `<out>/runs/` exactly as a local run leaves them. */
export async function writeRunFiles(outDir: string, result: RunResult): Promise<void> {
  const store = new FileRunStore(outDir, String(result.config.id));
  await store.resetLog(result.steps, result.evals);
  await store.saveResult(result);
}
