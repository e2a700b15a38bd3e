// The tolerance table for tests: re-exported from src/check/tolerance.ts, which `rmsnorm check` also uses (one table).
export {
  NMSE_BOUND,
  STORAGE_TOLERANCES,
  TOLERANCES,
  storageTolerance,
  type StorageDtype,
  tolerance,
  type Direction,
  type Tolerance,
  type ToleranceBackend,
  type ToleranceOp,
} from '../src/check/tolerance.js';
