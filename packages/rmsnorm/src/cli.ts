#!/usr/bin/env node
// The `rmsnorm` command: check | info. Each subcommand lives in its own module and returns an
// exit code; bad usage prints a one-line reason and exits non-zero.

const USAGE = `usage: rmsnorm <command> [options]

commands:
  check       live invariance table (paper Table 1) and a correctness self-test against the float64 reference
  info        version, backends available here, machine

Run 'rmsnorm <command> --help' for the options of one command.`;

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  check: async () => (await import('./check/command.js')).run,
  info: async () => (await import('./info.js')).run,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (load === undefined) {
    if (["reproduce","bench"].includes(name)) {
      console.error(`rmsnorm: '${name}' is part of the reproduction app (packages/lab in the repository): npm run ${name} -- …`);
      return 2;
    }
    console.error(`rmsnorm: unknown command '${name}' (expected one of: ${Object.keys(COMMANDS).join(', ')})`);
    return 2;
  }
  return (await load())(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`rmsnorm: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
