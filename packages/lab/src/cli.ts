#!/usr/bin/env node
// The `rmsnorm-lab` command (the reproduction + benchmark app): reproduce | bench | worker. Each subcommand lives in
// its own module and returns an exit code; bad usage prints a one-line reason and exits 2. Before a command's module
// (and with it TF.js, bullmq or ONNX Runtime) is loaded, its --help is answered from a light module and the peers the
// run needs are checked: a missing one exits 2 with the `npm install` line, instead of failing run by run.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { commandPeers, missingPeersMessage, nodeResolver, type Resolver } from './peers.js';

const USAGE = `usage: rmsnorm-lab <command> [options]

commands:
  reproduce   train small models with no norm / LayerNorm / RMSNorm / pRMSNorm / L2-Norm and write a report
  bench       time our kernels against TF.js, ONNX Runtime and the memory-copy ceiling
  worker      train runs that 'reproduce --queue' put on a BullMQ queue (also: npm run worker)

Run 'rmsnorm-lab <command> --help' for the options of one command.
The library's own commands (check, info): npx rmsnorm <command>.`;

type Command = (argv: string[]) => Promise<number>;

interface CommandDef {
  /** The command's help text, from a module that loads no peer. */
  help: () => Promise<string>;
  /** The one-line usage error of argv, from a module that loads no peer (absent: the command reports its own). */
  usageError?: (argv: string[]) => Promise<string | null>;
  /** The command itself (loads its peers). */
  load: () => Promise<Command>;
}

const COMMANDS: Record<string, CommandDef> = {
  reproduce: {
    help: async () => (await import('./experiments/args.js')).HELP,
    usageError: async (argv) => (await import('./experiments/args.js')).usageError(argv),
    load: async () => (await import('./experiments/command.js')).run,
  },
  bench: {
    help: async () => (await import('./bench/args.js')).BENCH_USAGE,
    load: async () => (await import('./bench/command.js')).run,
  },
  worker: {
    help: async () => (await import('./experiments/queue/worker-args.js')).HELP,
    usageError: async (argv) => (await import('./experiments/queue/worker-args.js')).usageError(argv),
    load: async () => (await import('./experiments/queue/worker.js')).main,
  },
};

const wantsHelp = (argv: readonly string[]) => argv.includes('--help') || argv.includes('-h');

/**
 * Run `rmsnorm-lab` with argv; returns the exit code. `resolve` decides whether a peer is installed (tests inject one).
 * @example await main(['reproduce', '--help']); // 0, prints the options
 */
export async function main(argv: string[], resolve: Resolver = nodeResolver): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name === undefined ? 2 : 0;
  }
  const def = COMMANDS[name];
  if (def === undefined) {
    console.error(`rmsnorm-lab: unknown command '${name}' (expected one of: ${Object.keys(COMMANDS).join(', ')})`);
    return 2;
  }
  if (wantsHelp(rest)) {
    console.log(await def.help());
    return 0;
  }
  const bad = (await def.usageError?.(rest)) ?? null;
  if (bad !== null) {
    console.error(bad);
    return 2;
  }
  const missing = missingPeersMessage(name, commandPeers(name, rest), resolve);
  if (missing !== null) {
    console.error(name === 'bench' ? `${missing} (or time ours alone: --no-peers)` : missing);
    return 2;
  }
  return (await def.load())(rest);
}

// Run when executed (tsx src/cli.ts …), not when a test imports main().
const invoked = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === realpathSync(process.argv[1]);
if (invoked) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`rmsnorm-lab: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
