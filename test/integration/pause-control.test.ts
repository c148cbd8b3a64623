/** Pausing and resuming the queue, on a real Redis and the fake's real accounts endpoint. */
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { FAKE_CREDENTIALS, startFakeZoho, type FakeZoho } from '../../src/fake-zoho/index.js';
import { UploadQueue } from '../../src/queue/upload-queue.js';
import { SharedTokenStore } from '../../src/zoho/token-store.js';
import { deleteKeysContaining, TEST_REDIS_URL, testRedis, uniqueName } from '../helpers/redis.js';

let fake: FakeZoho | undefined;
let uploadQueue: UploadQueue | undefined;
let queueName: string | undefined;
afterEach(async () => {
  await uploadQueue?.close();
  await fake?.close();
  if (queueName) {
    const redis = testRedis();
    await deleteKeysContaining(redis, queueName).finally(() => redis.disconnect());
  }
  uploadQueue = fake = queueName = undefined;
});

describe('PauseControl', () => {
  it('resume forgets a held refresh failure: the next job refreshes at once instead of pausing the queue again', async () => {
    // Regression (chaos run): a revoked refresh token paused the queue; the token was restored and
    // `zoho-attach resume` run within 5 s of the failed refresh; the next job raised the failure the
    // token store still held, and the queue paused again — it took three resumes to go on.
    fake = await startFakeZoho();
    queueName = uniqueName('pause');
    const config = loadConfig({
      REDIS_URL: TEST_REDIS_URL,
      ZOHO_ACCOUNTS_URL: fake.url,
      ZOHO_API_DOMAIN: fake.url,
      ZOHO_CLIENT_ID: FAKE_CREDENTIALS.clientId,
      ZOHO_CLIENT_SECRET: FAKE_CREDENTIALS.clientSecret,
      ZOHO_REFRESH_TOKEN: FAKE_CREDENTIALS.refreshToken,
      ZOHO_ATTACH_QUEUE: queueName,
    });
    uploadQueue = await UploadQueue.open(config);
    // The store every worker uses, on the queue's keys (failures are held for 5 s by default).
    const tokens = new SharedTokenStore({
      config: config.zoho,
      redis: uploadQueue.redis,
      keys: uploadQueue.keys.oauth,
    });

    fake.revokeRefreshToken(FAKE_CREDENTIALS.refreshToken);
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'REFRESH_INVALID_CODE' });
    await uploadQueue.pauseControl.pause({ code: 'REFRESH_INVALID_CODE', message: 'revoked', hint: 'fix it' });

    fake.restoreRefreshToken(FAKE_CREDENTIALS.refreshToken);
    await uploadQueue.pauseControl.resume();

    expect(await uploadQueue.pauseControl.status()).toEqual({ paused: false });
    await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: expect.stringMatching(/^1000\./) });
    expect(fake.inspect().tokens).toMatchObject({ refreshes: 1, refreshesRefused: 1 });
  });
});
