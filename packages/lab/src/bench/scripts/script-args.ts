// The command-line flags of the bench scripts in this folder (`--name value`), parsed the same way in each.
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);

/** The value after `--name`, or the fallback. */
export function arg(name: string, fallback: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
}

/** `--shapes 32x768,256x1024` as [rows, cols] pairs. */
export function shapesArg(fallback: string): [number, number][] {
  return arg('shapes', fallback).split(',').map((s) => s.split('x').map(Number) as [number, number]);
}


/** `--clock wall|cpu`: true for this process's CPU time (user + system) instead of wall time. */
export const cpuClock = arg('clock', 'wall') === 'cpu';

/**
 * The clock `--clock` picks, in ms: CPU time does not count time spent descheduled by other processes on a loaded
 * machine (the kernels timed here are single-threaded; µs resolution).
 */
export const now: () => number = cpuClock
  ? () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    }
  : () => performance.now();

/** `--stat median|min`: true to report the fastest sample (on a loaded machine) instead of the median. */
export const useMin = arg('stat', 'median') === 'min';

/**
 * `--alt v.wasm`: a second build of the norm-shared module (a kernel variant under test) instantiated on `memory`
 * (its exports), or null without the flag.
 */
export function altModuleArg<T>(memory: WebAssembly.Memory): T | null {
  const path = arg('alt', '');
  if (path === '') return null;
  return new WebAssembly.Instance(new WebAssembly.Module(readFileSync(path)), { env: { memory } }).exports as unknown as T;
}

/**
 * Time the calls interleaved round-robin: each round calls each case back to back for `sampleMs` (by `now`; one
 * sample = ms per call, the call's argument counting up from 0) and returns per case the fastest (`--stat min`) or
 * the median sample.
 */
export function timeInterleaved(calls: ReadonlyArray<(i: number) => void>, rounds: number, sampleMs: number): number[] {
  const samples = calls.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    calls.forEach((call, ci) => {
      let n = 0;
      const t0 = now();
      let t = t0;
      do {
        call(n++);
        t = now();
      } while (t - t0 < sampleMs);
      samples[ci].push((t - t0) / n);
    });
  }
  return samples.map((v) => {
    const s = [...v].sort((a, b) => a - b);
    return useMin ? s[0] : s[s.length >> 1];
  });
}
