/**
 * The fake's accounts server (token endpoint, its throttle and live-token cap) and the
 * API's authentication: header, token life and scopes. Time is a clock the tests move.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FAKE_CREDENTIALS, startFakeZoho, type FakeZoho, type FakeZohoOptions } from '../../src/fake-zoho/index.js';
import { attachmentsUrl, auth, mintToken, refresh, send, uploadFile } from '../helpers/fake-zoho-requests.js';

const THROTTLE_BODY = {
  error: 'Access Denied',
  error_description: 'You have made too many requests continuously. Please try again after some time.',
  status: 'failure',
};

let fake: FakeZoho | undefined;
let now = Date.parse('2024-05-03T12:00:00Z');

/** A fake on a clock the test moves with {@link advance}. */
async function start(options: FakeZohoOptions = {}): Promise<FakeZoho> {
  fake = await startFakeZoho({ storeContent: false, clock: () => now, ...options });
  return fake;
}

function advance(ms: number): void {
  now += ms;
}

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('token endpoint', () => {
  it('mints a token from query parameters: expires_in in seconds, api_domain is the fake', async () => {
    const zoho = await start({ tokenTtlSeconds: 120 });
    const reply = await refresh(zoho);
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({
      access_token: expect.stringMatching(/^1000\.[0-9a-f]{32}\.[0-9a-f]{32}$/),
      expires_in: 120,
      api_domain: zoho.url,
      token_type: 'Bearer',
    });
    expect(zoho.inspect().tokens).toEqual({ refreshes: 1, refreshesRefused: 0, live: 1 });
  });

  it('mints a token from an urlencoded body', async () => {
    const zoho = await start();
    const reply = await send(`${zoho.url}/oauth/v2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: FAKE_CREDENTIALS.clientId,
        client_secret: FAKE_CREDENTIALS.clientSecret,
        refresh_token: FAKE_CREDENTIALS.refreshToken,
      }).toString(),
    });
    expect(reply.json.access_token).toMatch(/^1000\./);
    expect(reply.json.expires_in).toBe(3600);
  });

  it('sends expires_in in milliseconds plus expires_in_sec in the old style', async () => {
    const zoho = await start({ expiresInStyle: 'milliseconds', tokenTtlSeconds: 60 });
    const reply = await refresh(zoho);
    expect(reply.json).toMatchObject({ expires_in: 60_000, expires_in_sec: 60 });
  });

  it('answers {"error":"invalid_client"} with HTTP 200 for a wrong client id or secret', async () => {
    const zoho = await start();
    const wrongSecret = await refresh(zoho, { ...FAKE_CREDENTIALS, clientSecret: 'nope' });
    const wrongId = await refresh(zoho, { ...FAKE_CREDENTIALS, clientId: 'nope' });
    for (const reply of [wrongSecret, wrongId]) {
      expect(reply.status).toBe(200);
      expect(reply.json).toEqual({ error: 'invalid_client' });
    }
    expect(zoho.inspect().tokens).toEqual({ refreshes: 0, refreshesRefused: 2, live: 0 });
  });

  it('answers {"error":"invalid_code"} for an unknown or revoked refresh token, until restored', async () => {
    const zoho = await start();
    const unknown = await refresh(zoho, { ...FAKE_CREDENTIALS, refreshToken: 'unknown' });
    zoho.revokeRefreshToken(FAKE_CREDENTIALS.refreshToken);
    const revoked = await refresh(zoho);
    zoho.restoreRefreshToken(FAKE_CREDENTIALS.refreshToken);
    const restored = await refresh(zoho);

    expect(unknown.json).toEqual({ error: 'invalid_code' });
    expect(revoked.status).toBe(200);
    expect(revoked.json).toEqual({ error: 'invalid_code' });
    expect(restored.json.access_token).toMatch(/^1000\./);
  });

  it('answers {"error":"unsupported_grant_type"} for any other grant type', async () => {
    const zoho = await start();
    const reply = await send(`${zoho.url}/oauth/v2/token?grant_type=authorization_code`, { method: 'POST' });
    expect(reply.json).toEqual({ error: 'unsupported_grant_type' });
  });

  it('throttles beyond refreshLimit per sliding window, and lets refreshes through again later', async () => {
    const zoho = await start({ refreshLimit: { max: 3, windowMs: 10_000 } });
    const replies = [];
    for (let index = 0; index < 4; index += 1) {
      replies.push(await refresh(zoho));
      advance(1000);
    }
    expect(replies.slice(0, 3).every((reply) => typeof reply.json.access_token === 'string')).toBe(true);
    expect(replies[3]!.status).toBe(200);
    expect(replies[3]!.json).toEqual(THROTTLE_BODY);

    // The first refresh was at t=0; at t=10s it leaves the window.
    advance(6000);
    expect((await refresh(zoho)).json.access_token).toMatch(/^1000\./);
    expect(zoho.inspect().tokens).toMatchObject({ refreshes: 4, refreshesRefused: 1 });
  });

  it('throttles at 10 per 10 minutes by default', async () => {
    const zoho = await start();
    for (let index = 0; index < 10; index += 1) expect((await refresh(zoho)).json.access_token).toBeDefined();
    expect((await refresh(zoho)).json).toEqual(THROTTLE_BODY);
  });

  it('kills the oldest live token when a 16th is minted', async () => {
    const zoho = await start({ refreshLimit: { max: 100, windowMs: 600_000 } });
    const tokens = [];
    for (let index = 0; index < 16; index += 1) tokens.push(await mintToken(zoho));

    const oldest = await send(attachmentsUrl(zoho), { headers: auth(tokens[0]!) });
    const second = await send(attachmentsUrl(zoho), { headers: auth(tokens[1]!) });
    const newest = await send(attachmentsUrl(zoho), { headers: auth(tokens[15]!) });

    expect(oldest.status).toBe(401);
    expect(oldest.json.code).toBe('INVALID_TOKEN');
    expect(second.status).toBe(204);
    expect(newest.status).toBe(204);
    expect(zoho.inspect().tokens.live).toBe(15);
  });

  it('honours maxLiveTokens', async () => {
    const zoho = await start({ maxLiveTokens: 2 });
    const [first, second, third] = [await mintToken(zoho), await mintToken(zoho), await mintToken(zoho)];
    const statuses = [];
    for (const token of [first, second, third]) {
      statuses.push((await send(attachmentsUrl(zoho), { headers: auth(token) })).status);
    }
    expect(statuses).toEqual([401, 204, 204]);
  });

  it('knows every configured client, each with its own scopes', async () => {
    const readOnly = {
      clientId: 'ro',
      clientSecret: 'ro-secret',
      refreshToken: 'ro-refresh',
      scopes: ['ZohoCRM.modules.attachments.READ'],
    };
    const zoho = await start({ clients: [readOnly] });
    const token = (await refresh(zoho, readOnly)).json.access_token;

    expect((await refresh(zoho)).json).toEqual({ error: 'invalid_client' });
    expect((await send(attachmentsUrl(zoho), { headers: auth(token) })).status).toBe(204);
    expect((await uploadFile(zoho, token)).json.code).toBe('OAUTH_SCOPE_MISMATCH');
  });
});

describe('API authentication', () => {
  it.each([
    ['no header', undefined],
    ['another scheme', 'Bearer 1000.abc.def'],
    ['no token', 'Zoho-oauthtoken '],
    ['a token of the wrong shape', 'Zoho-oauthtoken not-a-token'],
  ])('answers 401 AUTHENTICATION_FAILURE for %s', async (_case, header) => {
    const zoho = await start();
    const reply = await send(attachmentsUrl(zoho), { headers: header === undefined ? {} : { authorization: header } });
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual({
      code: 'AUTHENTICATION_FAILURE',
      details: {},
      message: 'Authentication failed',
      status: 'error',
    });
  });

  it('answers 401 INVALID_TOKEN for a well-formed token it never issued', async () => {
    const zoho = await start();
    const reply = await send(attachmentsUrl(zoho), { headers: auth(`1000.${'a'.repeat(32)}.${'b'.repeat(32)}`) });
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual({ code: 'INVALID_TOKEN', details: {}, message: 'invalid oauth token', status: 'error' });
  });

  it('answers 401 INVALID_TOKEN once a token has expired', async () => {
    const zoho = await start({ tokenTtlSeconds: 60 });
    const token = await mintToken(zoho);
    advance(59_999);
    const before = await send(attachmentsUrl(zoho), { headers: auth(token) });
    advance(1);
    const after = await send(attachmentsUrl(zoho), { headers: auth(token) });
    expect(before.status).toBe(204);
    expect(after.status).toBe(401);
    expect(after.json.code).toBe('INVALID_TOKEN');
    expect(zoho.inspect().tokens.live).toBe(0);
  });

  it('answers 401 INVALID_TOKEN for every token after expireAllTokens, and a new one works', async () => {
    const zoho = await start();
    const refreshed = await mintToken(zoho);
    const issued = zoho.issueAccessToken();
    zoho.expireAllTokens();
    for (const token of [refreshed, issued]) {
      expect((await send(attachmentsUrl(zoho), { headers: auth(token) })).json.code).toBe('INVALID_TOKEN');
    }
    expect((await send(attachmentsUrl(zoho), { headers: auth(await mintToken(zoho)) })).status).toBe(204);
  });

  it('answers 401 OAUTH_SCOPE_MISMATCH for a token without an attachments scope', async () => {
    const zoho = await start();
    const token = zoho.issueAccessToken({ scopes: ['ZohoCRM.modules.Leads.ALL', 'ZohoCRM.settings.ALL'] });
    const reply = await uploadFile(zoho, token);
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual({
      code: 'OAUTH_SCOPE_MISMATCH',
      details: {},
      message: 'invalid oauth scope to access this URL',
      status: 'error',
    });
  });

  it('lets attachments.CREATE and .WRITE upload but not list; .READ list but not upload', async () => {
    const zoho = await start();
    const results: Record<string, [number, number]> = {};
    for (const scope of ['CREATE', 'WRITE', 'READ', 'ALL']) {
      const token = zoho.issueAccessToken({ scopes: [`ZohoCRM.modules.attachments.${scope}`] });
      const upload = await uploadFile(zoho, token, {}, { recordId: '1' });
      const list = await send(attachmentsUrl(zoho, { recordId: '2' }), { headers: auth(token) });
      results[scope] = [upload.status, list.status];
    }
    expect(results).toEqual({ CREATE: [200, 401], WRITE: [200, 401], READ: [401, 204], ALL: [200, 204] });
  });

  it('compares scopes case-insensitively', async () => {
    const zoho = await start();
    const token = zoho.issueAccessToken({ scopes: ['zohocrm.modules.all'] });
    expect((await uploadFile(zoho, token)).status).toBe(200);
  });

  it('issues tokens with their own lifetime', async () => {
    const zoho = await start();
    const token = zoho.issueAccessToken({ ttlSeconds: 5 });
    advance(5000);
    expect((await send(attachmentsUrl(zoho), { headers: auth(token) })).json.code).toBe('INVALID_TOKEN');
  });
});
