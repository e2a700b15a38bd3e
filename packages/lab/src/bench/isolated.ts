// One of our configurations timed in a fresh Node process: how `rmsnorm bench` times every row of ours, and how
// `--check-isolated` times it alone beside that. A process that calls only one op, on one shape, is what a user's
// process is; in a long process that has run other ops, shapes and backends, V8's feedback for our js kernels goes
// megamorphic (the js rows read 1.5–2.1× slower there than alone, bench/README.md) and GC, page placement and worker
// state from other configurations leak into the samples.
// The run's child (`companions: true`) interleaves the row with the ceiling loop of the same footprint (copy for
// forward, triad for backward, at the row's threads) — so "% of ceiling" is a same-process ratio — and, for the
// zero-copy wasm row at 1 thread, with the naive kernel of the same op on the same buffers (ours/naive side by side).
// The check's child (`companions: false`) times the row alone, right beside the run's child (bench.ts).
// Run as a script, this file is that child: argv[2] is the JSON spec, stdout gets the JSON result.
import { execFile } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
import { wasmBase64 as naiveBase64 } from './generated/naive.js';
import { normBase64 } from 'rmsnorm/internal';
import { allocFloat32, freeFloat32, initThreads, partialK, terminateThreads } from 'rmsnorm';
import { CeilingLoops, ceilingCases, ceilingMemoryBytes } from './ceiling.js';
import { allowedCpus } from './cpus.js';
import { naiveCases } from './naive.js';
import { ourCases, type OurVariant } from './ours.js';
import { measure, settle, type BenchCase, type MeasureOptions } from './runner.js';
import { copyShapeData, makeShapeData } from './shape-data.js';
import { opBytes, quantile, summarize, type OpName } from './stats.js';

/** Which configuration to time: the identifying fields of one of our records, and the run's sampling settings. */
export interface IsolatedSpec {
  op: OpName;
  direction: 'forward' | 'backward';
  /** The record's backend label: 'js', 'wasm' (zero-copy buffers) or 'wasm+copy'. */
  backend: string;
  threads: number;
  rows: number;
  cols: number;
  p: number;
  sets: number;
  mo: MeasureOptions;
  /** Interleave the matching ceiling loop (and the naive kernel, zero-copy wasm at 1 thread): the run's child. */
  companions?: boolean;
}

/** One configuration's timing: its identity (a case without `call`) and the percentiles of its samples. */
export interface CaseTiming {
  c: Omit<BenchCase, 'call'>;
  p20: number;
  p50: number;
  p80: number;
  cpu50: number | null;
}

export interface IsolatedResult {
  p20: number;
  p50: number;
  p80: number;
  cpu50: number;
  /** Which wasm kernels the process ran (kernelsId()): a rebuild during a run must not pass for a comparison. */
  kernels: string;
  /** The configurations timed interleaved with ours in the same process (ceiling loop, naive kernel). */
  companions: CaseTiming[];
  /** Why a companion is missing (e.g. the naive kernel needs cols % 4 = 0). */
  notes: string[];
  /** The CPUs the child could run on (Linux's Cpus_allowed_list, e.g. "1" when pinned), null elsewhere. */
  cpus: string | null;
}

/** A short hash of the wasm modules this process loaded. */
export function kernelsId(): string {
  return createHash('sha256').update(normBase64).update(naiveBase64).digest('hex').slice(0, 12);
}

/** The ceiling loop a row is compared with: copy (1 read + 1 write stream) forward, triad (2 + 1) backward. */
function ceilingCompanion(loops: CeilingLoops, spec: IsolatedSpec): BenchCase[] {
  const backward = spec.direction === 'backward';
  const bytes = opBytes(spec.op, spec.direction, spec.rows, spec.cols);
  return ceilingCases(loops, spec.rows, spec.cols, bytes, [spec.threads], backward, spec.direction)
    .filter((c) => c.impl === (backward ? 'ceiling-triad' : 'ceiling-copy'));
}

const timing = (m: { case: BenchCase; samples: number[]; cpuSamples: number[] }): CaseTiming => {
  const { call: _call, ...c } = m.case;
  return { c, ...summarize(m.samples), cpu50: m.cpuSamples.length > 0 ? quantile(m.cpuSamples, 0.5) : null };
};

/** Time the configuration (and its companions) in this process: what the child does. */
export async function timeHere(spec: IsolatedSpec): Promise<IsolatedResult> {
  const d = makeShapeData(spec.rows, spec.cols, spec.p, partialK(spec.p, spec.cols), spec.sets);
  const zeroCopy = spec.backend === 'wasm';
  const wd = zeroCopy ? copyShapeData(d, allocFloat32, freeFloat32) : null;
  const variant: OurVariant = {
    backend: spec.backend === 'js' ? 'js' : 'wasm', label: spec.backend, threads: spec.threads,
    alloc: wd === null ? (n) => new Float32Array(n) : wd.alloc,
  };
  const notes: string[] = [];
  const loops = spec.companions === true
    ? new CeilingLoops(ceilingMemoryBytes([opBytes(spec.op, spec.direction, spec.rows, spec.cols)]))
    : null;
  if (spec.threads > 1) await initThreads(spec.threads);
  let pool = spec.threads > 1;
  try {
    const cases = ourCases(wd === null ? d : wd.data, variant, [spec.op], [spec.direction]);
    // One thread: the ceiling loop (and naive kernel) interleaved with the row. Two threads: the loop's helper thread
    // next to our pool's worker made our 2-thread kernel run on one thread in some samples (wall ≈ CPU time, 1.1–2×
    // the alone time at 4096×512), so the 2-thread loop is timed after the row, in the same process, pool closed.
    if (loops !== null && spec.threads === 1) cases.push(...ceilingCompanion(loops, spec));
    if (loops !== null && wd !== null && spec.threads === 1 && spec.op !== 'pRmsNorm') {
      try {
        cases.push(...naiveCases(wd.data, wd.alloc, [spec.op], [spec.direction]));
      } catch (err) {
        notes.push(`naive kernel rows left out at ${spec.rows}×${spec.cols}: ${(err as Error).message}`);
      }
    }
    await settle(); // a full GC after allocating the buffers, as before every phase of the run
    const [ours, ...rest] = await measure(cases, spec.mo);
    if (ours.error !== undefined || ours.samples.length === 0) throw new Error(ours.error ?? 'no samples');
    if (loops !== null && spec.threads > 1) {
      await terminateThreads();
      pool = false;
      await loops.startWorker();
      await settle();
      rest.push(...(await measure(ceilingCompanion(loops, spec), spec.mo)));
    }
    const companions: CaseTiming[] = [];
    for (const m of rest) {
      if (m.error === undefined && m.samples.length > 0) companions.push(timing(m));
      else notes.push(`${m.case.impl} ${m.case.op} ${m.case.direction} at ${spec.rows}×${spec.cols} failed: ${m.error ?? 'no samples'}`);
    }
    const t = timing(ours);
    return {
      p20: t.p20, p50: t.p50, p80: t.p80, cpu50: t.cpu50 ?? NaN, kernels: kernelsId(), companions, notes, cpus: allowedCpus(),
    };
  } finally {
    if (pool) await terminateThreads();
    await loops?.close();
    wd?.free();
  }
}

/**
 * Time the configuration in a fresh child process (this file as a script, with this process's loaders); `cpu`: run
 * it pinned to that CPU with `taskset` (cpus.ts: the bench pins 1-thread children to the fastest CPU).
 */
export function timeInChild(spec: IsolatedSpec, cpu: number | null = null): Promise<IsolatedResult> {
  const script = fileURLToPath(import.meta.url);
  const node = [process.execPath, ...process.execArgv, script, JSON.stringify(spec)];
  const [file, ...args] = cpu === null ? node : ['taskset', '-c', String(cpu), ...node];
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err !== null) {
        reject(new Error(`isolated child failed: ${stderr.trim().split('\n').pop() ?? err.message}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as IsolatedResult);
      } catch {
        reject(new Error(`isolated child printed no result: ${stdout.slice(0, 200)}`));
      }
    });
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await timeHere(JSON.parse(process.argv[2]) as IsolatedSpec);
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
}
