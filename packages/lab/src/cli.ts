#!/usr/bin/env node
// The `rmsnorm-lab` command (the reproduction + benchmark app): reproduce | bench. Each subcommand lives in its own module and returns an
// exit code; bad usage prints a one-line reason and exits non-zero.

const USAGE = `usage: rmsnorm-lab <command> [options]

commands:
  reproduce   train small models with no norm / LayerNorm / RMSNorm / pRMSNorm / L2-Norm and write a report
  bench       time our kernels against TF.js, ONNX Runtime and the memory-copy ceiling

Run 'rmsnorm-lab <command> --help' for the options of one command.
The library's own commands (check, info): npx rmsnorm <command>.`;

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  reproduce: async () => (await import('./experiments/command.js')).run,
  bench: async () => (await import('./bench/command.js')).run,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (load === undefined) {
    console.error(`rmsnorm-lab: unknown command '${name}' (expected one of: ${Object.keys(COMMANDS).join(', ')})`);
    return 2;
  }
  return (await load())(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`rmsnorm-lab: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
