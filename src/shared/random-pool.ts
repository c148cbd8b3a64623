/**
 * Random bytes for values made on every upload (a posting lease's token, a multipart boundary),
 * drawn from a pool filled 4 KiB at a time. Each `crypto.randomBytes` call is a trip into
 * OpenSSL, and on this kind of VM a system call: the two a worker made per upload were about
 * 0.1 ms of CPU between them in a profile of `npm run bench` (BENCHMARKS.md). Node's own
 * `randomUUID` pools its randomness the same way. Every byte is handed out once: a used pool is
 * replaced, never refilled in place, so a value handed out earlier never changes.
 */
import { randomBytes } from 'node:crypto';

const POOL_BYTES = 4096;

let pool = Buffer.alloc(0);
let offset = 0;

/** `size` cryptographically random bytes, as `crypto.randomBytes(size)` gives. */
export function pooledRandomBytes(size: number): Buffer {
  if (size > POOL_BYTES) return randomBytes(size);
  if (offset + size > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const bytes = pool.subarray(offset, offset + size);
  offset += size;
  return bytes;
}
