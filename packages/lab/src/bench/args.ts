// `rmsnorm bench` options: parsing and validation (bad usage → UsageError with a one-line reason).
import { parseArgs } from 'node:util';
import type { OpName } from './stats.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface BenchOptions {
  shapes: [number, number][];
  ops: OpName[];
  directions: ('forward' | 'backward')[];
  peers: boolean;
  threads: number[];
  reps: number;
  rounds: number;
  budgetMs: number;
  maxCallMs: number;
  /** Full rounds over every shape; records report the median of the per-round results. */
  repeat: number;
  /** Re-time each of our configurations alone in another fresh child process and print both side by side. */
  checkIsolated: boolean;
  /** Pin 1-thread children to the CPU a calibration before each shape found fastest (Linux, taskset; cpus.ts). */
  pin: boolean;
  p: number;
  json: boolean;
  out: string | null;
  /** Time rmsnorm/webgpu on the first WebGPU adapter instead (src/bench/webgpu.ts). */
  webgpu: boolean;
  help: boolean;
}

// 32×768: latency (L2); 256×1024: in cache (compute headroom, % of the in-cache ceiling); 4096×512, 1024×4096: L3 to
// DRAM; 16384×1024: DRAM (128 MiB per forward call).
export const DEFAULT_SHAPES: [number, number][] = [[32, 768], [256, 1024], [4096, 512], [1024, 4096], [16384, 1024]];
const OP_NAMES: Record<string, OpName> = { rms: 'rmsNorm', prms: 'pRmsNorm', layer: 'layerNorm' };

export const BENCH_USAGE = `usage: rmsnorm bench [options]

Times our RMSNorm / pRMSNorm / LayerNorm kernels (js and wasm backends) against a naive two-pass wasm kernel,
TF.js, ONNX Runtime and the memory-copy ceiling. Each configuration of ours (shape, op, direction, backend,
threads) is timed in its own fresh process — what a program calling only that op gets — interleaved there with
the ceiling loop it is compared with (and the naive kernel); the shape's ceiling loops and the peers are timed
afterwards in this process. Prints a table and headline ratios; progress goes to stderr.

options:
  --shapes RxC,…         shapes (rows x cols)       default 32x768,256x1024,4096x512,1024x4096,16384x1024
  --ops rms,prms,layer   ops to time                default all three (pRMSNorm p = --p)
  --directions f,b       forward,backward           default both
  --peers / --no-peers   TF.js (wasm, cpu) and onnxruntime-node peers   default on
  --threads 1,2          thread counts for wasm kernels and the ceiling  default 1,2
  --reps N               most timing samples per configuration           default 21
  --rounds N             round-robin rounds over the configurations of a phase   default 5
  --budget MS            measured time aimed at per configuration        default 1000
  --max-call MS          skip a peer configuration predicted slower than this per call (peers are timed once
                         on a small probe shape first, cost extrapolated by element count)   default 2500
  --repeat N             N full rounds over all shapes; report the median of the N (and the spread); each row
                         of ours is then the median of N fresh processes                   default 1
  --check-isolated       also time each of our rows alone (no ceiling loop, no naive kernel) in another fresh
                         process, right beside the row's own (so both see the same machine; N with --repeat N,
                         median); print both and the ratio
  --pin / --no-pin       run the 1-thread children pinned (taskset) to the CPU a short calibration before each
                         shape finds fastest: on VMs whose vCPUs differ in speed, a fresh process is otherwise
                         fast or slow by where the OS puts it (Linux with taskset only)      default on
  --p P                  pRMSNorm fraction                               default 0.0625
  --json                 print the records as JSON on stdout instead of the table
  --out FILE             also write FILE.json and FILE.csv (a .json/.csv ending is replaced by both)
  --webgpu               instead: GB/s of rmsnorm/webgpu on the first WebGPU adapter (a software adapter is
                         named, without figures)   shapes from --shapes, default 1024x4096,16384x1024
  --help                 this text`;

function list(name: string, value: string): string[] {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new UsageError(`--${name} needs a comma-separated list, got '${value}'`);
  return items;
}

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got '${value}'`);
  return n;
}

function positiveNumber(name: string, value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`--${name} must be a positive number, got '${value}'`);
  return n;
}

/**
 * Parse `rmsnorm bench` arguments.
 * @example parseBenchArgs(['--shapes', '32x768', '--ops', 'rms']).shapes // [[32, 768]]
 */
export function parseBenchArgs(argv: string[]): BenchOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      allowNegative: true,
      options: {
        shapes: { type: 'string' },
        ops: { type: 'string' },
        directions: { type: 'string' },
        peers: { type: 'boolean', default: true },
        threads: { type: 'string' },
        reps: { type: 'string' },
        rounds: { type: 'string' },
        budget: { type: 'string' },
        'max-call': { type: 'string' },
        repeat: { type: 'string' },
        'check-isolated': { type: 'boolean', default: false },
        pin: { type: 'boolean', default: true },
        p: { type: 'string' },
        json: { type: 'boolean', default: false },
        out: { type: 'string' },
        webgpu: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]);
  }
  const v = parsed.values;
  const shapes = v.shapes === undefined ? DEFAULT_SHAPES : list('shapes', v.shapes).map((s): [number, number] => {
    const m = /^(\d+)[x×*](\d+)$/.exec(s);
    if (m === null || Number(m[1]) < 1 || Number(m[2]) < 1) {
      throw new UsageError(`--shapes entries must look like 32x768 (rows x cols, positive), got '${s}'`);
    }
    return [Number(m[1]), Number(m[2])];
  });
  const ops = v.ops === undefined ? (Object.values(OP_NAMES)) : list('ops', v.ops).map((o) => {
    const op = OP_NAMES[o];
    if (op === undefined) throw new UsageError(`--ops entries must be rms, prms or layer, got '${o}'`);
    return op;
  });
  const directions = v.directions === undefined ? (['forward', 'backward'] as const).slice() : list('directions', v.directions).map((d) => {
    const full = d === 'f' || d === 'fwd' ? 'forward' : d === 'b' || d === 'bwd' ? 'backward' : d;
    if (full !== 'forward' && full !== 'backward') {
      throw new UsageError(`--directions entries must be forward or backward, got '${d}'`);
    }
    return full;
  });
  const threads = v.threads === undefined ? [1, 2] : list('threads', v.threads).map((t) => {
    const n = positiveInt('threads', t);
    if (n > 2) throw new UsageError(`--threads supports 1 and 2 (one worker), got '${t}'`);
    return n;
  });
  const p = v.p === undefined ? 0.0625 : positiveNumber('p', v.p);
  if (p > 1) throw new UsageError(`--p must be in (0, 1], got '${v.p}'`);
  return {
    shapes,
    ops: [...new Set(ops)],
    directions: [...new Set(directions)],
    peers: v.peers,
    threads: [...new Set(threads)].sort(),
    reps: v.reps === undefined ? 21 : positiveInt('reps', v.reps),
    rounds: v.rounds === undefined ? 5 : positiveInt('rounds', v.rounds),
    budgetMs: v.budget === undefined ? 1000 : positiveNumber('budget', v.budget),
    maxCallMs: v['max-call'] === undefined ? 2500 : positiveNumber('max-call', v['max-call']),
    repeat: v.repeat === undefined ? 1 : positiveInt('repeat', v.repeat),
    checkIsolated: v['check-isolated'],
    pin: v.pin,
    p,
    json: v.json,
    out: v.out ?? null,
    webgpu: v.webgpu,
    help: v.help,
  };
}
