/**
 * Pausing the whole queue when an error would fail every job the same way (bad
 * credentials, a missing scope), and resuming it with one command. The reason is kept
 * in Redis so every worker, `status` and the dashboard can say why.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { KeyNames } from '../shared/key-names.js';

/** Why the queue is paused. */
export interface PauseReason {
  code: string;
  message: string;
  /** What the operator should fix before resuming (how to resume is each surface's to say). */
  hint: string;
  at: number;
}

/** The reason code of a pause an operator asked for; any other code was set by a worker (a systemic error). */
export const OPERATOR_PAUSE_CODE = 'PAUSED_BY_OPERATOR';

/** Pauses and resumes the upload queue, remembering why. */
export class PauseControl {
  constructor(
    private readonly queue: Queue,
    private readonly redis: Redis,
    private readonly keys: KeyNames,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Pauses the queue for every worker. Returns true only for the call that paused it, so
   * that thousands of jobs failing the same way log one message, not thousands.
   */
  async pause(reason: Omit<PauseReason, 'at'>): Promise<boolean> {
    const set = await this.redis.set(this.keys.pauseReason, JSON.stringify({ ...reason, at: this.now() }), 'NX');
    await this.queue.pause();
    return set === 'OK';
  }

  /** Pauses by hand (no error behind it). */
  async pauseByOperator(): Promise<void> {
    await this.pause({
      code: OPERATOR_PAUSE_CODE,
      message: 'paused by an operator',
      hint: 'nothing to fix: resume when ready',
    });
  }

  /**
   * Resumes the queue and forgets the reason — and any refresh failure the workers still hold:
   * otherwise a resume within the hold (5 s) of the failure that paused the queue would have the
   * next job raise that stale failure and pause the queue again, though the token was fixed.
   */
  async resume(): Promise<void> {
    await this.redis.del(this.keys.pauseReason, this.keys.oauth.refreshFailure);
    await this.queue.resume();
  }

  /** Whether the queue is paused, and why when known. */
  async status(): Promise<{ paused: boolean; reason?: PauseReason }> {
    const [paused, raw] = await Promise.all([this.queue.isPaused(), this.redis.get(this.keys.pauseReason)]);
    return raw ? { paused, reason: JSON.parse(raw) as PauseReason } : { paused };
  }
}
