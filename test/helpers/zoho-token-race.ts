/**
 * A second process for the "one refresh across processes" test. Usage:
 *   node --import tsx test/helpers/zoho-token-race.ts <redisUrl> <prefix> <fakeUrl> <callers> <clockOffsetMs>
 * Prints `ready` once connected, waits for a `go` line on stdin, then has <callers> callers ask
 * for the token at once and prints the tokens they got as one JSON line.
 */
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { keyNames } from '../../src/shared/key-names.js';
import { SharedTokenStore } from '../../src/zoho/token-store.js';
import { zohoTestConfig } from './zoho.js';

const [redisUrl, prefix, fakeUrl, callers, clockOffsetMs] = process.argv.slice(2);
if (!redisUrl || !prefix || !fakeUrl || !callers || clockOffsetMs === undefined)
  throw new Error('usage: <redisUrl> <prefix> <fakeUrl> <callers> <clockOffsetMs>');

const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
const store = new SharedTokenStore({
  config: zohoTestConfig(fakeUrl),
  redis,
  keys: keyNames(prefix).oauth,
  now: () => Date.now() + Number(clockOffsetMs),
});
await redis.ping();
const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
await once(lines, 'line');
const tokens = await Promise.all(Array.from({ length: Number(callers) }, () => store.getToken()));
process.stdout.write(`${JSON.stringify(tokens.map((t) => t.accessToken))}\n`);
lines.close();
await redis.quit();
