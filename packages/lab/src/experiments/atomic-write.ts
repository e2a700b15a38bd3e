// The one place the reproduction writes files: atomic whole-file writes (temporary file + rename), appends, and the
// storage errors they raise. A full disk or a read-only mount becomes a StorageError with a one-line message naming
// the file, the temporary file is removed, and the file being replaced keeps its old content.
import { appendFileSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The file-system calls this module makes; tests swap them (setFileIo) to simulate a full disk. */
export interface FileIo {
  writeFileSync(path: string, data: string): void;
  appendFileSync(path: string, data: string): void;
  renameSync(from: string, to: string): void;
}

const nodeIo: FileIo = { writeFileSync, appendFileSync, renameSync };
let io: FileIo = nodeIo;

/**
 * Test hook for child processes (workers) that tests cannot reach in-process: when RMSNORM_TEST_FAIL_WRITES holds a
 * regular expression, writes to matching paths write half their data and then fail with ENOSPC, as a full disk does.
 */
function injectFailure(path: string, data: string, writeHalf: (half: string) => void): void {
  const pattern = process.env.RMSNORM_TEST_FAIL_WRITES;
  if (!pattern || !new RegExp(pattern).test(path)) return;
  writeHalf(data.slice(0, data.length >> 1));
  throw Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC' });
}

/** Replace the file-system calls (tests); `null` restores node:fs. Returns the previous ones. */
export function setFileIo(next: FileIo | null): FileIo {
  const prev = io;
  io = next ?? nodeIo;
  return prev;
}

/** Error codes that mean "the storage cannot take this write", not a bug: stop cleanly, resumable. */
const STORAGE_CODES: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EFBIG: 'file too large',
  EIO: 'input/output error',
};

/** A write the storage refused (full disk, quota, read-only); `message` is one line naming the file. */
export class StorageError extends Error {
  constructor(
    readonly path: string,
    readonly code: string,
  ) {
    super(`cannot write ${path}: ${code} (${STORAGE_CODES[code] ?? 'storage error'})`);
    this.name = 'StorageError';
  }
}

/** True for errors a full or broken disk raises (StorageError, or a raw node error with one of those codes). */
export function isStorageError(err: unknown): boolean {
  return err instanceof StorageError || (typeof (err as { code?: unknown })?.code === 'string' && (err as { code: string }).code in STORAGE_CODES);
}

function rethrow(err: unknown, path: string): never {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && code in STORAGE_CODES) throw new StorageError(path, code);
  throw err;
}

/** Temporary-file name of writeAtomic: `<path>.tmp-<pid>` (so cleanTempFiles can find leftovers of killed processes). */
function tempName(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

/**
 * Write `data` to `path` atomically: a temporary file in the same directory, then rename. On failure the temporary
 * file is removed and `path` is unchanged; storage errors become StorageError. With `keepPrevious`, the old content
 * of `path` is moved there first (a crash between the two renames leaves the old content at `keepPrevious`).
 * @example writeAtomic('out/manifest.json', JSON.stringify(manifest));
 */
export function writeAtomic(path: string, data: string, options: { keepPrevious?: string } = {}): void {
  const tmp = tempName(path);
  try {
    injectFailure(path, data, (half) => io.writeFileSync(tmp, half));
    io.writeFileSync(tmp, data);
    if (options.keepPrevious !== undefined) {
      try {
        io.renameSync(path, options.keepPrevious);
      } catch (err) {
        if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
      }
    }
    io.renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // Not created, or already renamed.
    }
    rethrow(err, path);
  }
}

/** Append `data` to `path`; storage errors become StorageError (a torn last line is tolerated by the readers). */
export function appendText(path: string, data: string): void {
  try {
    injectFailure(path, data, (half) => io.appendFileSync(path, half));
    io.appendFileSync(path, data);
  } catch (err) {
    rethrow(err, path);
  }
}

/**
 * Remove temporary files (`*.tmp-<pid>`) left in `dirs` by killed processes; returns how many were removed.
 * Only call this when no other process writes into those directories.
 */
export function cleanTempFiles(dirs: string[]): number {
  let n = 0;
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!/\.tmp-\d+$/.test(name)) continue;
      try {
        unlinkSync(join(dir, name));
        n++;
      } catch {
        // Gone already.
      }
    }
  }
  return n;
}

/** Parse a JSON file; a damaged one throws an Error whose one-line message names the file. */
export function readJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    throw new Error(`${path} is unreadable (${(err as Error).message.split('\n')[0]})`);
  }
}
