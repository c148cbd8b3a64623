/**
 * The shared OAuth token: real Redis, the fake's real accounts endpoint, and a second node
 * process for the cross-process single-flight refresh.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_CREDENTIALS, startFakeZoho } from '../../src/fake-zoho/index.js';
import { ZohoClient } from '../../src/zoho/client.js';
import { createTokenProvider } from '../../src/zoho/create-token-provider.js';
import { ZohoError } from '../../src/zoho/errors.js';
import { StaticTokenProvider } from '../../src/zoho/static-token-provider.js';
import { keyNames } from '../../src/shared/key-names.js';
import { SharedTokenStore, type SharedTokenStoreOptions } from '../../src/zoho/token-store.js';
import { deleteKeysContaining, TEST_REDIS_URL, testRedis, uniqueName } from '../helpers/redis.js';
import { zohoTestConfig, type TestZohoEnv } from '../helpers/zoho.js';
import { zohoFailure } from '../helpers/zoho-failure.js';

type Fake = Awaited<ReturnType<typeof startFakeZoho>>;

const HOUR = 3_600_000;
const redis = testRedis();
const prefixes: string[] = [];
let fake: Fake;

beforeAll(async () => {
  fake = await startFakeZoho({ refreshLimit: { max: 1000, windowMs: 600_000 } });
});
beforeEach(async () => {
  await fake.reset();
});
afterEach(async () => {
  for (const p of prefixes.splice(0)) await deleteKeysContaining(redis, p);
});
afterAll(async () => {
  await fake.close();
  await redis.quit();
});

function newPrefix(): string {
  const p = uniqueName('zoho-token');
  prefixes.push(p);
  return p;
}

function store(
  prefix: string,
  options: Partial<SharedTokenStoreOptions> & { env?: TestZohoEnv; target?: Fake } = {},
): SharedTokenStore {
  const { env, target, ...rest } = options;
  return new SharedTokenStore({
    config: zohoTestConfig((target ?? fake).url, env),
    redis,
    keys: keyNames(prefix).oauth,
    ...rest,
  });
}

describe('SharedTokenStore', () => {
  it('refreshes once, keeps the token in Redis under the prefix, and reuses it', async () => {
    const prefix = newPrefix();
    const tokens = store(prefix);
    const refreshes: number[] = [];
    tokens.on('refresh', ({ expiresAt }) => refreshes.push(expiresAt));
    const first = await tokens.getToken();
    const second = await tokens.getToken();
    expect(second).toEqual(first);
    expect(first.apiDomain).toBe(fake.url);
    expect(first.expiresAt).toBeGreaterThan(Date.now() + HOUR - 10_000);
    expect(fake.inspect().tokens.refreshes).toBe(1);
    expect(refreshes).toHaveLength(1);
    const raw = await redis.get(keyNames(prefix).oauth.token);
    expect(JSON.parse(raw ?? '{}')).toMatchObject({ accessToken: first.accessToken });
    expect(await redis.pttl(keyNames(prefix).oauth.token)).toBeGreaterThan(HOUR - 10_000);
  });

  it('ten concurrent callers in one process make one refresh', async () => {
    const tokens = store(newPrefix());
    const got = await Promise.all(Array.from({ length: 10 }, () => tokens.getToken()));
    expect(new Set(got.map((t) => t.accessToken)).size).toBe(1);
    expect(fake.inspect().tokens.refreshes).toBe(1);
  });

  it('refreshes a little before expiry (the skew), not after', async () => {
    let clock = Date.now();
    const tokens = store(newPrefix(), { now: () => clock, refreshSkewMs: 60_000 });
    const first = await tokens.getToken();
    clock = first.expiresAt - 61_000;
    expect((await tokens.getToken()).accessToken).toBe(first.accessToken);
    clock = first.expiresAt - 59_000;
    expect((await tokens.getToken()).accessToken).not.toBe(first.accessToken);
    expect(fake.inspect().tokens.refreshes).toBe(2);
  });

  it('caps the skew at half a short-lived token’s life, so it is not refreshed on every call', async () => {
    const shortLived = await startFakeZoho({ tokenTtlSeconds: 4 });
    try {
      const tokens = store(newPrefix(), { target: shortLived, refreshSkewMs: 60_000 });
      await tokens.getToken();
      await tokens.getToken();
      expect(shortLived.inspect().tokens.refreshes).toBe(1);
    } finally {
      await shortLived.close();
    }
  });

  it('reads expires_in in seconds, and prefers expires_in_sec when expires_in is in milliseconds', async () => {
    const old = await startFakeZoho({ expiresInStyle: 'milliseconds' });
    try {
      const token = await store(newPrefix(), { target: old }).getToken();
      expect(token.expiresAt).toBeGreaterThan(Date.now() + HOUR - 10_000);
      expect(token.expiresAt).toBeLessThan(Date.now() + HOUR + 10_000);
    } finally {
      await old.close();
    }
  });

  it('invalidate deletes the shared token only if it is still the one that failed', async () => {
    const prefix = newPrefix();
    const a = store(prefix);
    const b = store(prefix);
    const deleted: boolean[] = [];
    a.on('invalidate', (info) => deleted.push(info.deleted));

    const t1 = await a.getToken();
    // Process B saw a 401 for t1 and replaced it ...
    await b.invalidate(t1.accessToken);
    const t2 = await b.getToken();
    expect(t2.accessToken).not.toBe(t1.accessToken);
    // ... then A's late 401 for t1 arrives: it must not throw t2 away.
    await a.invalidate(t1.accessToken);
    expect(deleted).toEqual([false]);
    expect((await a.getToken()).accessToken).toBe(t2.accessToken);
    expect(fake.inspect().tokens.refreshes).toBe(2);
  });

  it('does not use a token minted with other credentials under the same prefix', async () => {
    const other = { clientId: 'other-id', clientSecret: 'other-secret', refreshToken: 'other-refresh' };
    const twoClients = await startFakeZoho({
      clients: [{ ...FAKE_CREDENTIALS, scopes: [...FAKE_CREDENTIALS.scopes] }, other],
    });
    try {
      const prefix = newPrefix();
      const mine = await store(prefix, { target: twoClients }).getToken();
      const theirs = await store(prefix, { target: twoClients, env: { credentials: other } }).getToken();
      expect(theirs.accessToken).not.toBe(mine.accessToken);
      expect(twoClients.inspect().tokens.refreshes).toBe(2);
    } finally {
      await twoClients.close();
    }
  });

  it('a token minted with the right secret is not handed to a wrong secret: that one asks Zoho and is refused', async () => {
    const prefix = newPrefix();
    await store(prefix).getToken();
    const wrongSecret = store(prefix, { env: { credentials: { ...FAKE_CREDENTIALS, clientSecret: 'wrong-secret' } } });
    const error = await zohoFailure(wrongSecret.getToken());
    expect(error.code).toBe('REFRESH_INVALID_CLIENT');
  });

  it('a held refresh failure belongs to its credentials: another set asks Zoho and gets its own answer', async () => {
    const prefix = newPrefix();
    fake.revokeRefreshToken(FAKE_CREDENTIALS.refreshToken);
    try {
      expect((await zohoFailure(store(prefix, { failureHoldMs: 60_000 }).getToken())).code).toBe(
        'REFRESH_INVALID_CODE',
      );
      const wrongSecret = store(prefix, {
        env: { credentials: { ...FAKE_CREDENTIALS, clientSecret: 'wrong-secret' } },
      });
      expect((await zohoFailure(wrongSecret.getToken())).code).toBe('REFRESH_INVALID_CLIENT');
    } finally {
      fake.restoreRefreshToken(FAKE_CREDENTIALS.refreshToken);
    }
  });

  it('refreshNow refreshes even while the shared token is valid, ignores a held failure, and shares what it mints', async () => {
    const prefix = newPrefix();
    const tokens = store(prefix);
    const first = await tokens.getToken();
    const second = await tokens.refreshNow();
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(fake.inspect().tokens.refreshes).toBe(2);
    expect(JSON.parse((await redis.get(keyNames(prefix).oauth.token)) ?? '{}')).toMatchObject({
      accessToken: second.accessToken,
    });

    fake.revokeRefreshToken(FAKE_CREDENTIALS.refreshToken);
    await redis.del(keyNames(prefix).oauth.token);
    await zohoFailure(store(prefix, { failureHoldMs: 60_000 }).getToken());
    fake.restoreRefreshToken(FAKE_CREDENTIALS.refreshToken);
    await expect(tokens.refreshNow()).resolves.toMatchObject({ apiDomain: fake.url });
    expect(await redis.exists(keyNames(prefix).oauth.refreshFailure)).toBe(0);
  });

  it('a revoked refresh token (HTTP 200 invalid_code) is systemic REFRESH_INVALID_CODE, held briefly for every process', async () => {
    const prefix = newPrefix();
    fake.revokeRefreshToken(FAKE_CREDENTIALS.refreshToken);
    try {
      const error = await zohoFailure(store(prefix, { failureHoldMs: 60_000 }).getToken());
      expect(error).toMatchObject({ code: 'REFRESH_INVALID_CODE', classification: 'systemic', httpStatus: 200 });
      const refused = fake.inspect().tokens.refreshesRefused;
      // Another process meets the same verdict without asking the accounts server again.
      const again = await zohoFailure(store(prefix).getToken());
      expect(again.code).toBe('REFRESH_INVALID_CODE');
      expect(fake.inspect().tokens.refreshesRefused).toBe(refused);
    } finally {
      fake.restoreRefreshToken(FAKE_CREDENTIALS.refreshToken);
    }
  });

  it('gives up on a hung accounts server after refreshTimeoutMs: TIMEOUT, transient', async () => {
    fake.faults.add({ kind: 'hang', match: { path: 'token' } });
    const tokens = store(newPrefix(), { refreshTimeoutMs: 200 });
    const failed: string[] = [];
    tokens.on('refreshFailed', (error) => failed.push(error.code));
    const started = Date.now();
    const error = await zohoFailure(tokens.getToken());
    expect(error).toMatchObject({ code: 'TIMEOUT', classification: 'transient', ambiguous: false });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(failed).toEqual(['TIMEOUT']);
  });

  it('recovers once the failure hold has passed', async () => {
    const prefix = newPrefix();
    fake.revokeRefreshToken(FAKE_CREDENTIALS.refreshToken);
    await zohoFailure(store(prefix, { failureHoldMs: 100 }).getToken());
    fake.restoreRefreshToken(FAKE_CREDENTIALS.refreshToken);
    await expect
      .poll(() => redis.exists(keyNames(prefix).oauth.refreshFailure), { timeout: 2_000, interval: 20 })
      .toBe(0);
    await expect(store(prefix).getToken()).resolves.toMatchObject({ apiDomain: fake.url });
  });

  it('a wrong client secret (HTTP 200 invalid_client) is systemic REFRESH_INVALID_CLIENT', async () => {
    const error = await zohoFailure(
      store(newPrefix(), { env: { credentials: { ...FAKE_CREDENTIALS, clientSecret: 'wrong-secret' } } }).getToken(),
    );
    expect(error).toMatchObject({ code: 'REFRESH_INVALID_CLIENT', classification: 'systemic' });
  });

  it('the refresh throttle (HTTP 200 Access Denied) is REFRESH_THROTTLED, rate_limited', async () => {
    const throttled = await startFakeZoho({ refreshLimit: { max: 1, windowMs: 600_000 } });
    try {
      const prefix = newPrefix();
      const tokens = store(prefix, { target: throttled });
      const first = await tokens.getToken();
      await tokens.invalidate(first.accessToken);
      const error = await zohoFailure(tokens.getToken());
      expect(error).toMatchObject({ code: 'REFRESH_THROTTLED', classification: 'rate_limited' });
    } finally {
      await throttled.close();
    }
  });

  it("a crashed holder's lock expires and the next process refreshes", async () => {
    const prefix = newPrefix();
    await redis.set(keyNames(prefix).oauth.lock, 'crashed-process', 'PX', 300);
    const started = Date.now();
    await store(prefix).getToken();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(fake.inspect().tokens.refreshes).toBe(1);
  });

  it('gives up with TOKEN_WAIT_TIMEOUT (transient) when the lock holder never delivers', async () => {
    const prefix = newPrefix();
    await redis.set(keyNames(prefix).oauth.lock, 'stuck-process', 'PX', 10_000);
    const error = await zohoFailure(store(prefix, { waitTimeoutMs: 200 }).getToken());
    expect(error).toMatchObject({ code: 'TOKEN_WAIT_TIMEOUT', classification: 'transient' });
    expect(fake.inspect().tokens.refreshes).toBe(0);
  });

  it('20 concurrent callers across 2 processes at expiry make exactly one refresh', async () => {
    const prefix = newPrefix();
    // Both processes run their clock an hour ahead: the token stored now is expired for all of them.
    const offset = HOUR;
    const seeded = await store(prefix).getToken();
    const before = fake.inspect().tokens.refreshes;

    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/helpers/zoho-token-race.ts', TEST_REDIS_URL, prefix, fake.url, '10', String(offset)],
      { cwd: process.cwd(), stdio: ['pipe', 'pipe', 'inherit'] },
    );
    try {
      const lines = createInterface({ input: child.stdout });
      const output: string[] = [];
      const nextLine = () => new Promise<string>((resolve) => lines.once('line', resolve));
      expect(await nextLine()).toBe('ready');
      const childResult = nextLine();

      const here = store(prefix, { now: () => Date.now() + offset });
      child.stdin.write('go\n');
      const mine = await Promise.all(Array.from({ length: 10 }, () => here.getToken()));
      output.push(await childResult);
      const theirs = JSON.parse(output[0]!) as string[];

      expect(theirs).toHaveLength(10);
      const all = new Set([...mine.map((t) => t.accessToken), ...theirs]);
      expect(all.size).toBe(1);
      expect(all.has(seeded.accessToken)).toBe(false);
      expect(fake.inspect().tokens.refreshes).toBe(before + 1);
      const [code] = (await once(child, 'exit')) as [number];
      expect(code).toBe(0);
    } finally {
      child.kill();
    }
  });
});

describe('StaticTokenProvider and createTokenProvider', () => {
  it('a fixed token is handed out until it is invalidated, then fails systemically', async () => {
    const tokens = new StaticTokenProvider('1000.fixed');
    expect((await tokens.getToken()).accessToken).toBe('1000.fixed');
    await tokens.invalidate('1000.some-other');
    expect((await tokens.getToken()).accessToken).toBe('1000.fixed');
    await tokens.invalidate('1000.fixed');
    const error = await zohoFailure(tokens.getToken());
    expect(error).toMatchObject({ code: 'ACCESS_TOKEN_REJECTED', classification: 'systemic' });
  });

  it('picks the provider the configuration asks for', () => {
    const prefix = newPrefix();
    expect(createTokenProvider(zohoTestConfig(fake.url), redis, keyNames(prefix).oauth)).toBeInstanceOf(
      SharedTokenStore,
    );
    expect(
      createTokenProvider(
        zohoTestConfig(fake.url, { credentials: false, accessToken: 't' }),
        redis,
        keyNames(prefix).oauth,
      ),
    ).toBeInstanceOf(StaticTokenProvider);
    let error: unknown;
    try {
      createTokenProvider(zohoTestConfig(fake.url, { credentials: false }), redis, keyNames(prefix).oauth);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'NO_CREDENTIALS', classification: 'systemic' });
  });
});

describe('secrets', () => {
  it('no error message, JSON or inspection ever shows a token, refresh token or client secret', async () => {
    const secret = 'super-secret-client-secret-0123';
    const refreshToken = 'super-secret-refresh-token-4567';
    const withSecrets = await startFakeZoho({ clients: [{ clientId: 'id-1', clientSecret: secret, refreshToken }] });
    const errors: unknown[] = [];
    const collect = (p: Promise<unknown>) =>
      p.then(
        () => expect.unreachable('should have failed'),
        (e: unknown) => errors.push(e),
      );
    const prefix = newPrefix();
    const accessTokens: string[] = [];
    try {
      // invalid_client: the right refresh token with a wrong secret, and the right secret with a wrong refresh token.
      await collect(
        store(newPrefix(), {
          target: withSecrets,
          env: { credentials: { clientId: 'id-1', clientSecret: 'wrong', refreshToken } },
        }).getToken(),
      );
      await collect(
        store(newPrefix(), {
          target: withSecrets,
          env: { credentials: { clientId: 'id-1', clientSecret: secret, refreshToken: `${refreshToken}x` } },
        }).getToken(),
      );
      // invalid_code.
      withSecrets.revokeRefreshToken(refreshToken);
      await collect(
        store(newPrefix(), {
          target: withSecrets,
          env: { credentials: { clientId: 'id-1', clientSecret: secret, refreshToken } },
        }).getToken(),
      );
      withSecrets.restoreRefreshToken(refreshToken);
      // The accounts server unreachable.
      const unreachable = zohoTestConfig('http://127.0.0.1:9', {
        credentials: { clientId: 'id-1', clientSecret: secret, refreshToken },
      });
      await collect(new SharedTokenStore({ config: unreachable, redis, keys: keyNames(newPrefix()).oauth }).getToken());
      // API answers to a real token: expired, scope mismatch, refused connection.
      const tokens = store(prefix, {
        target: withSecrets,
        env: { credentials: { clientId: 'id-1', clientSecret: secret, refreshToken } },
      });
      accessTokens.push((await tokens.getToken()).accessToken);
      const client = new ZohoClient({
        config: zohoTestConfig(withSecrets.url, {
          credentials: { clientId: 'id-1', clientSecret: secret, refreshToken },
        }),
        tokens,
      });
      withSecrets.faults.add({ kind: 'error500' });
      await collect(client.uploadLink({ module: 'Leads', recordId: '1', url: 'https://example.com' }));
      const narrow = withSecrets.issueAccessToken({ scopes: ['ZohoCRM.modules.Leads.READ'] });
      accessTokens.push(narrow);
      const narrowClient = new ZohoClient({
        config: zohoTestConfig(withSecrets.url, {
          credentials: false,
          accessToken: narrow,
          apiDomain: withSecrets.url,
        }),
        tokens: new StaticTokenProvider(narrow),
      });
      await collect(narrowClient.uploadLink({ module: 'Leads', recordId: '1', url: 'https://example.com' }));
      withSecrets.expireAllTokens();
      await collect(narrowClient.listAttachments('Leads', '1'));
      await Promise.all([client.close(), narrowClient.close()]);

      expect(errors.length).toBeGreaterThanOrEqual(7);
      const forbidden = [secret, refreshToken, ...accessTokens];
      for (const error of errors) {
        const views = [String(error), JSON.stringify(error), inspect(error, { depth: 10 })];
        if (error instanceof ZohoError) views.push(JSON.stringify(error.toJSON()), error.stack ?? '');
        for (const view of views) for (const value of forbidden) expect(view).not.toContain(value);
      }
      for (const view of [inspect(tokens, { depth: 10 }), JSON.stringify({ ...tokens, redis: undefined })]) {
        for (const value of [secret, refreshToken]) expect(view).not.toContain(value);
      }
    } finally {
      await withSecrets.close();
    }
  });
});
