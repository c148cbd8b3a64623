/** The fake's API limits over real HTTP: concurrency, daily credits and latency. */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeZoho, type FakeZoho, type FakeZohoOptions } from '../../src/fake-zoho/index.js';
import { attachmentsUrl, auth, send, uploadFile, waitFor } from '../helpers/fake-zoho-requests.js';

let fake: FakeZoho | undefined;

async function start(options: FakeZohoOptions): Promise<{ zoho: FakeZoho; token: string }> {
  fake = await startFakeZoho({ storeContent: false, ...options });
  return { zoho: fake, token: fake.issueAccessToken() };
}

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('concurrency limit', () => {
  it('answers calls beyond the limit 429 TOO_MANY_REQUESTS at once; peakInFlight counts admitted calls', async () => {
    const { zoho, token } = await start({ concurrencyLimit: 2, latencyMs: 300 });
    const started = Date.now();
    const timed = async () => {
      const reply = await send(attachmentsUrl(zoho), { headers: auth(token) });
      return { status: reply.status, code: reply.json?.code, ms: Date.now() - started };
    };

    const first = [timed(), timed()];
    await waitFor(() => zoho.inspect().inFlight === 2);
    const refused = await Promise.all([timed(), timed(), timed()]);
    const admitted = await Promise.all(first);

    expect(admitted.map((reply) => reply.status)).toEqual([204, 204]);
    for (const reply of refused) {
      expect(reply).toMatchObject({ status: 429, code: 'TOO_MANY_REQUESTS' });
      expect(reply.ms).toBeLessThan(250);
    }
    const snapshot = zoho.inspect();
    expect(snapshot.peakInFlight).toBe(2);
    expect(snapshot.inFlight).toBe(0);
    expect(snapshot.counters).toEqual({ '204 NO_CONTENT': 2, '429 TOO_MANY_REQUESTS': 3 });
    expect(snapshot.creditsUsed).toBe(2);
  });

  it('admits again as soon as a call finishes', async () => {
    const { zoho, token } = await start({ concurrencyLimit: 1 });
    for (let index = 0; index < 3; index += 1) {
      expect((await send(attachmentsUrl(zoho), { headers: auth(token) })).status).toBe(204);
    }
    expect(zoho.inspect().peakInFlight).toBe(1);
  });

  it('keeps an upload in flight while its body streams and while latency runs', async () => {
    const { zoho, token } = await start({ concurrencyLimit: 1, latencyMs: 200 });
    const upload = uploadFile(zoho, token);
    await waitFor(() => zoho.inspect().inFlight === 1);
    const refused = await send(attachmentsUrl(zoho), { headers: auth(token) });
    expect(refused.status).toBe(429);
    expect((await upload).status).toBe(200);
  });
});

describe('daily credits', () => {
  it('spends one credit per call, sends X-API-CREDITS-REMAINING once half is spent, then answers 429', async () => {
    const { zoho, token } = await start({ dailyCredits: 4 });
    const replies = [];
    for (let index = 0; index < 5; index += 1) {
      replies.push(await send(attachmentsUrl(zoho), { headers: auth(token) }));
    }
    expect(replies.map((reply) => reply.status)).toEqual([204, 204, 204, 204, 429]);
    expect(replies.map((reply) => reply.headers['x-api-credits-remaining'])).toEqual([undefined, '2', '1', '0', '0']);
    expect(replies[4]!.json.code).toBe('TOO_MANY_REQUESTS');
    expect(zoho.inspect().creditsUsed).toBe(4);
  });

  it('does not charge calls refused before admission (authentication)', async () => {
    const { zoho } = await start({ dailyCredits: 10 });
    await send(attachmentsUrl(zoho));
    expect(zoho.inspect().creditsUsed).toBe(0);
  });

  it('starts a new day on reset()', async () => {
    const { zoho, token } = await start({ dailyCredits: 1 });
    await send(attachmentsUrl(zoho), { headers: auth(token) });
    expect((await send(attachmentsUrl(zoho), { headers: auth(token) })).status).toBe(429);
    await zoho.reset();
    expect((await send(attachmentsUrl(zoho), { headers: auth(token) })).status).toBe(204);
  });
});

describe('latency', () => {
  it('delays API answers by a fixed time', async () => {
    const { zoho, token } = await start({ latencyMs: 120 });
    const started = Date.now();
    await send(attachmentsUrl(zoho), { headers: auth(token) });
    expect(Date.now() - started).toBeGreaterThanOrEqual(115);
  });

  it('delays API answers by a time between min and max', async () => {
    const { zoho, token } = await start({ latencyMs: { min: 60, max: 90 } });
    const started = Date.now();
    await send(attachmentsUrl(zoho), { headers: auth(token) });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(55);
    expect(elapsed).toBeLessThan(400);
  });

  it('does not delay the token endpoint', async () => {
    const { zoho } = await start({ latencyMs: 500 });
    const started = Date.now();
    await send(`${zoho.url}/oauth/v2/token`, { method: 'POST' });
    expect(Date.now() - started).toBeLessThan(300);
  });
});
