// Crash safety of the reproduction: damaged checkpoints fall back (previous checkpoint, else a clean restart) and
// still give the uninterrupted run's exact curve; a full disk (ENOSPC, injected) stops with a one-line reason, leaves
// no temporary files and stays resumable; an existing --out is not silently replaced; --resume names conflicting flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFileIo, StorageError, writeAtomic, type FileIo } from '../src/experiments/atomic-write.js';
import { executeRun, RunKilled } from '../src/experiments/runner.js';
import { openCheckpoint, parseLog, runFiles, sealCheckpoint } from '../src/experiments/run-store.js';
import { getTask } from '../src/experiments/tasks/index.js';
import type { RunSpec } from '../src/experiments/tasks/task.js';

function spec(steps: number): RunSpec {
  const settings = { ...getTask('char-lm').settings('tiny'), steps, evalEvery: 3 };
  return { id: 'char-lm.rms.s3', task: 'char-lm', variant: 'rms', seed: 3, group: 'main', settings };
}

function tempFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((n) => /\.tmp-\d+$/.test(n)) : [];
}

const enospc = (path: string) => Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC' });

test('writeAtomic on a full disk: StorageError naming the file, old content kept, no temporary file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rmsnorm-atomic-'));
  const file = join(dir, 'a.json');
  try {
    writeFileSync(file, 'old');
    // The disk fills up half-way through the temporary file.
    const prev = setFileIo({
      writeFileSync: (p, d) => {
        writeFileSync(p, d.slice(0, 2));
        throw enospc(p);
      },
      appendFileSync: () => {},
      renameSync: () => {},
    });
    try {
      assert.throws(() => writeAtomic(file, 'new content'), (err: unknown) => {
        assert.ok(err instanceof StorageError);
        assert.equal(err.code, 'ENOSPC');
        assert.ok(!err.message.includes('\n') && err.message.includes(file) && err.message.includes('no space left'), err.message);
        return true;
      });
    } finally {
      setFileIo(prev);
    }
    assert.equal(readFileSync(file, 'utf8'), 'old');
    assert.deepEqual(tempFiles(dir), []);
    // Other errors are not storage errors and pass through unchanged.
    setFileIo({ ...prev, renameSync: () => { throw Object.assign(new Error('EACCES'), { code: 'EACCES' }); } });
    try {
      assert.throws(() => writeAtomic(file, 'x'), (err: unknown) => !(err instanceof StorageError) && (err as Error).message === 'EACCES');
    } finally {
      setFileIo(null);
    }
    assert.deepEqual(tempFiles(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sealed checkpoints: a truncated or altered body is detected', () => {
  const sealed = sealCheckpoint(JSON.stringify({ step: 4, data: 'x'.repeat(1000) }));
  assert.ok('body' in openCheckpoint(sealed));
  assert.match((openCheckpoint(sealed.slice(0, sealed.length >> 1)) as { damaged: string }).damaged, /truncated/);
  assert.match((openCheckpoint(sealed.replace('xxxx', 'xxxy')) as { damaged: string }).damaged, /SHA-256/);
  assert.match((openCheckpoint('{"step": 4, "vars": [') as { damaged: string }).damaged, /not a valid checkpoint/);
});

test('logs: torn lines dropped, records after the checkpoint step dropped, duplicated records kept once in step order', () => {
  const lines = ['{"step":1,"loss":3}', '{"step":2,"loss":2}', '{"step":1,"loss":3}', '{"step":3,"loss":1}', '{"step":4,"lo'];
  assert.deepEqual(parseLog<{ step: number; loss: number }>(lines, 2), [{ step: 1, loss: 3 }, { step: 2, loss: 2 }]);
  assert.deepEqual(parseLog<{ step: number }>(lines.join('\n'), 10).map((r) => r.step), [1, 2, 3]);
});

test('a checkpoint cut in half: resume falls back to the previous one, then to a clean restart, same curve', async () => {
  const whole = mkdtempSync(join(tmpdir(), 'rmsnorm-ck-whole-'));
  const cut = mkdtempSync(join(tmpdir(), 'rmsnorm-ck-cut-'));
  try {
    const s = spec(7);
    const ref = await executeRun(s, whole, { checkpointEvery: 2 });
    // Killed after step 5: checkpoint at step 4, the previous one at step 2.
    await assert.rejects(executeRun(s, cut, { checkpointEvery: 2, killAfterStep: 5 }), RunKilled);
    const f = runFiles(cut, s.id);
    truncateSync(f.checkpoint, Math.floor(readFileSync(f.checkpoint).length / 2));
    const notes: string[] = [];
    const resumed = await executeRun(s, cut, { checkpointEvery: 2, resume: true, onNotice: (m) => notes.push(m) });
    assert.match(notes.join('\n'), /ckpt\.json is unusable: truncated/);
    assert.match(notes.join('\n'), /previous checkpoint .*ckpt\.prev\.json \(step 2\)/);
    assert.deepEqual(resumed.steps.map((r) => r.loss), ref.steps.map((r) => r.loss));
    assert.deepEqual(resumed.final, ref.final);

    // Both checkpoints damaged: the run restarts from step 0 and says so.
    await assert.rejects(executeRun(s, cut, { checkpointEvery: 2, killAfterStep: 5 }), RunKilled);
    truncateSync(f.checkpoint, 100);
    writeFileSync(f.previousCheckpoint, 'garbage');
    const notes2: string[] = [];
    const restarted = await executeRun(s, cut, { checkpointEvery: 2, resume: true, onNotice: (m) => notes2.push(m) });
    assert.match(notes2.join('\n'), /restarting this run from step 0/);
    assert.deepEqual(restarted.steps.map((r) => r.step), [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(restarted.steps.map((r) => r.loss), ref.steps.map((r) => r.loss));
  } finally {
    rmSync(whole, { recursive: true, force: true });
    rmSync(cut, { recursive: true, force: true });
  }
});

test('disk full mid-run: StorageError, no temporary files, and --resume continues to the same curve', async () => {
  const whole = mkdtempSync(join(tmpdir(), 'rmsnorm-full-whole-'));
  const cut = mkdtempSync(join(tmpdir(), 'rmsnorm-full-cut-'));
  try {
    const s = spec(7);
    const ref = await executeRun(s, whole, { checkpointEvery: 2 });
    let checkpoints = 0;
    const real: FileIo = setFileIo(null);
    setFileIo({
      ...real,
      writeFileSync: (p, d) => {
        // The second checkpoint (step 4) finds the disk full.
        if (p.includes('.ckpt.json') && ++checkpoints === 2) {
          real.writeFileSync(p, d.slice(0, d.length >> 1));
          throw enospc(p);
        }
        real.writeFileSync(p, d);
      },
    });
    try {
      await assert.rejects(executeRun(s, cut, { checkpointEvery: 2 }), (err: unknown) => err instanceof StorageError && /ckpt\.json: ENOSPC/.test(err.message));
    } finally {
      setFileIo(null);
    }
    assert.deepEqual(tempFiles(runFiles(cut, s.id).dir), []);
    const resumed = await executeRun(s, cut, { checkpointEvery: 2, resume: true });
    assert.deepEqual(resumed.steps.map((r) => r.loss), ref.steps.map((r) => r.loss));
    assert.deepEqual(resumed.final, ref.final);
  } finally {
    rmSync(whole, { recursive: true, force: true });
    rmSync(cut, { recursive: true, force: true });
  }
});

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'reproduce', ...args], {
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('npm warn')) };
}

test('an existing --out is refused without --resume/--force; --resume names conflicting flags', () => {
  const out = mkdtempSync(join(tmpdir(), 'rmsnorm-out-'));
  try {
    const manifest = { version: 1, preset: 'tiny', tasks: ['cnn'], seeds: 1, startedAt: new Date().toISOString(), runs: [] };
    writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest));
    const r = cli(['--preset', 'tiny', '--tasks', 'cnn', '--out', out]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.length, 1, r.stderr.join('\n'));
    assert.match(r.stderr[0], /already holds a reproduction: continue it with --resume, or pass --force/);
    assert.equal(readFileSync(join(out, 'manifest.json'), 'utf8'), JSON.stringify(manifest));

    const c = cli(['--resume', '--out', out, '--preset', 'quick', '--seeds', '3', '--tasks', 'cnn']);
    assert.equal(c.code, 2);
    assert.equal(c.stderr.length, 1, c.stderr.join('\n'));
    assert.match(c.stderr[0], /--resume continues the plan recorded in .*manifest\.json; --preset quick \(recorded: tiny\), --seeds 3 \(recorded: 1\) differ/);
    assert.ok(!c.stderr[0].includes('--tasks'), 'matching --tasks is not a conflict');

    writeFileSync(join(out, 'manifest.json'), '{"version": 1, "pre');
    const d = cli(['--resume', '--out', out]);
    assert.equal(d.code, 2);
    assert.match(d.stderr[0], /manifest\.json is unreadable \(/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('reproduce on a full disk stops with one line, no temporary files, and --resume finishes', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'rmsnorm-enospc-')), 'out');
  mkdirSync(out);
  try {
    // Every checkpoint of cnn.rms fails half-way (the worker's disk is full); the sweep stops, the rest is resumable.
    const r = cli(['--preset', 'tiny', '--tasks', 'cnn', '--out', out, '--jobs', '2'], { RMSNORM_TEST_FAIL_WRITES: 'cnn\\.rms\\.s1\\.ckpt\\.json$' });
    assert.equal(r.code, 1, r.stderr.join('\n'));
    const reason = r.stderr.filter((l) => l.startsWith('rmsnorm reproduce: stopped:'));
    assert.equal(reason.length, 1, r.stderr.join('\n'));
    assert.match(reason[0], /cnn\.rms\.s1\.ckpt\.json: ENOSPC \(no space left on device\); free space, then continue with: rmsnorm reproduce --resume --out /);
    assert.ok(!r.stderr.some((l) => /^\s+at /.test(l)), `no stack trace:\n${r.stderr.join('\n')}`);
    assert.match(r.stdout, /stopped cnn\.rms\.s1: cannot write/);
    assert.ok(!r.stdout.includes('FAILED'), r.stdout);
    for (const d of [out, join(out, 'runs'), join(out, 'timing')]) assert.deepEqual(tempFiles(d), [], d);
    assert.ok(!existsSync(join(out, 'results.json')));

    const again = cli(['--resume', '--out', out]);
    assert.equal(again.code, 0, again.stderr.join('\n'));
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { runs: Array<{ steps: unknown[] }> };
    assert.equal(results.runs.length, 5);
    assert.ok(results.runs.every((x) => x.steps.length === 3));
  } finally {
    rmSync(join(out, '..'), { recursive: true, force: true });
  }
});
