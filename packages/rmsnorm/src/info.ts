// `rmsnorm info`: version, the backends that can run here, and the machine (for bug reports and bench records).
import { cpus } from 'node:os';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { availableBackends } from './index.js';

export async function run(argv: string[]): Promise<number> {
  let values: { json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    console.error(`rmsnorm info: ${(err as Error).message}`);
    return 2;
  }
  if (values.help) {
    console.log('usage: rmsnorm info [--json]\n\nPrints the version, the kernel backends available here and the machine.');
    return 0;
  }
  const pkg = createRequire(import.meta.url)('../package.json') as { version: string };
  const info = {
    version: pkg.version,
    backends: availableBackends(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    simd: WebAssembly.validate(
      // (module (func (result v128) (v128.const i32x4 0 0 0 0)))
      new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11]),
    ),
  };
  if (values.json) console.log(JSON.stringify(info, null, 2));
  else for (const [key, value] of Object.entries(info)) console.log(`${key.padEnd(9)} ${Array.isArray(value) ? value.join(', ') : value}`);
  return 0;
}
