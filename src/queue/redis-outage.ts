/**
 * One clear line when Redis goes away, one more every 30 s while it stays away, one when it is
 * back: not a stack trace per connection per reconnect attempt (ioredis retries every few
 * hundred ms, and a worker has four connections). The connections keep retrying by themselves.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../shared/logger.js';
import { redactUrl, safeErrorMessage } from '../shared/redact.js';

/** How often a lasting outage is reported again. */
export const OUTAGE_REMINDER_MS = 30_000;

/** Tracks whether Redis answers, across every connection of a process, and says so once. */
export class RedisOutageReporter {
  private downSince: number | undefined;
  private lastReported = 0;
  private readonly maskedUrl: string;

  constructor(
    redisUrl: string,
    private readonly logger: Pick<Logger, 'error' | 'warn' | 'info'>,
    private readonly now: () => number = Date.now,
    private readonly reminderMs = OUTAGE_REMINDER_MS,
  ) {
    this.maskedUrl = redactUrl(redisUrl);
  }

  /** When Redis stopped answering, or undefined while it answers. */
  get unreachableSince(): number | undefined {
    return this.downSince;
  }

  /** Reports the errors of `redis` through this reporter, and its recovery. */
  watch(redis: Redis): this {
    redis.on('error', (error: unknown) => this.failed(error));
    redis.on('ready', () => this.recovered());
    return this;
  }

  /** A connection failed: the first failure of an outage is logged, then one reminder per interval. */
  failed(error: unknown): void {
    const at = this.now();
    const cause = safeErrorMessage(error);
    if (this.downSince === undefined) {
      this.downSince = at;
      this.lastReported = at;
      this.logger.error(
        { redis: this.maskedUrl, cause },
        `Redis unreachable at ${this.maskedUrl}: ${cause}. Retrying; uploads wait until it answers.`,
      );
    } else if (at - this.lastReported >= this.reminderMs) {
      this.lastReported = at;
      const seconds = Math.round((at - this.downSince) / 1000);
      this.logger.warn(
        { redis: this.maskedUrl, cause, downForSeconds: seconds },
        `Redis still unreachable at ${this.maskedUrl} (for ${seconds} s): ${cause}`,
      );
    }
  }

  /** A connection is ready again: the end of an outage is logged once. */
  recovered(): void {
    if (this.downSince === undefined) return;
    const seconds = Math.round((this.now() - this.downSince) / 1000);
    this.downSince = undefined;
    this.logger.info(
      { redis: this.maskedUrl, downForSeconds: seconds },
      `Redis reachable again at ${this.maskedUrl} after ${seconds} s`,
    );
  }
}
