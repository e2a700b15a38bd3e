// `rmsnorm reproduce`'s help text and argument parser. Loads no training code (no tfjs), so --help and usage errors
// work before the peers are checked.
import { parseArgs } from 'node:util';
import type { PresetName } from './tasks/task.js';
import { TASK_NAMES } from './tasks/names.js';

export const HELP = `usage: rmsnorm reproduce [options]

Train small models without normalisation and with LayerNorm, RMSNorm, pRMSNorm and L2-Norm on real data
(Moby Dick, KJV→RV1909 verse pairs, Fashion-MNIST), then write a report that answers the paper's claims.

options:
  --preset NAME         quick (default): 4 tasks × 3 seeds, ≈ 8 min on 2 quiet cores; standard: 5 seeds, longer runs,
                        shifted-init dose-response, ≈ 1 h; full: + cloze, larger models, ≈ 5 h; tiny: 3 steps (tests)
  --tasks a,b           subset of: ${TASK_NAMES.join(', ')} (cloze runs in the full preset only unless named)
  --seeds N             seeds per variant (default: the preset's)
  --out DIR             output directory (default results/<timestamp>/)
  --resume              continue the run in --out (default: the newest results/*/): finished runs are kept,
                        interrupted ones continue from their last checkpoint
  --force               start over in an --out that already holds a reproduction (its runs are deleted)
  --jobs N              worker processes (default: one per core)
  --queue URL           train on BullMQ workers (npm run worker -- --queue URL) instead of local processes;
                        URL = redis://HOST:PORT; with --resume, reattaches to the sweep's jobs (docs/queue.md)
  --json                print the summaries and claims as JSON on stdout (progress goes to stderr)
  --help                this text`;

export class UsageError extends Error {}

export interface Parsed {
  preset: PresetName;
  tasks?: string[];
  seeds?: number;
  out?: string;
  resume: boolean;
  force: boolean;
  /** redis:// URL of the BullMQ queue (--queue), or undefined for local worker processes. */
  queue?: string;
  /** Options given explicitly (checked against the manifest on --resume). */
  given: { preset: boolean };
  jobs?: number;
  json: boolean;
  help: boolean;
}

function queueUrl(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (!/^rediss?:\/\/[^/\s]+/.test(v)) throw new UsageError(`--queue: expected redis://HOST:PORT, got '${v}'`);
  return v;
}

/**
 * `--jobs -1` as `--jobs=-1` for the options in `numeric`: parseArgs would call '-1' an ambiguous flag, not a bad
 * value. Shared with the queue worker's parser.
 */
export function joinNegativeValues(argv: string[], numeric: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (numeric.has(argv[i]) && /^-[\d.]/.test(argv[i + 1] ?? '')) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

/** A whole number written as plain digits (Number() would also take '0x10', '1e3', ' 2' and '2.0'), else NaN. */
export function digitsInt(v: string): number {
  return /^[0-9]+$/.test(v) ? Number(v) : NaN;
}

const NUMERIC = new Set(['--seeds', '--jobs']);

export function parse(argv: string[]): Parsed {
  let values;
  try {
    ({ values } = parseArgs({
      args: joinNegativeValues(argv, NUMERIC),
      options: {
        preset: { type: 'string' },
        tasks: { type: 'string' },
        seeds: { type: 'string' },
        out: { type: 'string' },
        resume: { type: 'boolean' },
        force: { type: 'boolean' },
        jobs: { type: 'string' },
        json: { type: 'boolean' },
        queue: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]);
  }
  const preset = values.preset ?? 'quick';
  if (preset !== 'quick' && preset !== 'standard' && preset !== 'full' && preset !== 'tiny') throw new UsageError(`--preset: expected quick, standard, full or tiny, got '${preset}'`);
  const known: readonly string[] = TASK_NAMES;
  let tasks: string[] | undefined;
  if (values.tasks !== undefined) {
    tasks = values.tasks.split(',').map((t) => t.trim()).filter((t) => t !== '');
    const bad = tasks.filter((t) => !known.includes(t));
    if (bad.length > 0 || tasks.length === 0) throw new UsageError(`--tasks: unknown task '${bad[0] ?? values.tasks}' (expected some of: ${known.join(', ')})`);
  }
  const int = (name: string, v: string | undefined, min: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = digitsInt(v);
    if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name}: expected an integer ≥ ${min}, got '${v}'`);
    return n;
  };
  return {
    preset,
    tasks,
    seeds: int('seeds', values.seeds, 1),
    out: values.out,
    resume: values.resume ?? false,
    force: values.force ?? false,
    given: { preset: values.preset !== undefined },
    jobs: int('jobs', values.jobs, 1),
    json: values.json ?? false,
    queue: queueUrl(values.queue),
    help: values.help ?? false,
  };
}

/** The one-line usage error of `argv` as `rmsnorm reproduce` prints it, or null when it parses. */
export function usageError(argv: string[]): string | null {
  try {
    parse(argv);
    return null;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return usageLine(err);
  }
}

export function usageLine(err: UsageError): string {
  return `rmsnorm reproduce: ${err.message} (see --help)`;
}
