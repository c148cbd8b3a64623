/**
 * Scripted faults (every kind, matching, times, probability, skip) and the HTTP control
 * API under /__fake/, over real HTTP.
 */
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_CREDENTIALS, startFakeZoho, type FakeZoho } from '../../src/fake-zoho/index.js';
import {
  attachmentsUrl,
  auth,
  multipart,
  refresh,
  send,
  streamedFileBody,
  uploadFile,
  waitFor,
  BOUNDARY,
} from '../helpers/fake-zoho-requests.js';

let fake: FakeZoho;
let token: string;
const internalErrors: unknown[] = [];

beforeAll(async () => {
  fake = await startFakeZoho({ onInternalError: (error) => internalErrors.push(error) });
  token = fake.issueAccessToken();
});
beforeEach(async () => {
  await fake.reset();
  internalErrors.length = 0;
});
afterAll(async () => {
  await fake.close();
  expect(internalErrors).toEqual([]);
});

function list(place = {}) {
  return send(attachmentsUrl(fake, place), { headers: auth(token) });
}

describe('fault kinds', () => {
  it.each([
    ['error500', 500, 'INTERNAL_ERROR'],
    ['error429', 429, 'TOO_MANY_REQUESTS'],
    ['noPermission', 403, 'NO_PERMISSION'],
    ['authorizationFailed', 400, 'AUTHORIZATION_FAILED'],
  ] as const)('%s answers %i %s without storing anything', async (kind, status, code) => {
    fake.faults.add({ kind });
    const faulted = await uploadFile(fake, token);
    const next = await uploadFile(fake, token);

    expect(faulted.status).toBe(status);
    expect(faulted.json).toMatchObject({ code, status: 'error' });
    expect(next.status).toBe(200);
    const snapshot = fake.inspect();
    expect(snapshot.attachments).toHaveLength(1);
    expect(snapshot.counters).toEqual({ [`${status} ${code}`]: 1, '200 SUCCESS': 1 });
    expect(snapshot.faultsFired[kind]).toBe(1);
  });

  it('storeThen500 stores the attachment, then answers 500 INTERNAL_ERROR', async () => {
    fake.faults.add({ kind: 'storeThen500' });
    const reply = await uploadFile(fake, token, { fileName: 'kept.txt' });
    expect(reply.status).toBe(500);
    expect(reply.json).toEqual({
      code: 'INTERNAL_ERROR',
      details: {},
      message: 'Internal Server Error',
      status: 'error',
    });
    expect(fake.inspect().attachments.map((attachment) => attachment.fileName)).toEqual(['kept.txt']);
  });

  it('reset destroys the connection without answering or storing', async () => {
    fake.faults.add({ kind: 'reset' });
    await expect(uploadFile(fake, token)).rejects.toThrow();
    expect(fake.inspect().attachments).toEqual([]);
    expect(fake.inspect().faultsFired.reset).toBe(1);
  });

  it('resetAfterStore stores the attachment, then destroys the connection', async () => {
    fake.faults.add({ kind: 'resetAfterStore' });
    await expect(uploadFile(fake, token, { fileName: 'ambiguous.txt' })).rejects.toThrow();
    expect(fake.inspect().attachments.map((attachment) => attachment.fileName)).toEqual(['ambiguous.txt']);
  });

  it('hang never answers; the upload stays in flight until the client gives up, and nothing is stored', async () => {
    fake.faults.add({ kind: 'hang' });
    const { body, contentType } = multipart([{ name: 'file', fileName: 'a.txt', content: 'a' }]);
    const started = Date.now();
    const hung = send(attachmentsUrl(fake), {
      method: 'POST',
      headers: { ...auth(token), 'content-type': contentType },
      body,
      signal: AbortSignal.timeout(150),
    });
    await waitFor(() => fake.inspect().inFlight === 1);
    await expect(hung).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    await waitFor(() => fake.inspect().inFlight === 0);

    const snapshot = fake.inspect();
    expect(snapshot.attachments).toEqual([]);
    expect(snapshot.counters).toEqual({});
    expect(snapshot.faultsFired.hang).toBe(1);
    expect((await uploadFile(fake, token)).status).toBe(200);
  });

  it('close() destroys hung connections', async () => {
    const other = await startFakeZoho({ storeContent: false });
    other.faults.add({ kind: 'hang', times: Infinity });
    const hung = send(attachmentsUrl(other), { headers: auth(other.issueAccessToken()) });
    await waitFor(() => other.inspect().inFlight === 1);
    await other.close();
    await expect(hung).rejects.toThrow();
  });

  it('applies faults to the token endpoint too', async () => {
    fake.faults.add({ match: { path: 'token' }, kind: 'error500' });
    const faulted = await refresh(fake);
    const next = await refresh(fake);
    expect(faulted.status).toBe(500);
    expect(next.json.access_token).toMatch(/^1000\./);
  });
});

describe('fault rules', () => {
  it('match on module, record, path and method', async () => {
    fake.faults.add({
      match: { module: 'Deals', recordId: '7', path: 'upload', method: 'POST' },
      kind: 'error500',
      times: Infinity,
    });
    const statuses = [
      (await uploadFile(fake, token, {}, { module: 'Deals', recordId: '7' })).status,
      (await uploadFile(fake, token, {}, { module: 'Deals', recordId: '8' })).status,
      (await uploadFile(fake, token, {}, { module: 'Leads', recordId: '7' })).status,
      (await list({ module: 'Deals', recordId: '7' })).status,
      (await uploadFile(fake, token, {}, { module: 'Deals', recordId: '7' })).status,
    ];
    expect(statuses).toEqual([500, 200, 200, 204, 500]);
  });

  it('fire `times` times, then are gone', async () => {
    fake.faults.add({ kind: 'error429', times: 2 });
    const statuses = [];
    for (let index = 0; index < 3; index += 1) statuses.push((await list()).status);
    expect(statuses).toEqual([429, 429, 204]);
  });

  it('let `skip` matching calls through first', async () => {
    fake.faults.add({ match: { path: 'upload' }, kind: 'error500', skip: 2 });
    const statuses = [];
    for (let index = 0; index < 4; index += 1) statuses.push((await uploadFile(fake, token)).status);
    expect(statuses).toEqual([200, 200, 500, 200]);
  });

  it('with probability 0 never fire, with probability 1 always', async () => {
    fake.faults.add({ kind: 'error500', probability: 0, times: Infinity });
    for (let index = 0; index < 5; index += 1) expect((await list()).status).toBe(204);
    fake.faults.clear();
    fake.faults.add({ kind: 'error500', probability: 1, times: Infinity });
    for (let index = 0; index < 5; index += 1) expect((await list()).status).toBe(500);
  });

  it('with a probability in between fire on some calls only', async () => {
    fake.faults.add({ kind: 'error500', probability: 0.5, times: Infinity });
    const statuses = new Set();
    for (let index = 0; index < 60; index += 1) statuses.add((await list()).status);
    expect(statuses).toEqual(new Set([204, 500]));
  });

  it('are tried in the order added, and can be removed by id', async () => {
    const first = fake.faults.add({ kind: 'noPermission', times: Infinity });
    fake.faults.add({ kind: 'error500', times: Infinity });
    expect((await list()).status).toBe(403);
    expect(fake.faults.remove(first)).toBe(true);
    expect(fake.faults.remove(first)).toBe(false);
    expect((await list()).status).toBe(500);
  });

  it('are validated', () => {
    expect(() => fake.faults.add({ kind: 'explode' } as never)).toThrow(/kind must be one of/);
    expect(() => fake.faults.add({ kind: 'error500', probability: 2 })).toThrow(/probability/);
    expect(() => fake.faults.add({ kind: 'error500', times: 0 })).toThrow(/times/);
    expect(() => fake.faults.add({ kind: 'error500', match: { path: 'nowhere' as never } })).toThrow(/match.path/);
  });
});

describe('a client that leaves', () => {
  it('aborting mid-upload stores nothing, frees its slot and is no internal error', async () => {
    const controller = new AbortController();
    const upload = send(attachmentsUrl(fake), {
      method: 'POST',
      headers: { ...auth(token), 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      body: streamedFileBody(50 * 1024 * 1024),
      signal: controller.signal,
    });
    await waitFor(() => fake.inspect().inFlight === 1);
    controller.abort();
    await expect(upload).rejects.toThrow();
    await waitFor(() => fake.inspect().inFlight === 0);
    const snapshot = fake.inspect();
    expect(snapshot.attachments).toEqual([]);
    expect(snapshot.counters).toEqual({});
    await waitFor(() => readdirSync(fake.contentDir!).length === 0);
    expect(internalErrors).toEqual([]);
  });
});

describe('HTTP control API', () => {
  const control = (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) =>
    send(`${fake.url}/__fake${path}`, {
      method,
      ...(body !== undefined && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });

  it('GET /state returns the snapshot', async () => {
    await uploadFile(fake, token);
    const reply = await control('GET', '/state');
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual(JSON.parse(JSON.stringify(fake.inspect())));
    expect(reply.json.attachments).toHaveLength(1);
    expect(reply.json.calls.upload).toBe(1);
  });

  it('POST /faults adds a rule (times: null is Infinity); DELETE /faults/{id} and DELETE /faults remove', async () => {
    const added = await control('POST', '/faults', { match: { path: 'list' }, kind: 'error500', times: null });
    expect(added.status).toBe(200);
    expect(added.json.id).toEqual(expect.any(String));
    for (let index = 0; index < 3; index += 1) expect((await list()).status).toBe(500);

    expect((await control('DELETE', `/faults/${added.json.id}`)).status).toBe(204);
    expect((await control('DELETE', `/faults/${added.json.id}`)).status).toBe(404);
    expect((await list()).status).toBe(204);

    await control('POST', '/faults', { kind: 'error429', times: 5 });
    expect((await control('DELETE', '/faults')).status).toBe(204);
    expect((await list()).status).toBe(204);
  });

  it('POST /faults refuses an invalid rule with 400', async () => {
    const reply = await control('POST', '/faults', { kind: 'error500', probability: 'often' });
    expect(reply.status).toBe(400);
    expect(reply.json.error).toMatch(/probability/);
    expect((await control('POST', '/faults', 'not json')).status).toBe(400);
  });

  it('POST /tokens/expire expires every token; POST /tokens issues one with chosen scopes', async () => {
    const issued = await control('POST', '/tokens', { scopes: ['ZohoCRM.modules.attachments.READ'], ttlSeconds: 60 });
    const readToken = issued.json.accessToken;
    expect((await send(attachmentsUrl(fake), { headers: auth(readToken) })).status).toBe(204);
    expect((await uploadFile(fake, readToken)).json.code).toBe('OAUTH_SCOPE_MISMATCH');

    expect((await control('POST', '/tokens/expire')).status).toBe(204);
    expect((await send(attachmentsUrl(fake), { headers: auth(readToken) })).json.code).toBe('INVALID_TOKEN');
    token = fake.issueAccessToken();
  });

  it('POST /refresh-tokens/revoke and /restore switch invalid_code on and off', async () => {
    const body = { refreshToken: FAKE_CREDENTIALS.refreshToken };
    expect((await control('POST', '/refresh-tokens/revoke', body)).status).toBe(204);
    expect((await refresh(fake)).json).toEqual({ error: 'invalid_code' });
    expect((await control('POST', '/refresh-tokens/restore', body)).status).toBe(204);
    expect((await refresh(fake)).json.access_token).toMatch(/^1000\./);
    expect((await control('POST', '/refresh-tokens/revoke', {})).status).toBe(400);
  });

  it('POST /reset clears attachments, counters and faults but keeps tokens working', async () => {
    await uploadFile(fake, token);
    fake.faults.add({ kind: 'error500', times: Infinity });
    expect((await control('POST', '/reset')).status).toBe(204);

    const snapshot = fake.inspect();
    expect(snapshot.attachments).toEqual([]);
    expect(snapshot.counters).toEqual({});
    expect(snapshot.creditsUsed).toBe(0);
    expect((await list()).status).toBe(204);
  });

  it('answers 404 for an unknown control route', async () => {
    const reply = await control('POST', '/nothing-here');
    expect(reply.status).toBe(404);
    expect(reply.json.error).toContain('POST /nothing-here');
  });

  it('is not counted as API traffic', async () => {
    await control('GET', '/state');
    expect(fake.inspect().counters).toEqual({});
  });
});
