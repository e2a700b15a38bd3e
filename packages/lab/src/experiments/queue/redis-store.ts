// A run's checkpoints and logs in Redis, so that any worker can take the run over from its last checkpoint when
// the worker training it dies. Same contract as FileRunStore: sealed checkpoints with the previous one kept, step
// and evaluation logs as lists (one JSON record per element), the result returned through the job instead of a file.
import type { RedisClient } from 'bullmq';
import type { CheckpointSlot, RunStore } from '../run-store.js';
import { parseLog } from '../run-store.js';
import type { EvalRecord, RunResult, StepRecord } from '../types.js';
import { runKeys } from './connection.js';

export class RedisRunStore implements RunStore {
  private readonly keys: ReturnType<typeof runKeys>;
  /** Log writes go out without waiting (ioredis keeps their order); the next awaited call waits for them. */
  private pending: Promise<unknown> = Promise.resolve();
  /** Step records of this attempt, and how many of them the coordinator has been sent. */
  private steps: StepRecord[] = [];
  private sent = 0;

  constructor(
    private readonly client: RedisClient,
    sweep: string,
    runId: string,
  ) {
    this.keys = runKeys(sweep, runId);
  }

  private later(p: Promise<unknown>): void {
    const prev = this.pending;
    this.pending = Promise.all([prev, p]);
  }

  async flush(): Promise<void> {
    await this.pending;
  }

  async readCheckpoints(): Promise<CheckpointSlot[]> {
    const [cur, prev] = await Promise.all([this.client.get(this.keys.checkpoint), this.client.get(this.keys.previousCheckpoint)]);
    return [
      { where: `redis ${this.keys.checkpoint}`, text: cur },
      { where: `redis ${this.keys.previousCheckpoint}`, text: prev },
    ];
  }

  async saveCheckpoint(sealed: string): Promise<void> {
    await this.flush();
    // One transaction: the current checkpoint becomes the previous one, the new one takes its place.
    const res = await this.client
      .multi()
      .runCommand('eval', ["if redis.call('exists', KEYS[1]) == 1 then redis.call('rename', KEYS[1], KEYS[2]) end return 1", 2, this.keys.checkpoint, this.keys.previousCheckpoint])
      .runCommand('set', [this.keys.checkpoint, sealed])
      .exec();
    const failed = res?.find(([err]) => err !== null);
    if (!res || failed) throw new Error(`cannot store the checkpoint in redis ${this.keys.checkpoint}: ${failed?.[0]?.message ?? 'transaction aborted'}`);
  }

  async readLog(maxStep: number): Promise<{ steps: StepRecord[]; evals: EvalRecord[] }> {
    const [steps, evals] = await Promise.all([this.client.lrange(this.keys.steps, 0, -1), this.client.lrange(this.keys.evals, 0, -1)]);
    return { steps: parseLog<StepRecord>(steps, maxStep), evals: parseLog<EvalRecord>(evals, maxStep) };
  }

  async resetLog(steps: StepRecord[], evals: EvalRecord[]): Promise<void> {
    await this.flush();
    const tx = this.client.multi().del(this.keys.steps, this.keys.evals);
    if (steps.length > 0) tx.runCommand('rpush', [this.keys.steps, ...steps.map((s) => JSON.stringify(s))]);
    if (evals.length > 0) tx.runCommand('rpush', [this.keys.evals, ...evals.map((e) => JSON.stringify(e))]);
    await tx.exec();
    this.steps = [...steps];
    this.sent = 0;
  }

  appendStep(rec: StepRecord): void {
    this.steps.push(rec);
    this.later(this.client.runCommand('rpush', [this.keys.steps, JSON.stringify(rec)]));
  }

  appendEval(rec: EvalRecord): void {
    this.later(this.client.runCommand('rpush', [this.keys.evals, JSON.stringify(rec)]));
  }

  /** The result travels back as the job's return value; only the logs are flushed here. */
  async saveResult(_result: RunResult): Promise<void> {
    await this.flush();
  }

  /** Step records the coordinator has not been sent yet (all of them after a reset, so it can rewrite its copy). */
  takeNewSteps(): { from: number; steps: StepRecord[] } | undefined {
    if (this.sent === this.steps.length) return undefined;
    const out = { from: this.sent, steps: this.steps.slice(this.sent) };
    this.sent = this.steps.length;
    return out;
  }

  /** Delete the run's state (the coordinator does this once it holds the result). */
  static async clear(client: RedisClient, sweep: string, runId: string): Promise<void> {
    const k = runKeys(sweep, runId);
    await client.del(k.checkpoint, k.previousCheckpoint, k.steps, k.evals);
  }
}
