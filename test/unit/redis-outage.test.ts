/** The outage reporter: one line when Redis goes away, one per 30 s while away, one when back (clock mocked). */
import { describe, expect, it } from 'vitest';
import { RedisOutageReporter } from '../../src/queue/redis-outage.js';

describe('RedisOutageReporter', () => {
  it('reports the start, a reminder every 30 s, and the end of an outage, with the password masked', () => {
    let now = 1_000_000;
    const lines: string[] = [];
    const record = (level: string) => (_fields: object | string, message?: string) =>
      void lines.push(`${level} ${message}`);
    const reporter = new RedisOutageReporter(
      'redis://:hunter2@redis.internal:6379',
      { error: record('error'), warn: record('warn'), info: record('info') },
      () => now,
    );
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:6379'), { code: 'ECONNREFUSED' });

    for (let i = 0; i < 100; i++, now += 250) reporter.failed(refused); // 25 s of reconnect attempts
    expect(lines).toEqual([
      'error Redis unreachable at redis://:***@redis.internal:6379: connect ECONNREFUSED 10.0.0.5:6379. Retrying; uploads wait until it answers.',
    ]);
    expect(reporter.unreachableSince).toBe(1_000_000);
    for (let i = 0; i < 40; i++, now += 250) reporter.failed(refused); // past 30 s: one reminder
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^warn Redis still unreachable at redis:\/\/:\*\*\*@redis\.internal:6379 \(for 30 s\)/);
    reporter.recovered();
    reporter.recovered();
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/^info Redis reachable again .* after 35 s$/);
    expect(reporter.unreachableSince).toBeUndefined();
    expect(lines.join('\n')).not.toContain('hunter2');
  });
});
