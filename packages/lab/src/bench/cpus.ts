// Unequal CPUs. On the 2-vCPU VMs these benchmarks ran on, one vCPU was at times up to 1.8× slower than the other
// (session 8: the same wasm kernel read 72–73 µs pinned to cpu 1 and 76–114 µs pinned to cpu 0, minutes apart; the js
// LayerNorm forward at 4096×512 read 5.4–5.6 ms or 9.4–10.1 ms in fresh processes, by where the OS put them). A fresh
// child is then fast or slow by luck, and a row disagrees with its --check-isolated twin by that luck alone. So
// `rmsnorm bench` pins every 1-thread child (the row's and its twin) to the CPU that a short calibration, re-run before
// each shape, found fastest (`--no-pin`: leave placement to the OS). Linux with `taskset` only; elsewhere nothing is
// pinned and the bench says so.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** The calibration of one shape: relative speed per CPU (fastest = 1) and the CPU children are pinned to. */
export interface CpuChoice {
  cpu: number;
  /** Speed of each CPU measured (index = CPU number) relative to the fastest. */
  relative: number[];
}

let pinnable: boolean | null = null;

/**
 * Whether this machine can pin a child process to one CPU (Linux, more than one CPU, `taskset` on the PATH); asked
 * once per process (a run calibrates before every shape).
 */
export function canPin(): boolean {
  pinnable ??= process.platform === 'linux' && os.cpus().length >= 2 &&
    spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
  return pinnable;
}

// A throughput-bound loop (four independent accumulators over an L1-resident array) for ~120 ms after a 40 ms
// warm-up; prints iterations per ms. Wall clock on purpose: time the vCPU does not get is what makes it slow.
const CALIBRATION = `
const a = new Float32Array(4096);
for (let i = 0; i < a.length; i++) a[i] = (i % 7) * 0.25;
const pass = () => { let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (let i = 0; i < a.length; i += 4) { s0 += a[i] * a[i]; s1 += a[i + 1] * a[i + 1]; s2 += a[i + 2] * a[i + 2]; s3 += a[i + 3] * a[i + 3]; }
  return s0 + s1 + s2 + s3; };
let sink = 0;
const t0 = performance.now();
while (performance.now() - t0 < 40) sink += pass();
let n = 0;
const t1 = performance.now();
while (performance.now() - t1 < 120) { sink += pass(); n++; }
console.log(String(n / (performance.now() - t1)) + (sink < 0 ? ' ' : ''));
`;

/** Iterations per ms of the calibration loop pinned to `cpu` (NaN when the child failed). */
function speedOf(cpu: number): number {
  const r = spawnSync('taskset', ['-c', String(cpu), process.execPath, '-e', CALIBRATION], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : NaN;
}

/** Index of the largest finite value (-1 when none is finite). @example fastest([0.7, 1.2, NaN]) // 1 */
export function fastest(speeds: readonly number[]): number {
  let best = -1;
  for (let i = 0; i < speeds.length; i++) if (Number.isFinite(speeds[i]) && (best < 0 || speeds[i] > speeds[best])) best = i;
  return best;
}

/**
 * Time the calibration loop on each CPU (at most 8, one after the other; ≈ 0.2 s each) and pick the fastest, or null
 * when this machine cannot pin or no calibration child ran.
 */
export function chooseCpu(): CpuChoice | null {
  if (!canPin()) return null;
  const speeds = Array.from({ length: Math.min(os.cpus().length, 8) }, (_, cpu) => speedOf(cpu));
  const cpu = fastest(speeds);
  if (cpu < 0) return null;
  return { cpu, relative: speeds.map((s) => s / speeds[cpu]) };
}

/** "cpu 1 (cpu 0 at 0.71 of its speed)": a choice as the progress lines and notes print it. */
export function describeChoice(c: CpuChoice): string {
  const others = c.relative.map((r, i) => (i === c.cpu ? '' : `cpu ${i} at ${Number.isFinite(r) ? r.toFixed(2) : '?'}`)).filter((s) => s !== '');
  return `cpu ${c.cpu}${others.length > 0 ? ` (${others.join(', ')} of its speed)` : ''}`;
}

/** The CPUs this process may run on, as Linux prints them ("1", "0-1"), or null off Linux. */
export function allowedCpus(): string | null {
  try {
    return /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}
