// The package as a user gets it: `npm pack` (size and contents of the tarball), installed into a fresh project
// offline (the optional tfjs peers linked from the repository's node_modules, which `npm ci` filled), then every
// code block of the README's library sections and every command of the `rmsnorm` bin run from the installed copy.
// Numbers the examples compute are checked against the float64 reference (src/reference), never against the code
// under test. A README block without a runner here fails the test, so new examples get run too.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { transformSync } from 'esbuild';
import {
  addRmsNormBackwardRef, addRmsNormRef, decodeArray, layerNormRef, rmsNormBackwardRef, rmsNormRef,
} from '../src/reference/index.js';

const PKG = fileURLToPath(new URL('..', import.meta.url));
const ROOT = join(PKG, '..', '..');
const MAX_PACKED_BYTES = 600 * 1024;
const README = readFileSync(join(PKG, 'README.md'), 'utf8');

/** Newest modification time of the files under dir whose name passes keep (0 when none). */
function newest(dir: string, keep: (name: string) => boolean): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p, keep));
    else if (keep(e.name)) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/** `npm ci` builds dist/ (prepare); after local source edits without a rebuild, compile it again first. */
function ensureFreshDist(): void {
  const src = newest(join(PKG, 'src'), (n) => n.endsWith('.ts'));
  const dist = existsSync(join(PKG, 'dist', 'index.js')) ? statSync(join(PKG, 'dist', 'index.js')).mtimeMs : 0;
  if (dist >= src) return;
  try {
    execFileSync('npm', ['run', 'build:ts'], { cwd: PKG, stdio: 'ignore' });
  } catch {
    // tsc still emits on type errors (the typecheck reports those); a broken build fails the examples below
  }
}

/** Runs a command; resolves with its exit code and output (never rejects on a non-zero exit). */
function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The ```ts / ```js blocks of the README between `## Library` and the next section after the tfjs plug-in. */
function libraryBlocks(readme: string): string[] {
  const start = readme.indexOf('\n## Library');
  const end = readme.indexOf('\n## Licence');
  assert.ok(start > 0 && end > start, 'README has a ## Library … ## Licence part');
  return [...readme.slice(start, end).matchAll(/```(?:ts|js)\n([\s\S]*?)```/g)].map((m) => m[1]);
}

/** |got − want| ≤ tol·max(1, |want|) elementwise. */
function assertClose(name: string, got: ArrayLike<number>, want: ArrayLike<number>, tol = 2e-6): void {
  assert.equal(got.length, want.length, `${name}: length`);
  for (let i = 0; i < want.length; i++) {
    const ok = Math.abs(got[i] - want[i]) <= tol * Math.max(1, Math.abs(want[i]));
    assert.ok(ok, `${name}[${i}] = ${got[i]}, float64 reference ${want[i]}`);
  }
}

type Out = Record<string, number[] | number | string>;

/**
 * How one README block runs: `marker` identifies it (a line it contains), `setup` defines what the block takes
 * from its surrounding prose, `inject` adds a line after a given line (for blocks that free their buffers),
 * `report` prints what `verify` checks (one JSON line on stdout).
 */
interface Example {
  marker: string;
  setup?: string;
  inject?: { after: string; code: string };
  report: string;
  verify(out: Out): void;
}

const EXAMPLES: Example[] = [
  {
    marker: "const { dx, dgamma } = rmsNormBackward(dy, x, rstd, cols, { gamma });",
    report: 'JSON.stringify({ x: [...x], gamma: [...gamma], y: [...y], rstd: [...rstd], dx: [...dx], dgamma: [...dgamma], ' +
      'prms: [...prms.y], ln: [...ln.y], lnMean: [...ln.mean], lnRstd: [...ln.rstd] })',
    verify(o) {
      const x = o.x as number[];
      const gamma = o.gamma as number[];
      const ref = rmsNormRef(x, 4, { gamma });
      assertClose('y', o.y as number[], ref.y);
      assertClose('rstd', o.rstd as number[], ref.rstd);
      const back = rmsNormBackwardRef(new Array(x.length).fill(1), x, 4, { gamma });
      assertClose('dx', o.dx as number[], back.dx);
      assertClose('dgamma', o.dgamma as number[], back.dgamma!);
      assertClose('prms.y', o.prms as number[], rmsNormRef(x, 4, { k: 1 }).y); // ⌈0.0625·4⌉ = 1
      const ln = layerNormRef(x, 4, { gamma, beta: [0, 0, 0, 0] });
      assertClose('ln.y', o.ln as number[], ln.y);
      assertClose('ln.mean', o.lnMean as number[], ln.mean);
      assertClose('ln.rstd', o.lnRstd as number[], ln.rstd);
    },
  },
  {
    marker: 'const stream = new Float32Array(rows * cols);',
    setup: 'const rows = 2, cols = 4;\n' +
      'const attnOut = new Float32Array([0.5, -1, 2, 3, 1, 1, -2, 0.25]);\n' +
      'const gamma = new Float32Array([1, 0.5, 2, -1]);\n' +
      'const dy = new Float32Array([1, 2, 3, 4, -1, -2, -3, -4]);\n' +
      'const dh = new Float32Array(8).fill(0.5);\n',
    report: 'JSON.stringify({ attnOut: [...attnOut], gamma: [...gamma], dy: [...dy], dh: [...dh], stream: [...stream], ' +
      'y: [...y], rstd: [...rstd], dx: [...dx], dgamma: [...dgamma] })',
    verify(o) {
      const zeros = new Array(8).fill(0);
      const gamma = o.gamma as number[];
      const ref = addRmsNormRef(o.attnOut as number[], zeros, 4, { gamma });
      assertClose('stream (h += attnOut)', o.stream as number[], ref.sum, 0);
      assertClose('y', o.y as number[], ref.y);
      assertClose('rstd', o.rstd as number[], ref.rstd);
      const back = addRmsNormBackwardRef(o.dy as number[], o.dh as number[], ref.sum, 4, { gamma });
      assertClose('dx', o.dx as number[], back.dx);
      assertClose('dgamma', o.dgamma as number[], back.dgamma!);
    },
  },
  {
    marker: "const { y } = rmsNorm(x16, cols, { gamma, dtype: 'float16' });",
    setup: "import { rmsNorm } from 'rmsnorm';\nconst rows = 2, cols = 4;\nconst gamma = new Float32Array([1, 0.5, 2, -1]);\n",
    report: 'JSON.stringify({ type: y.constructor.name, x16: [...x16], gamma: [...gamma], y: [...y] })',
    verify(o) {
      assert.equal(o.type, 'Uint16Array');
      const x = decodeArray(Uint16Array.from(o.x16 as number[]), 'float16');
      const want = rmsNormRef(x, 4, { gamma: o.gamma as number[] }).y;
      // binary16 has 11 significant bits: the correctly rounded result is within half an ulp (2^-11 relative)
      assertClose('y (float16)', decodeArray(Uint16Array.from(o.y as number[]), 'float16'), want, 2 ** -11);
    },
  },
  {
    marker: 'const x = allocFloat32(rows * cols);',
    inject: {
      after: 'rmsNorm(x, cols, { out: { y, rstd } });',
      code: 'const probe = { x: [...x.subarray(0, 8)], y: [...y.subarray(0, 8)], ' +
        'yLast: [...y.subarray(y.length - 8)], xLast: [...x.subarray(x.length - 8)], rstd0: rstd[0], rows: rstd.length };',
    },
    report: 'JSON.stringify(probe)',
    verify(o) {
      assert.equal(o.rows, 16384);
      const head = rmsNormRef(o.x as number[], 8).y; // a constant row: every 8 values have the row's mean square
      assertClose('y (first values)', o.y as number[], head);
      assertClose('y (last values)', o.yLast as number[], rmsNormRef(o.xLast as number[], 8).y);
      assertClose('rstd[0]', [o.rstd0 as number], rmsNormRef(o.x as number[], 8).rstd);
    },
  },
  {
    marker: "await initTfjsWasm();",
    report: 'JSON.stringify({ backend: tf.getBackend(), shape: y.shape, y: [...await y.data()], ' +
      'predict: model.predict(tf.ones([2, 32])).shape, rnn: rnn.apply(tf.ones([2, 3, 5])).shape })',
    verify(o) {
      assert.equal(o.backend, 'wasm');
      assert.deepEqual(o.shape, [8, 64]);
      assert.deepEqual(o.predict, [2, 10]);
      assert.deepEqual(o.rnn, [2, 3, 128]);
      // p = 0.0625 of 64 columns: k = 4, so each row's first 4 outputs have mean square ms/(ms + eps) ≈ 1
      const y = o.y as number[];
      for (let r = 0; r < 8; r++) {
        let ms = 0;
        for (let j = 0; j < 4; j++) ms += y[r * 64 + j] ** 2 / 4;
        assert.ok(Math.abs(ms - 1) < 1e-3, `row ${r}: mean square of the first k outputs ${ms}, expected ≈ 1`);
      }
    },
  },
];

/** The runnable module for one README block: setup + block (+ injected line) + report, types stripped. */
function moduleFor(block: string, ex: Example): string {
  let body = block;
  if (ex.inject !== undefined) {
    assert.ok(body.includes(ex.inject.after), `README block still contains: ${ex.inject.after}`);
    body = body.replace(ex.inject.after, `${ex.inject.after}\n${ex.inject.code}`);
  }
  const source = `${ex.setup ?? ''}${body}\nconsole.log(${ex.report});\n`;
  return transformSync(source, { loader: 'ts', format: 'esm', target: 'node20' }).code;
}

describe('installed package (npm pack → npm install → README examples and CLI)', () => {
  let tmp = '';
  let app = '';
  let pack: { filename: string; size: number; files: Array<{ path: string }> };

  before(() => {
    ensureFreshDist();
    tmp = mkdtempSync(join(tmpdir(), 'rmsnorm-installed-'));
    const json = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], {
      cwd: PKG, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'],
    });
    pack = JSON.parse(json)[0];
    app = join(tmp, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', join(tmp, pack.filename)], {
      cwd: app, stdio: 'ignore',
    });
    // the optional peers as a user would add them; `npm ci` put them in the repository's node_modules
    const tfjsScope = join(ROOT, 'node_modules', '@tensorflow');
    assert.ok(existsSync(join(tfjsScope, 'tfjs')), `${tfjsScope}/tfjs exists (run npm ci first)`);
    symlinkSync(tfjsScope, join(app, 'node_modules', '@tensorflow'), 'dir');
  });

  after(() => {
    if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
  });

  it(`tarball ≤ ${MAX_PACKED_BYTES / 1024} KB packed, with only the library's build, docs, README and LICENSE`, () => {
    assert.ok(pack.size <= MAX_PACKED_BYTES, `packed size ${pack.size} bytes > ${MAX_PACKED_BYTES}`);
    const paths = pack.files.map((f) => f.path);
    for (const p of paths) {
      assert.match(p, /^(dist\/|docs\/|README\.md$|LICENSE$|package\.json$)/, `unexpected file in the tarball: ${p}`);
      assert.doesNotMatch(p, /\.map$|\.tsbuildinfo$|(^|\/)(data|experiments|report|bench|src|test|assembly)\//, `should not ship: ${p}`);
      if (p.startsWith('dist/')) {
        // every compiled file comes from a current source file (no stale leftovers of moved code)
        const src = join(PKG, 'src', p.slice(5).replace(/\.d\.ts$|\.js$/, '.ts'));
        assert.ok(existsSync(src), `${p} has no source ${relative(PKG, src)}`);
      }
    }
    const manifest = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8'));
    const targets = [manifest.bin.rmsnorm, ...Object.values(manifest.exports as Record<string, string | Record<string, string>>)
      .flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e)))];
    for (const t of targets) assert.ok(paths.includes(t.replace(/^\.\//, '')), `exported file missing from the tarball: ${t}`);
  });

  it('installs with no runtime dependency', () => {
    const installed = JSON.parse(readFileSync(join(app, 'node_modules', 'rmsnorm', 'package.json'), 'utf8'));
    assert.deepEqual(installed.dependencies ?? {}, {});
    assert.deepEqual(readdirSync(join(app, 'node_modules')).filter((n) => !n.startsWith('.')).sort(), ['@tensorflow', 'rmsnorm']);
  });

  it('every README library example has a runner and the root README shows the same blocks', () => {
    const blocks = libraryBlocks(README);
    for (const b of blocks) {
      const n = EXAMPLES.filter((e) => b.includes(e.marker)).length;
      assert.equal(n, 1, `README block needs exactly one runner in this test (has ${n}):\n${b}`);
    }
    assert.equal(blocks.length, EXAMPLES.length, 'a runner whose README block is gone');
    const root = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const b of blocks) assert.ok(root.includes(b), `root README lacks the package README block:\n${b}`);
  });

  for (const ex of EXAMPLES) {
    it(`README example runs from the installed copy: ${ex.marker}`, async () => {
      const block = libraryBlocks(README).find((b) => b.includes(ex.marker));
      assert.ok(block !== undefined, `README block with: ${ex.marker}`);
      const file = join(app, `example-${EXAMPLES.indexOf(ex)}.mjs`);
      writeFileSync(file, moduleFor(block, ex));
      const r = await run(process.execPath, [file], app);
      assert.equal(r.code, 0, `exit code ${r.code}\n${r.stderr}`);
      const line = r.stdout.trim().split('\n').pop() ?? '';
      ex.verify(JSON.parse(line) as Out);
    });
  }

  // Node ≥ 20.19 / 22.12 can require() ES modules (process.features.require_module); the README promises it works
  const canRequireEsm = (process.features as { require_module?: boolean }).require_module === true;
  it('require() loads every entry from CommonJS where Node can require ES modules', { skip: !canRequireEsm && 'this Node cannot require() ES modules' }, async () => {
    const script = "const r = require('rmsnorm'); const { y } = r.rmsNorm(new Float32Array([3, 4, 1, -1]), 2);" +
      "const entries = ['rmsnorm/tfjs', 'rmsnorm/tfjs/node', 'rmsnorm/webgpu'].map((e) => Object.keys(require(e)).length);" +
      'console.log(JSON.stringify({ y: [...y], entries }));';
    writeFileSync(join(app, 'require.cjs'), script);
    const r = await run(process.execPath, [join(app, 'require.cjs')], app);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
    assertClose('y', out.y, rmsNormRef([3, 4, 1, -1], 2).y);
    for (const n of out.entries) assert.ok(n > 0, 'entry exports something');
  });

  const bin = () => join(app, 'node_modules', '.bin', 'rmsnorm');
  const version = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8')).version as string;

  it('rmsnorm check: Table 1 and the self-test pass (text and --json); --help', async () => {
    const text = await run(bin(), ['check'], app);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /self-test: all \d+ cases within tolerance/);
    assert.match(text.stdout, /check: OK/);
    const json = await run(bin(), ['check', '--json', '--backend', 'js'], app);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(JSON.parse(json.stdout).ok, true);
    const help = await run(bin(), ['check', '--help'], app);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: rmsnorm check/);
  });

  it('rmsnorm info (text and --json); --help', async () => {
    const text = await run(bin(), ['info'], app);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`version\\s+${version.replace(/\./g, '\\.')}`));
    assert.match(text.stdout, /backends\s+.*\bjs\b/);
    const json = await run(bin(), ['info', '--json'], app);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(JSON.parse(json.stdout).version, version);
    const help = await run(bin(), ['info', '--help'], app);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: rmsnorm info/);
  });

  it('rmsnorm --help lists the commands; no command or an unknown one exits 2 with a reason', async () => {
    const help = await run(bin(), ['--help'], app);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /check/);
    assert.match(help.stdout, /info/);
    const none = await run(bin(), [], app);
    assert.equal(none.code, 2);
    const bad = await run(bin(), ['frobnicate'], app);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown command 'frobnicate' \(expected one of: check, info\)/);
  });
});
