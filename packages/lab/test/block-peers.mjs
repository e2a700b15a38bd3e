// Test loader (node --import ./test/block-peers.mjs): makes the packages named in BLOCK_PEERS (comma-separated)
// unresolvable, as if they were not installed, for ESM imports and import.meta.resolve.
import { register } from 'node:module';

register('data:text/javascript,' + encodeURIComponent(`
const blocked = (process.env.BLOCK_PEERS ?? '').split(',').filter(Boolean);
export async function resolve(specifier, context, next) {
  if (blocked.some((b) => specifier === b || specifier.startsWith(b + '/'))) {
    const err = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL + ' (blocked by test/block-peers.mjs)');
    err.code = 'ERR_MODULE_NOT_FOUND';
    throw err;
  }
  return next(specifier, context);
}`));
