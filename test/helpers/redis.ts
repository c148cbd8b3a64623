/**
 * Test access to the shared Redis. Other people use this Redis: every test works under
 * a unique prefix and deletes only the keys under it. Never flush.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/** The Redis tests use: `REDIS_URL`, or the local default. */
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A name no other test run uses, safe as a queue name or key prefix. */
export function uniqueName(label: string): string {
  return `za-test-${label}-${randomUUID().slice(0, 8)}`;
}

/** A fresh ioredis connection to the test Redis. */
export function testRedis(): Redis {
  return new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
}

/** Deletes every key containing `name` (the unique queue name or prefix a test made). */
export async function deleteKeysContaining(redis: Redis, name: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `*${name}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}
