// Names shared by the coordinator (`reproduce --queue`) and the workers (`npm run worker`): the BullMQ queue, the
// Redis keys of a run's state, job ids, and the connection options parsed from a redis:// URL.
import type { ConnectionOptions } from 'bullmq';

/** One BullMQ queue for every sweep; job ids and run keys carry the sweep id, so sweeps share workers. */
export const QUEUE_NAME = 'rmsnorm-runs';

/** Default worker lock: a worker that dies loses its runs after this long (they go back to the queue). */
export const DEFAULT_LOCK_MS = 30_000;

/**
 * ioredis options for `redis://[user:password@]host[:port][/db]` (or rediss:// for TLS). `maxRetriesPerRequest: null`
 * makes commands wait through a Redis restart instead of failing (BullMQ workers require it).
 * @example connectionFromUrl('redis://127.0.0.1:6379')
 */
export function connectionFromUrl(url: string): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RangeError(`--queue: expected redis://HOST:PORT, got '${url}'`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new RangeError(`--queue: expected redis://HOST:PORT, got '${url}'`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new RangeError(`--queue: expected a database number after the port, got '${u.pathname.slice(1)}'`);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
    // Reconnect forever, at most every 2 s: a Redis restart must not end a sweep.
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
  };
}

/** BullMQ job id of one unit of work of a sweep (BullMQ ids may not contain ':'). */
export function jobIdOf(sweep: string, id: string): string {
  return `${sweep}.${id.replace(/:/g, '_')}`;
}

/** Redis keys of one run's state (see RedisRunStore). */
export function runKeys(sweep: string, runId: string) {
  const base = `rmsnorm:${sweep}:${runId}`;
  return { checkpoint: `${base}:ckpt`, previousCheckpoint: `${base}:ckpt.prev`, steps: `${base}:steps`, evals: `${base}:evals` };
}

/** What the coordinator puts on the queue. */
export type QueueJobData =
  | { sweep: string; kind: 'run'; id: string; spec: import('../tasks/task.js').RunSpec }
  | { sweep: string; kind: 'timing'; id: string; specs: import('../tasks/task.js').RunSpec[]; rounds: number };

/** What a worker reports through job.updateProgress: progress, new step records (from index `from`), notices. */
export interface QueueProgress {
  progress?: import('../runner.js').RunProgress;
  log?: { from: number; steps: import('../types.js').StepRecord[] };
  notices?: string[];
  worker?: string;
}
