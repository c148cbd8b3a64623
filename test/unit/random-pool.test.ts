/**
 * The pooled random bytes behind posting tokens and multipart boundaries: each draw is fresh,
 * across many refills of the pool, and a value handed out never changes afterwards.
 */
import { describe, expect, it } from 'vitest';
import { pooledRandomBytes } from '../../src/shared/random-pool.js';
import { newPostingToken } from '../../src/upload/lease-keeper.js';

describe('pooled random bytes', () => {
  it('never hands out the same bytes twice, across many refills of the pool', () => {
    // 9 bytes do not divide the 4 KiB pool: draws that would straddle a refill are covered too.
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) seen.add(pooledRandomBytes(9).toString('hex'));
    expect(seen.size).toBe(20_000);
  });

  it('keeps a value handed out unchanged after the pool is replaced', () => {
    const first = pooledRandomBytes(24);
    const copy = Buffer.from(first);
    for (let i = 0; i < 1_000; i++) pooledRandomBytes(24);
    expect(first.equals(copy)).toBe(true);
  });

  it('gives the size asked for, also beyond the pool', () => {
    expect(pooledRandomBytes(1)).toHaveLength(1);
    expect(pooledRandomBytes(10_000)).toHaveLength(10_000);
  });

  it('makes posting tokens of 12 URL-safe characters, all different', () => {
    const tokens = Array.from({ length: 5_000 }, newPostingToken);
    expect(new Set(tokens).size).toBe(tokens.length);
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{12}$/);
  });
});
