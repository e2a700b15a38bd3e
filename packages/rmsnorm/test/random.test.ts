// The one seeded PRNG module (src/check/random.ts). Its streams decide the app's training runs (weight init, batch
// order, data sampling), so they must not drift: the expected values below were printed by the app's own generators
// before they were merged into this module (packages/lab/src/experiments/rng.ts and data/prng.ts at 1bcead9).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng, fillUniform, hashSeed, mulberry32, permutation, Rng } from '../src/check/random.js';

describe('seeded PRNG streams', () => {
  it('xoshiro128** Rng.from(seed, stream): state, uint32s, ints, normal and stream hash as before the merge', () => {
    const r = Rng.from(1, 'data');
    assert.deepEqual(r.getState(), [1280923430, 2069385762, 4100675698, 639052034]);
    assert.deepEqual([r.nextU32(), r.nextU32(), r.nextU32()], [1127743188, 3644252840, 2518428475]);
    assert.deepEqual([r.int(1000), r.int(1000)], [350, 531]);
    assert.equal(Rng.from(3, 'init:W').normal(), 0.10860094083353046);
    assert.equal(hashSeed('init:W'), 1530013940);
  });

  it('Rng state round-trips exactly (checkpoints) and an all-zero state is refused', () => {
    const a = Rng.from(7, 'x');
    a.next();
    const b = new Rng(a.getState());
    assert.deepEqual([a.next(), a.next()], [b.next(), b.next()]);
    assert.throws(() => new Rng([0, 0, 0, 0]), RangeError);
  });

  it('createRng (mulberry32 over seed ^ 0x9e3779b9), permutation and shuffle as before the merge', () => {
    const c = createRng(5);
    assert.deepEqual([c.next(), c.next()], [0.217193350661546, 0.9914532694965601]);
    assert.equal(c.int(100), 75);
    assert.deepEqual(permutation(10, createRng(2)), [3, 8, 2, 0, 1, 4, 7, 6, 9, 5]);
    assert.deepEqual(createRng(9).shuffle([0, 1, 2, 3, 4, 5, 6, 7]), [3, 5, 2, 6, 7, 0, 1, 4]);
    assert.throws(() => createRng(Number.NaN), /seed: expected a finite number, got NaN/);
  });

  it('createRng(seed) is mulberry32 seeded with seed ^ 0x9e3779b9; fillUniform stays in [lo, hi)', () => {
    const u = mulberry32((3 ^ 0x9e3779b9) >>> 0);
    const c = createRng(3);
    for (let i = 0; i < 100; i++) assert.equal(c.next(), u());
    const a = new Float32Array(1000);
    fillUniform(a, 1, -2, 2);
    assert.ok(a.every((v) => v >= -2 && v < 2));
    assert.ok(new Set(a).size > 990);
  });
});
