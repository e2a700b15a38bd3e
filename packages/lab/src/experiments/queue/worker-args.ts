// `npm run worker`'s help text and argument parser. Loads neither bullmq nor the training code, so --help and usage
// errors work before the peers are checked.
import { parseArgs } from 'node:util';
import { connectionFromUrl, DEFAULT_LOCK_MS } from './connection.js';
import { digitsInt, joinNegativeValues } from '../args.js';

export const HELP = `usage: npm run worker -- --queue redis://HOST:PORT [options]

Train the runs that \`rmsnorm reproduce --queue\` puts on the queue, on this machine, until stopped (Ctrl-C/SIGTERM).
Checkpoints and step logs go to Redis, so a run whose worker dies is continued by another worker.

options:
  --queue URL           Redis of the queue: redis://[user:password@]host[:port][/db] (required)
  --concurrency N       runs trained at the same time, each in its own process (an integer ≥ 1, default 1;
                        one per core is the most that helps)
  --lock-ms MS          how long a run stays locked to a silent worker before another may take it over
                        (default ${DEFAULT_LOCK_MS}; stalled runs are looked for every MS/2)
  --help                this text`;

export interface WorkerArgs {
  queue: string;
  concurrency: number;
  lockMs: number;
}

/** Options that take a number. */
const NUMERIC = new Set(['--concurrency', '--lock-ms']);

export function parse(argv: string[]): WorkerArgs | 'help' {
  const args = joinNegativeValues(argv, NUMERIC);
  const { values } = parseArgs({
    args,
    options: { queue: { type: 'string' }, concurrency: { type: 'string' }, 'lock-ms': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) return 'help';
  if (!values.queue) throw new RangeError('--queue: expected redis://HOST:PORT');
  connectionFromUrl(values.queue);
  const int = (name: string, v: string | undefined, dflt: number, min: number) => {
    const n = v === undefined ? dflt : digitsInt(v);
    if (!Number.isSafeInteger(n) || n < min) throw new RangeError(`--${name}: expected an integer ≥ ${min}, got '${v}'`);
    return n;
  };
  return { queue: values.queue, concurrency: int('concurrency', values.concurrency, 1, 1), lockMs: int('lock-ms', values['lock-ms'], DEFAULT_LOCK_MS, 500) };
}

/** The one-line usage error of `argv` as the worker prints it, or null when it parses. */
export function usageError(argv: string[]): string | null {
  try {
    parse(argv);
    return null;
  } catch (err) {
    return `rmsnorm worker: ${(err as Error).message.split('\n')[0]} (see --help)`;
  }
}
