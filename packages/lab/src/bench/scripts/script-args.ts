// The command-line flags of the bench scripts in this folder (`--name value`), parsed the same way in each.

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

