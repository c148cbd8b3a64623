/**
 * The short form of `npm run chaos` (bench/chaos/): a few hundred rows through three
 * `zoho-attach worker` processes (the built CLI) on a private redis-server with AOF, while the
 * fake Zoho refuses, fails, hangs, resets, stores-then-fails, throttles and expires tokens, a
 * refresh token is revoked and restored, workers are SIGKILLed, the run's Redis connections
 * killed and Redis restarted. Only invariants are asserted, never timings: every row uploaded
 * exactly once or dead with the code Zoho gave it, the ledger equal to Zoho, the limit kept.
 */
import { describe, expect, it } from 'vitest';
import { SHORT_CHAOS } from '../../bench/chaos/chaos-options.js';
import { formatChaosSummary, runChaos } from '../../bench/chaos/chaos-run.js';

describe('chaos, short form', () => {
  it('uploads every row exactly once, loses none and dead-letters exactly the refused rows, through everything at once', async () => {
    const result = await runChaos(SHORT_CHAOS);
    const explain = `${formatChaosSummary(result)}\n${result.data?.mismatches.join('\n') ?? ''}\nworker logs: ${result.runDir}/logs`;

    expect(result.failures, explain).toEqual([]);
    expect(result.data, explain).toMatchObject({
      duplicates: 0,
      losses: 0,
      orphans: 0,
      sharedAttachmentIds: 0,
      uploadedExactlyOnce: result.rows.toUpload,
    });
    expect(result.data!.deadLettersByCode, explain).toEqual({
      INVALID_MODULE: SHORT_CHAOS.invalidModuleRows,
      NO_PERMISSION: SHORT_CHAOS.noPermissionRecords * SHORT_CHAOS.rowsPerNoPermissionRecord,
    });
    expect(result.revocation, explain).toMatchObject({
      pauseCode: 'REFRESH_INVALID_CODE',
      resumeCommands: 1,
      pausedAgainWith: [],
    });
    expect(
      result.disruptions.redisRestarts.every((r) => r.rowsPending > 0),
      explain,
    ).toBe(true);
    expect(result.disruptions.workerKills, explain).toBeGreaterThanOrEqual(1);
    expect(result.disruptions.connectionsKilled, explain).toBeGreaterThanOrEqual(1);
    expect(result.concurrency.peakInFlight, explain).toBeLessThanOrEqual(SHORT_CHAOS.concurrencyLimit);
    expect(result.tokens.refreshes, explain).toBeLessThanOrEqual(result.tokens.refreshesNeeded);
    // Issue 10's faults happened: late stores, operators reviving rows mid-run (retry; purge + enqueue).
    expect(result.exactlyOnce.lateStores, explain).toBeGreaterThanOrEqual(1);
    expect(result.exactlyOnce.operatorActions, explain).toHaveLength(3);
    expect(result.exactlyOnce.verificationsDue, explain).toBe(0);
  }, 90_000);
});
