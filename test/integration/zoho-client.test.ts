/**
 * The Zoho client over real HTTP against the fake Zoho, with the token shared through a real Redis.
 */
import { keyNames } from '../../src/shared/key-names.js';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeZoho } from '../../src/fake-zoho/index.js';
import { ZohoClient, type UploadSource } from '../../src/zoho/client.js';
import { ZohoError } from '../../src/zoho/errors.js';
import { MAX_FILE_NAME_LENGTH, sanitizeFileName } from '../../src/zoho/filename.js';
import { StaticTokenProvider } from '../../src/zoho/static-token-provider.js';
import { SharedTokenStore } from '../../src/zoho/token-store.js';
import { deleteKeysContaining, testRedis, uniqueName } from '../helpers/redis.js';
import { zohoTestConfig, type TestZohoEnv } from '../helpers/zoho.js';

type Fake = Awaited<ReturnType<typeof startFakeZoho>>;

const redis = testRedis();
const prefix = uniqueName('zoho-client');
let fake: Fake;
const extraFakes: Fake[] = [];
const clients: ZohoClient[] = [];

beforeAll(async () => {
  fake = await startFakeZoho({ refreshLimit: { max: 1000, windowMs: 600_000 } });
});
afterEach(async () => {
  await fake.reset();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await Promise.all(extraFakes.map((f) => f.close()));
  await fake.close();
  await deleteKeysContaining(redis, prefix);
  await redis.quit();
});

/** A client whose token comes from the Redis-shared store, like a worker's. */
function sharedClient(
  env: TestZohoEnv = {},
  target: Fake = fake,
  dispatcher?: Agent,
): { client: ZohoClient; store: SharedTokenStore } {
  const config = zohoTestConfig(target.url, env);
  const store = new SharedTokenStore({
    config,
    redis,
    keys: keyNames(target === fake ? prefix : `${prefix}:${target.url}`).oauth,
  });
  const client = new ZohoClient({ config, tokens: store, dispatcher });
  clients.push(client);
  return { client, store };
}

/** A client with a fixed token. */
function staticClient(accessToken: string, env: TestZohoEnv = {}): ZohoClient {
  const config = zohoTestConfig(fake.url, { credentials: false, accessToken, apiDomain: fake.url, ...env });
  const client = new ZohoClient({ config, tokens: new StaticTokenProvider(accessToken) });
  clients.push(client);
  return client;
}

function source(content: Buffer | string, fileName: string, size?: number): () => Promise<UploadSource> {
  const bytes = Buffer.from(content);
  return async () => ({ stream: Readable.from([bytes]), size: size ?? bytes.length, fileName });
}

function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function failure(promise: Promise<unknown>): Promise<ZohoError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ZohoError);
  return error as ZohoError;
}

describe('uploads', () => {
  it('streams a file, keeps its unicode name, and the bytes arrive intact', async () => {
    const { client } = sharedClient();
    const content = Buffer.from('%PDF-1.4 pretend\r\n--not-a-boundary\r\n'.repeat(1000));
    const result = await client.uploadFile({
      module: 'Leads',
      recordId: '4150868000000225013',
      open: source(content, 'Überweisung €.pdf'),
    });
    expect(result.attachmentId).toMatch(/^\d{19}$/);
    const [stored] = fake.inspect().attachments;
    expect(stored).toMatchObject({
      id: result.attachmentId,
      module: 'Leads',
      recordId: '4150868000000225013',
      fileName: 'Überweisung €.pdf',
      size: content.length,
      sha256: sha256(content),
      type: 'Attachment',
    });
  });

  it.each([
    ['quotes', 'say "hi".txt'],
    ['a backslash and slashes', 'C:\\Users\\x/y.txt'],
    ['CR/LF header injection', 'a.txt"\r\nContent-Type: text/html\r\n\r\nboom'],
    ['a semicolon and percent', 'a;b 100%.txt'],
    ['emoji and CJK', '📎 添付ファイル.docx'],
    ['a name over 250 characters', `${'ß'.repeat(300)}.xlsx`],
  ])('a file name with %s is stored cleaned, never breaking the headers', async (_label, fileName) => {
    const { client } = sharedClient();
    const result = await client.uploadFile({ module: 'Contacts', recordId: '1', open: source('x', fileName) });
    const stored = fake.inspect().attachments.find((a) => a.id === result.attachmentId);
    expect(stored?.fileName).toBe(sanitizeFileName(fileName));
    expect(stored?.fileName.length).toBeLessThanOrEqual(MAX_FILE_NAME_LENGTH);
    expect(stored?.size).toBe(1);
  });

  it('keeps the extension of a shortened name', async () => {
    const { client } = sharedClient();
    const result = await client.uploadFile({
      module: 'Deals',
      recordId: '2',
      open: source('x', `${'n'.repeat(400)}.pdf`),
    });
    const stored = fake.inspect().attachments.find((a) => a.id === result.attachmentId);
    expect(stored?.fileName).toHaveLength(250);
    expect(stored?.fileName.endsWith('.pdf')).toBe(true);
  });

  it('fails BODY_SIZE_MISMATCH (transient, not ambiguous) when the file is shorter than announced, storing nothing', async () => {
    const { client } = sharedClient();
    const error = await failure(
      client.uploadFile({ module: 'Leads', recordId: '1', open: source('short', 'a.txt', 1000) }),
    );
    expect(error).toMatchObject({ code: 'BODY_SIZE_MISMATCH', classification: 'transient', ambiguous: false });
    expect(fake.inspect().attachments).toHaveLength(0);
  });

  it('fails BODY_SIZE_MISMATCH when the file grew, storing nothing', async () => {
    const { client } = sharedClient();
    const error = await failure(
      client.uploadFile({ module: 'Leads', recordId: '1', open: source('x'.repeat(5000), 'a.txt', 10) }),
    );
    expect(error.code).toBe('BODY_SIZE_MISMATCH');
    expect(fake.inspect().attachments).toHaveLength(0);
  });

  it('attaches a link with a title; a title with CR/LF is cleaned', async () => {
    const { client } = sharedClient();
    const url = 'https://example.com/docs?id=1&x=ü';
    const result = await client.uploadLink({ module: 'Accounts', recordId: '77', url, title: 'Spec\r\nv2\t"final"' });
    const stored = fake.inspect().attachments.find((a) => a.id === result.attachmentId);
    expect(stored).toMatchObject({ type: 'Link URL', linkUrl: url, title: 'Spec v2 "final"' });
  });

  it('the same link twice answers DUPLICATE_DATA (permanent)', async () => {
    const { client } = sharedClient();
    await client.uploadLink({ module: 'Accounts', recordId: '77', url: 'https://example.com/a' });
    const error = await failure(
      client.uploadLink({ module: 'Accounts', recordId: '77', url: 'https://example.com/a' }),
    );
    expect(error).toMatchObject({
      code: 'DUPLICATE_DATA',
      httpStatus: 400,
      classification: 'permanent',
      ambiguous: false,
    });
  });

  it('reports X-API-CREDITS-REMAINING once Zoho sends it', async () => {
    const limited = await startFakeZoho({ dailyCredits: 4 });
    extraFakes.push(limited);
    const { client } = sharedClient({}, limited);
    const first = await client.uploadLink({ module: 'Leads', recordId: '1', url: 'https://example.com/1' });
    const second = await client.uploadLink({ module: 'Leads', recordId: '1', url: 'https://example.com/2' });
    const third = await client.uploadLink({ module: 'Leads', recordId: '1', url: 'https://example.com/3' });
    // Zoho sends the header only once half the day's credits are spent.
    expect(first.creditsRemaining).toBeUndefined();
    expect(second.creditsRemaining).toBe(2);
    expect(third.creditsRemaining).toBe(1);
  });
});

describe('list, download, delete', () => {
  it('an empty record lists empty whether Zoho answers 204 or an empty 200', async () => {
    const { client } = sharedClient();
    expect(await client.listAttachments('Leads', '5')).toEqual({
      attachments: [],
      moreRecords: false,
      creditsRemaining: undefined,
    });
    expect(fake.inspect().counters['204 NO_CONTENT']).toBe(1);
    expect(await client.listAllAttachments('Leads', '5')).toEqual([]);

    const empty200 = await startFakeZoho({ emptyListStyle: 'empty200' });
    extraFakes.push(empty200);
    const other = sharedClient({}, empty200).client;
    expect(await other.listAttachments('Leads', '5')).toMatchObject({ attachments: [], moreRecords: false });
    expect(await other.listAllAttachments('Leads', '5')).toEqual([]);
    expect(empty200.inspect().counters['200 SUCCESS']).toBe(2);
  });

  it('pages through a record and returns every row with its fields', async () => {
    const { client } = sharedClient();
    for (let i = 0; i < 5; i++)
      await client.uploadLink({ module: 'Leads', recordId: '9', url: `https://example.com/${i}` });
    await client.uploadFile({ module: 'Leads', recordId: '9', open: source('12345', 'five.txt') });

    const page1 = await client.listAttachments('Leads', '9', { perPage: 4 });
    expect(page1.attachments).toHaveLength(4);
    expect(page1.moreRecords).toBe(true);
    const page2 = await client.listAttachments('Leads', '9', { perPage: 4, page: 2 });
    expect(page2.attachments).toHaveLength(2);
    expect(page2.moreRecords).toBe(false);

    const all = await client.listAllAttachments('Leads', '9', { perPage: 2 });
    expect(all).toHaveLength(6);
    expect(new Set(all.map((a) => a.id)).size).toBe(6);
    const file = all.find((a) => a.fileName === 'five.txt');
    expect(file).toMatchObject({ size: 5, type: 'Attachment' });
    expect(file?.id).toMatch(/^\d{19}$/);
    expect(file?.createdTime).not.toBe('');
    expect(all.filter((a) => a.linkUrl?.startsWith('https://example.com/'))).toHaveLength(5);
  });

  it('on API v3+ sends the fields parameter Zoho requires there', async () => {
    const { client } = sharedClient({ apiVersion: 'v3' });
    await client.uploadFile({ module: 'Leads', recordId: '10', open: source('abc', 'v3.txt') });
    const v8 = sharedClient({ apiVersion: 'v8' }).client;
    const [row] = await v8.listAllAttachments('Leads', '10');
    expect(row).toMatchObject({ fileName: 'v3.txt', size: 3 });
  });

  it('downloads an attachment with its unicode name', async () => {
    const { client } = sharedClient();
    const { attachmentId } = await client.uploadFile({
      module: 'Leads',
      recordId: '11',
      open: source('the bytes', 'Résumé "final".txt'),
    });
    const download = await client.downloadAttachment('Leads', '11', attachmentId);
    // The double quote cannot travel inside filename="…": it becomes an apostrophe.
    expect(download.fileName).toBe("Résumé 'final'.txt");
    expect(await text(download.stream)).toBe('the bytes');
  });

  it('deletes one attachment, then several with ids=', async () => {
    const { client } = sharedClient();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++)
      ids.push(
        (await client.uploadLink({ module: 'Leads', recordId: '12', url: `https://example.com/d${i}` })).attachmentId,
      );
    await client.deleteAttachments('Leads', '12', [ids[0]!]);
    expect((await client.listAllAttachments('Leads', '12')).map((a) => a.id).sort()).toEqual(ids.slice(1).sort());
    await client.deleteAttachments('Leads', '12', ids.slice(1));
    expect(await client.listAllAttachments('Leads', '12')).toEqual([]);
    expect(fake.inspect().calls.delete).toBe(2);
    await client.deleteAttachments('Leads', '12', []);
    expect(fake.inspect().calls.delete).toBe(2);
  });

  it('a delete of several ids that Zoho partly refuses fails, naming the refused ids', async () => {
    const { client } = sharedClient();
    const { attachmentId } = await client.uploadLink({
      module: 'Leads',
      recordId: '13',
      url: 'https://example.com/keep',
    });
    const missing = '1234567890123456789';
    const error = await failure(client.deleteAttachments('Leads', '13', [attachmentId, missing]));
    expect(error).toMatchObject({ code: 'INVALID_DATA', classification: 'permanent' });
    expect(error.details?.failed).toEqual([{ id: missing, code: 'INVALID_DATA' }]);
    expect(await client.listAllAttachments('Leads', '13')).toEqual([]);
  });

  it('an unknown attachment id answers INVALID_DATA to a download or a single delete', async () => {
    const { client } = sharedClient();
    await expect(client.downloadAttachment('Leads', '13', '1234567890123456789')).rejects.toMatchObject({
      code: 'INVALID_DATA',
      httpStatus: 400,
    });
    await expect(client.deleteAttachments('Leads', '13', ['1234567890123456789'])).rejects.toMatchObject({
      code: 'INVALID_DATA',
      classification: 'permanent',
    });
  });

  it('refuses an attachment id that could widen a delete', async () => {
    const { client } = sharedClient();
    const error = await failure(client.deleteAttachments('Leads', '12', ['1,2']));
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', classification: 'permanent' });
  });
});

describe('the contract error table, over HTTP', () => {
  it('400 INVALID_MODULE is permanent', async () => {
    const { client } = sharedClient();
    const error = await failure(client.uploadFile({ module: 'NotAModule', recordId: '1', open: source('x', 'a.txt') }));
    expect(error).toMatchObject({
      code: 'INVALID_MODULE',
      httpStatus: 400,
      zohoCode: 'INVALID_MODULE',
      classification: 'permanent',
    });
    expect(error.details).toMatchObject({ resource_path_index: 0 });
    expect(error.message).toMatch(/^\[INVALID_MODULE\] /);
  });

  it('400 INVALID_DATA (bad record id) is permanent', async () => {
    const { client } = sharedClient();
    const error = await failure(client.listAttachments('Leads', 'not-a-number'));
    expect(error).toMatchObject({ code: 'INVALID_DATA', httpStatus: 400, classification: 'permanent' });
    expect(error.details).toMatchObject({ resource_path_index: 1 });
  });

  it('404 INVALID_URL_PATTERN is permanent', async () => {
    const { client } = sharedClient({ apiVersion: 'v99' });
    const error = await failure(client.listAttachments('Leads', '1'));
    expect(error).toMatchObject({ code: 'INVALID_URL_PATTERN', httpStatus: 404, classification: 'permanent' });
  });

  it('413 FILE_SIZE_MORE_THAN_ALLOWED_SIZE is permanent', async () => {
    const small = await startFakeZoho({ maxUploadBytes: 1000 });
    extraFakes.push(small);
    const { client } = sharedClient({}, small);
    const error = await failure(
      client.uploadFile({ module: 'Leads', recordId: '1', open: source(Buffer.alloc(200_000), 'big.bin') }),
    );
    expect(error).toMatchObject({
      code: 'FILE_SIZE_MORE_THAN_ALLOWED_SIZE',
      httpStatus: 413,
      classification: 'permanent',
    });
  });

  it('401 INVALID_TOKEN: invalidates, refreshes once and retries, re-opening the file', async () => {
    const { client, store } = sharedClient();
    await client.listAttachments('Leads', '1');
    const before = fake.inspect().tokens.refreshes;
    const invalidations: boolean[] = [];
    store.on('invalidate', ({ deleted }) => invalidations.push(deleted));
    fake.expireAllTokens();
    let opened = 0;
    const result = await client.uploadFile({
      module: 'Leads',
      recordId: '1',
      open: async () => {
        opened++;
        return { stream: Readable.from([Buffer.from('retry me')]), size: 8, fileName: 'r.txt' };
      },
    });
    expect(result.attachmentId).toMatch(/^\d+$/);
    expect(opened).toBe(2);
    expect(invalidations).toEqual([true]);
    expect(fake.inspect().tokens.refreshes).toBe(before + 1);
    expect(fake.inspect().attachments).toHaveLength(1);
  });

  it('401 INVALID_TOKEN on a fixed token: systemic ACCESS_TOKEN_REJECTED, since it cannot be refreshed', async () => {
    const token = fake.issueAccessToken({});
    const client = staticClient(token);
    await client.listAttachments('Leads', '1');
    fake.expireAllTokens();
    const error = await failure(client.listAttachments('Leads', '1'));
    expect(error).toMatchObject({ code: 'ACCESS_TOKEN_REJECTED', classification: 'systemic' });
  });

  it('401 AUTHENTICATION_FAILURE is systemic', async () => {
    const client = staticClient('garbled token');
    const error = await failure(client.listAttachments('Leads', '1'));
    expect(error).toMatchObject({ code: 'AUTHENTICATION_FAILURE', httpStatus: 401, classification: 'systemic' });
  });

  it('401 OAUTH_SCOPE_MISMATCH is systemic', async () => {
    const client = staticClient(fake.issueAccessToken({ scopes: ['ZohoCRM.modules.Leads.READ'] }));
    const error = await failure(client.uploadFile({ module: 'Leads', recordId: '1', open: source('x', 'a.txt') }));
    expect(error).toMatchObject({ code: 'OAUTH_SCOPE_MISMATCH', httpStatus: 401, classification: 'systemic' });
  });

  it('429 TOO_MANY_REQUESTS is rate_limited, with the credits left when Zoho says', async () => {
    const { client } = sharedClient();
    fake.faults.add({ kind: 'error429', match: { path: 'upload' } });
    const error = await failure(client.uploadLink({ module: 'Leads', recordId: '1', url: 'https://example.com/429' }));
    expect(error).toMatchObject({ code: 'TOO_MANY_REQUESTS', httpStatus: 429, classification: 'rate_limited' });

    const exhausted = await startFakeZoho({ dailyCredits: 2 });
    extraFakes.push(exhausted);
    const other = sharedClient({}, exhausted).client;
    await other.listAttachments('Leads', '1');
    await other.listAttachments('Leads', '1');
    const spent = await failure(other.listAttachments('Leads', '1'));
    expect(spent).toMatchObject({ code: 'TOO_MANY_REQUESTS', classification: 'rate_limited', creditsRemaining: 0 });
  });

  it('500 INTERNAL_ERROR is transient and ambiguous (Zoho may have stored the file)', async () => {
    const { client } = sharedClient();
    fake.faults.add({ kind: 'storeThen500', match: { path: 'upload' } });
    const error = await failure(client.uploadFile({ module: 'Leads', recordId: '1', open: source('x', 'a.txt') }));
    expect(error).toMatchObject({
      code: 'INTERNAL_ERROR',
      httpStatus: 500,
      classification: 'transient',
      ambiguous: true,
    });
    expect(fake.inspect().attachments).toHaveLength(1);
  });

  it('a reset connection after the body was sent is transient and ambiguous', async () => {
    const { client } = sharedClient();
    fake.faults.add({ kind: 'resetAfterStore', match: { path: 'upload' } });
    const error = await failure(
      client.uploadFile({ module: 'Leads', recordId: '1', open: source('x'.repeat(10_000), 'a.txt') }),
    );
    expect(error).toMatchObject({ code: 'NETWORK_ERROR', classification: 'transient', ambiguous: true });
    expect(fake.inspect().attachments).toHaveLength(1);
  });

  it('a reset on a read is transient, not ambiguous', async () => {
    const { client } = sharedClient();
    fake.faults.add({ kind: 'reset', match: { path: 'list' } });
    const error = await failure(client.listAttachments('Leads', '1'));
    expect(error).toMatchObject({ code: 'NETWORK_ERROR', classification: 'transient', ambiguous: false });
  });

  it('a link upload is a body too: a reset after it was sent is ambiguous', async () => {
    const { client } = sharedClient();
    fake.faults.add({ kind: 'resetAfterStore', match: { path: 'upload' } });
    const error = await failure(
      client.uploadLink({ module: 'Leads', recordId: '1', url: 'https://example.com/reset' }),
    );
    expect(error).toMatchObject({ code: 'NETWORK_ERROR', classification: 'transient', ambiguous: true });
    expect(fake.inspect().attachments).toHaveLength(1);
  });

  it('a delete whose connection is reset is ambiguous: its request is whole once sent', async () => {
    const { client } = sharedClient();
    const { attachmentId } = await client.uploadLink({
      module: 'Leads',
      recordId: '1',
      url: 'https://example.com/del',
    });
    fake.faults.add({ kind: 'resetAfterStore', match: { path: 'delete' } });
    const error = await failure(client.deleteAttachments('Leads', '1', [attachmentId]));
    expect(error).toMatchObject({ code: 'NETWORK_ERROR', classification: 'transient', ambiguous: true });
    expect(fake.inspect().attachments).toHaveLength(0);
  });

  it('a delete aborted before it was handed over is not ambiguous, and reaches nothing', async () => {
    const { client } = sharedClient();
    const { attachmentId } = await client.uploadLink({
      module: 'Leads',
      recordId: '1',
      url: 'https://example.com/kept',
    });
    const error = await failure(
      client.deleteAttachments('Leads', '1', [attachmentId], { signal: AbortSignal.abort() }),
    );
    expect(error).toMatchObject({ code: 'ABORTED', classification: 'transient', ambiguous: false });
    expect(fake.inspect().calls.delete).toBe(0);
    expect(fake.inspect().attachments).toHaveLength(1);
  });

  it('a 500 on a read is transient, not ambiguous (reads never are)', async () => {
    const { client } = sharedClient();
    fake.faults.add({ kind: 'error500', match: { path: 'list' } });
    const error = await failure(client.listAttachments('Leads', '1'));
    expect(error).toMatchObject({
      code: 'INTERNAL_ERROR',
      httpStatus: 500,
      classification: 'transient',
      ambiguous: false,
    });
  });

  it('a hung server is given up on after requestTimeoutMs: TIMEOUT, transient, ambiguous for an upload', async () => {
    const { client } = sharedClient({ requestTimeoutMs: 300 });
    await client.listAttachments('Leads', '1');
    fake.faults.add({ kind: 'hang', match: { path: 'upload' } });
    const started = Date.now();
    const error = await failure(client.uploadFile({ module: 'Leads', recordId: '1', open: source('x', 'a.txt') }));
    expect(error).toMatchObject({ code: 'TIMEOUT', classification: 'transient', ambiguous: true });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('a refused connection is transient and never ambiguous', async () => {
    const closed = await startFakeZoho();
    const url = closed.url;
    await closed.close();
    const client = staticClient(fake.issueAccessToken({}), { apiDomain: url });
    const error = await failure(client.uploadLink({ module: 'Leads', recordId: '1', url: 'https://example.com' }));
    expect(error).toMatchObject({ code: 'NETWORK_ERROR', classification: 'transient', ambiguous: false });
  });

  it("the caller's signal ends a call: ABORTED, or TIMEOUT for AbortSignal.timeout()", async () => {
    const { client } = sharedClient();
    await client.listAttachments('Leads', '1');
    fake.faults.add({ kind: 'hang', match: { path: 'list' }, times: 2 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const aborted = await failure(client.listAttachments('Leads', '1', { signal: controller.signal }));
    expect(aborted).toMatchObject({ code: 'ABORTED', classification: 'transient', ambiguous: false });
    const timedOut = await failure(client.listAttachments('Leads', '1', { signal: AbortSignal.timeout(50) }));
    expect(timedOut).toMatchObject({ code: 'TIMEOUT', classification: 'transient' });
  });
});

describe('API domain', () => {
  it("uses the token's api_domain unless ZOHO_API_DOMAIN overrides it", async () => {
    // Not overridden: the config's domain is the real US one, unreachable here; the token's (the fake) must win.
    const { client } = sharedClient();
    await expect(client.listAttachments('Leads', '1')).resolves.toBeDefined();

    // Overridden: a token naming a dead domain is ignored.
    const config = zohoTestConfig(fake.url, { credentials: false, accessToken: 'x', apiDomain: fake.url });
    const token = fake.issueAccessToken({});
    const pinned = new ZohoClient({ config, tokens: new StaticTokenProvider(token, 'http://127.0.0.1:9') });
    clients.push(pinned);
    await expect(pinned.listAttachments('Leads', '1')).resolves.toBeDefined();
  });
});

describe('connections', () => {
  it('consumes every answer body: many failures through a single connection all complete', async () => {
    const agent = new Agent({ connections: 1, pipelining: 1 });
    const { client } = sharedClient({}, fake, agent);
    const { attachmentId } = await client.uploadFile({
      module: 'Leads',
      recordId: '20',
      open: source('payload', 'p.txt'),
    });
    fake.faults.add({ kind: 'error500', match: { path: 'list' }, times: 10 });
    const calls: Array<Promise<unknown>> = [];
    for (let i = 0; i < 10; i++) {
      calls.push(client.listAttachments('Leads', '20'));
      calls.push(client.listAttachments('Leads', 'bad-id'));
      calls.push(client.uploadFile({ module: 'NoSuchModule', recordId: '1', open: source('x'.repeat(1000), 'a.txt') }));
      calls.push(client.downloadAttachment('Leads', '20', '1234567890123456789'));
    }
    const settled = await Promise.allSettled(calls);
    expect(settled.filter((s) => s.status === 'rejected').length).toBeGreaterThanOrEqual(30);
    // A download the caller abandons part-way must not hold the connection either.
    const abandoned = await client.downloadAttachment('Leads', '20', attachmentId);
    for await (const chunk of abandoned.stream) {
      expect(chunk).toBeDefined();
      break;
    }
    const all = await client.listAllAttachments('Leads', '20');
    expect(all).toHaveLength(1);
    await agent.close();
  });

  it('drains large error pages (a proxy 502 HTML page), which would otherwise hold the only connection', async () => {
    // The fake's error bodies are small enough for undici to buffer whole, so a body left unread
    // would not block it; a front proxy's error page is not. This server stands in for that proxy.
    const page = `<html>${'x'.repeat(512 * 1024)}</html>`;
    let served = 0;
    const proxy = createServer((req, res) => {
      req.resume();
      served++;
      if (served <= 5) res.writeHead(502, { 'content-type': 'text/html' }).end(page);
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":[],"info":{"more_records":false}}');
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const agent = new Agent({ connections: 1, pipelining: 1 });
    const config = zohoTestConfig(url, {
      credentials: false,
      accessToken: 't',
      apiDomain: url,
      requestTimeoutMs: 2000,
    });
    const client = new ZohoClient({ config, tokens: new StaticTokenProvider('t'), dispatcher: agent });
    try {
      for (let i = 0; i < 5; i++) {
        const error = await failure(client.listAttachments('Leads', '1'));
        expect(error).toMatchObject({ code: 'HTTP_SERVER_ERROR', httpStatus: 502, classification: 'transient' });
      }
      expect(await client.listAttachments('Leads', '1')).toMatchObject({ attachments: [] });
    } finally {
      await agent.close();
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  }, 5_000);
});
