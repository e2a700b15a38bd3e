// Build the demo page into a folder: demo/main.ts bundled for the browser with esbuild, index.html, and tfjs's
// wasm binaries (the page's tfjs baseline loads them from ./tfjs-wasm/ via setWasmPaths).
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const DEMO = dirname(fileURLToPath(import.meta.url));
const ROOT = join(DEMO, '..');
export const DEFAULT_OUT = join(DEMO, 'dist'); // gitignored (dist/)

/**
 * `demo/webgpu.ts` imports the core WebGPU entry (src/webgpu/index.ts); in a checkout without it the import resolves
 * to a stub that says WebGPU is not in this build, so the page builds either way.
 */
const webgpuCore: Plugin = {
  name: 'webgpu-core',
  setup(b) {
    b.onResolve({ filter: /\/src\/webgpu\/index\.js$/ }, (args) => {
      const core = join(ROOT, 'src', 'webgpu', 'index.ts');
      if (args.importer !== join(DEMO, 'webgpu.ts') || existsSync(core)) return undefined;
      return { path: join(DEMO, 'webgpu-stub.ts') };
    });
  },
};

/**
 * Bundle the page into `outDir` (created if absent) and return it.
 * @example const dir = await buildDemo(); // then startDemoServer({ dir })
 */
export async function buildDemo(outDir: string = DEFAULT_OUT): Promise<string> {
  if (!existsSync(join(ROOT, 'src', 'backends', 'wasm', 'generated', 'norm.ts'))) {
    throw new Error('the wasm kernels are not built: run `npm run build:wasm` first');
  }
  mkdirSync(join(outDir, 'tfjs-wasm'), { recursive: true });
  await build({
    entryPoints: [join(DEMO, 'main.ts')],
    outfile: join(outDir, 'main.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    logLevel: 'warning',
    plugins: [webgpuCore],
  });
  copyFileSync(join(DEMO, 'index.html'), join(outDir, 'index.html'));
  const require = createRequire(import.meta.url);
  const wasmDist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  for (const f of readdirSync(join(wasmDist, 'dist'))) {
    if (f.endsWith('.wasm')) copyFileSync(join(wasmDist, 'dist', f), join(outDir, 'tfjs-wasm', f));
  }
  return outDir;
}
