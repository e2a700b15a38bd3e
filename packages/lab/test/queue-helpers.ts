// Shared by the queue tests: a real redis-server on a free 127.0.0.1 port, child processes with collected output, and
// what must be bit-identical between a queued and a local run.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { runFiles } from '../src/experiments/runner.js';
import type { RunResult } from '../src/experiments/types.js';

export const hasRedis = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0;
export const NO_REDIS = 'redis-server is not installed (apt-get install redis-server)';

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolvePort(port));
    });
    srv.on('error', reject);
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Started {
  child: ChildProcess;
  out: () => string;
  exited: Promise<{ code: number | null; signal: string | null }>;
}

/** A child process whose output (stdout + stderr) is collected and whose exit can be awaited. */
export function start(args: string[], env: Record<string, string> = {}): Started {
  const child = spawn(args[0], args.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { child, out: () => out, exited };
}

/** `node --import tsx …args` (the package's TypeScript entry points, as `npm run` starts them). */
export const tsx = (...a: string[]) => [process.execPath, '--import', 'tsx', ...a];

export async function until(what: string, cond: () => boolean, ms: number): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export function redisPing(port: number): boolean {
  return spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG';
}

/** redis-server on 127.0.0.1:`port` with the append-only file on, in `dir`; resolves once it answers. */
export async function startRedis(port: number, dir: string): Promise<Started> {
  const r = start(['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--dir', dir, '--save', '']);
  try {
    await until('redis', () => redisPing(port), 10_000);
  } catch (err) {
    r.child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}: ${r.out()}`);
  }
  return r;
}

/** What must be identical between a local and a queued run (times excluded). */
export function essence(r: RunResult) {
  return {
    steps: r.steps.map((s) => [s.step, s.loss, s.gradNorm]),
    evals: r.evals.map((e) => [e.step, e.metrics]),
    final: r.final,
    diverged: r.diverged,
    stepsToThreshold: r.stepsToThreshold,
    extra: r.extra,
    config: r.config,
  };
}

/** A run's `runs/<id>.steps.jsonl` in `out`, times excluded. */
export function stepLog(out: string, id: string) {
  return readFileSync(runFiles(out, id).steps, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const s = JSON.parse(l) as { step: number; loss: number; gradNorm: number };
      return [s.step, s.loss, s.gradNorm];
    });
}
