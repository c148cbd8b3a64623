/**
 * The batch's progress over time, kept in Redis so that a chart opened at any moment shows the
 * whole batch. The scripts that move the counters (a row uploaded, a row dead) also write the
 * sample of the current time slot: no extra round trip, no sampler process, and the last sample
 * is always the latest state. A slot nobody wrote is a slot in which nothing finished.
 *
 * Slots widen as the batch ages (5 s for its first 2 hours, 1 min until 2 days, then 10 min), so
 * a batch keeps fewer than 4,300 samples for its first two days and 144 a day after that: the
 * whole batch, at a resolution its age calls for, with no thinning to blur what a gap means.
 */
import type { Redis } from 'ioredis';
import type { KeyNames } from '../shared/key-names.js';

/** How samples are kept. */
export const PROGRESS_SAMPLES = {
  /** Slot lengths by batch age: `[ageBelowMs, slotMs]`, then {@link PROGRESS_SAMPLES.lastSlotMs}. */
  slots: [
    [2 * 3_600_000, 5_000],
    [48 * 3_600_000, 60_000],
  ],
  lastSlotMs: 600_000,
  /** The samples of a batch expire this long after its last change. */
  ttlMs: 30 * 24 * 3_600_000,
} as const;

/**
 * A Lua function the counter-moving scripts include: `recordProgress(meta, samplesKey, now)`
 * reads the counters just written and stores them as the sample of `now`'s slot.
 */
export const RECORD_PROGRESS_LUA = `
local function recordProgress(meta, samples, now)
  local age = now - (tonumber(redis.call('HGET', meta, 'createdAt')) or now)
  local slotMs = ${PROGRESS_SAMPLES.lastSlotMs}
  ${PROGRESS_SAMPLES.slots.map(([below, slot], i) => `${i === 0 ? 'if' : 'elseif'} age < ${below} then slotMs = ${slot}`).join(' ')}
  end
  local slot = now - (now % slotMs)
  local counts = redis.call('HMGET', meta, 'uploaded', 'dead', 'bytes')
  local member = slot .. ':' .. slotMs .. ':' .. (counts[1] or 0) .. ':' .. (counts[2] or 0) .. ':' .. (counts[3] or 0)
  redis.call('ZREMRANGEBYSCORE', samples, slot, slot)
  redis.call('ZADD', samples, slot, member)
  redis.call('PEXPIRE', samples, ${PROGRESS_SAMPLES.ttlMs})
end
`;

/** A batch's counters at one time. */
export interface ProgressSample {
  /** The start of the slot (epoch ms); the counters are the latest seen within it. */
  at: number;
  /** The slot's length. */
  slotMs: number;
  uploaded: number;
  dead: number;
  bytes: number;
}

/**
 * Each batch's stored samples, oldest first, in one round trip: every one, or, with `since`,
 * those of slots starting at `since` or later plus the last one before (the counters as they
 * stood at `since`) — what current rates need, without reading a batch's whole history.
 */
export async function readProgressSamples(
  redis: Redis,
  keys: KeyNames,
  batches: readonly string[],
  since?: number,
): Promise<Map<string, ProgressSample[]>> {
  const pipeline = redis.pipeline();
  for (const batch of batches) {
    const key = keys.batchProgress(batch);
    if (since === undefined) {
      pipeline.zrange(key, 0, -1);
    } else {
      pipeline.zrevrangebyscore(key, `(${since}`, '-inf', 'LIMIT', 0, 1);
      pipeline.zrangebyscore(key, since, '+inf');
    }
  }
  const results = (await pipeline.exec()) ?? [];
  const members = results.map(([error, value]) => {
    if (error) throw error;
    return value as string[];
  });
  const perBatch = since === undefined ? 1 : 2;
  return new Map(
    batches.map((batch, i) => [
      batch,
      members
        .slice(i * perBatch, (i + 1) * perBatch)
        .flat()
        .map(parseSample),
    ]),
  );
}

function parseSample(member: string): ProgressSample {
  const [at = 0, slotMs = 0, uploaded = 0, dead = 0, bytes = 0] = member.split(':').map(Number);
  return { at, slotMs, uploaded, dead, bytes };
}
