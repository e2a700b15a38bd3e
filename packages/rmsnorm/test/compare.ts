// Comparison helpers for tests: re-exported from src/check (shared with `rmsnorm check`'s self-test).
export { compareArrays, describeComparison, type Comparison } from '../src/check/compare.js';
export { hashSeed, mulberry32, normal, randomNormal } from '../src/check/random.js';
export { runCase, type CaseResult, type NormCase } from '../src/check/run-case.js';
