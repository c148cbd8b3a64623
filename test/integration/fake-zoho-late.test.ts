/**
 * The fake Zoho's late stores and listing lag: what makes exactly-once hard against the real
 * one (a POST stored after the client gave up; a list that lags behind the store).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeZoho, type FakeZoho } from '../../src/fake-zoho/index.js';
import { attachmentsUrl, auth, send, uploadFile } from '../helpers/fake-zoho-requests.js';

let fake: FakeZoho | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const listIds = async (f: FakeZoho, token: string) => {
  const reply = await send(attachmentsUrl(f, { module: 'Leads', recordId: '1' }), { headers: auth(token) });
  return reply.status === 204 ? [] : (reply.json?.data as Array<{ id: string }>).map((row) => row.id);
};

describe('the fake Zoho: late stores and listing lag', () => {
  it('lateStore reads the upload, answers nothing, and stores it delayMs later though the client left', async () => {
    fake = await startFakeZoho();
    const token = fake.issueAccessToken();
    fake.faults.add({ match: { path: 'upload' }, kind: 'lateStore', delayMs: 1_000 });
    const upload = uploadFile(
      fake,
      token,
      { fileName: 'late.txt', content: 'late bytes' },
      { module: 'Leads', recordId: '1' },
    ).then(
      () => 'answered',
      () => 'failed',
    );
    // Once the fake has read the upload (under load that can take a while), it holds it and answers nothing.
    await expect.poll(() => fake!.inspect().lateStoresPending, { timeout: 5_000 }).toBe(1);
    await expect(Promise.race([upload, sleep(100).then(() => 'no answer')])).resolves.toBe('no answer');
    // The client gives up here; the upload is stored all the same, delayMs after it was read.
    expect(fake.inspect().attachments).toEqual([]);
    await expect.poll(() => fake!.inspect().attachments.length, { timeout: 5_000 }).toBe(1);
    const [stored] = fake.inspect().attachments;
    expect(stored).toMatchObject({ fileName: 'late.txt', size: 10, module: 'Leads', recordId: '1' });
    expect(fake.inspect().faultsFired.lateStore).toBe(1);
    expect(await listIds(fake, token)).toEqual([stored!.id]);
  });

  it('with a listing lag, a new attachment is stored (download, delete) but not listed until the lag has passed', async () => {
    fake = await startFakeZoho();
    const token = fake.issueAccessToken();
    fake.setListLag(400);
    const reply = await uploadFile(
      fake,
      token,
      { fileName: 'a.txt', content: 'a' },
      { module: 'Leads', recordId: '1' },
    );
    const id = (reply.json?.data as Array<{ details: { id: string } }>)[0]!.details.id;
    expect(await listIds(fake, token)).toEqual([]);
    expect(
      (await send(attachmentsUrl(fake, { module: 'Leads', recordId: '1' }, `/${id}`), { headers: auth(token) })).status,
    ).toBe(200);
    await expect.poll(() => listIds(fake!, token), { timeout: 3_000 }).toEqual([id]);
  });

  it('the listing lag is set over the control API too', async () => {
    fake = await startFakeZoho();
    const token = fake.issueAccessToken();
    expect(
      (
        await send(`${fake.url}/__fake/list-lag`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ms: 60_000 }),
        })
      ).status,
    ).toBe(204);
    await uploadFile(fake, token, { fileName: 'a.txt', content: 'a' }, { module: 'Leads', recordId: '1' });
    expect(await listIds(fake, token)).toEqual([]);
    expect(
      (await send(`${fake.url}/__fake/list-lag`, { method: 'POST', body: JSON.stringify({ ms: -1 }) })).status,
    ).toBe(400);
    await expect(Promise.resolve().then(() => fake!.faults.add({ kind: 'lateStore', delayMs: -5 }))).rejects.toThrow(
      'delayMs',
    );
  });
});
