/**
 * ZohoClient.findRecordsByField over real HTTP against the fake Zoho's Query API, with the token
 * shared through a real Redis: one, none and several matches, 50 values a query, paging, quoting,
 * the names and values refused before any call, and Zoho's errors classified like every call's.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeZoho } from '../../src/fake-zoho/index.js';
import { MAX_COQL_VALUES, ZohoClient } from '../../src/zoho/client.js';
import { StaticTokenProvider } from '../../src/zoho/static-token-provider.js';
import { SharedTokenStore } from '../../src/zoho/token-store.js';
import { keyNames } from '../../src/shared/key-names.js';
import { deleteKeysContaining, testRedis, uniqueName } from '../helpers/redis.js';
import { zohoTestConfig, type TestZohoEnv } from '../helpers/zoho.js';
import { zohoFailure } from '../helpers/zoho-failure.js';

type Fake = Awaited<ReturnType<typeof startFakeZoho>>;

const redis = testRedis();
const prefix = uniqueName('zoho-client-coql');
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
function sharedClient(env: TestZohoEnv = {}, target: Fake = fake): ZohoClient {
  const config = zohoTestConfig(target.url, env);
  const keys = keyNames(target === fake ? prefix : `${prefix}:${target.url}`).oauth;
  const client = new ZohoClient({ config, tokens: new SharedTokenStore({ config, redis, keys }) });
  clients.push(client);
  return client;
}

/** A client with a fixed token. */
function staticClient(accessToken: string): ZohoClient {
  const config = zohoTestConfig(fake.url, { credentials: false, accessToken, apiDomain: fake.url });
  const client = new ZohoClient({ config, tokens: new StaticTokenProvider(accessToken) });
  clients.push(client);
  return client;
}

function addContact(legacyId: string, target: Fake = fake): string {
  return target.records.add({ module: 'Contacts', fields: { Legacy_Id: legacyId } }).id;
}

describe('findRecordsByField', () => {
  it('maps each value to the ids holding it: one, none, two (ambiguous), in one query', async () => {
    const one = addContact('L-1');
    const first = addContact('L-2');
    const second = addContact('L-2');
    addContact('L-3');
    const client = sharedClient();

    const found = await client.findRecordsByField('Contacts', 'Legacy_Id', ['L-1', 'L-404', 'L-2']);

    expect(found).toEqual(
      new Map([
        ['L-1', [one]],
        ['L-404', []],
        ['L-2', [first, second]],
      ]),
    );
    const snapshot = fake.inspect();
    expect(snapshot.coqlCalls).toBe(1);
    expect(snapshot.creditsUsed).toBe(1);
  });

  it(`splits 120 values into 3 queries of at most ${MAX_COQL_VALUES}, one credit each`, async () => {
    const values = Array.from({ length: 120 }, (_, index) => `K-${index}`);
    const ids = values.map((value) => addContact(value));
    const client = sharedClient();

    const found = await client.findRecordsByField('Contacts', 'Legacy_Id', values);

    expect([...found.keys()]).toEqual(values);
    expect(values.map((value) => found.get(value))).toEqual(ids.map((id) => [id]));
    // The fake answers 400 LIMIT_EXCEEDED to a query of 51 values: three answers of 200 prove the split.
    expect(fake.inspect()).toMatchObject({ coqlCalls: 3, creditsUsed: 3, counters: { '200 SUCCESS': 3 } });
  });

  it('asks a value given twice once, and asks nothing for no values', async () => {
    const id = addContact('L-1');
    const client = sharedClient();
    expect(await client.findRecordsByField('Contacts', 'Legacy_Id', ['L-1', 'L-1'])).toEqual(new Map([['L-1', [id]]]));
    expect(await client.findRecordsByField('Contacts', 'Legacy_Id', [])).toEqual(new Map());
    expect(fake.inspect().coqlCalls).toBe(1);
  });

  it('follows more_records: 250 records holding one value come in two pages', async () => {
    const ids = Array.from({ length: 250 }, () => addContact('SHARED'));
    const client = sharedClient();

    const found = await client.findRecordsByField('Contacts', 'Legacy_Id', ['SHARED']);

    expect(found.get('SHARED')).toEqual(ids);
    expect(fake.inspect().coqlCalls).toBe(2);
  });

  it("doubles a quote inside a value, so O'Brien is found and a value cannot widen the query", async () => {
    const obrien = addContact("O'Brien");
    addContact('L-2');
    const client = sharedClient();
    const injection = "x') or Legacy_Id in ('L-2";

    const found = await client.findRecordsByField('Contacts', 'Legacy_Id', ["O'Brien", injection]);

    expect(found).toEqual(
      new Map([
        ["O'Brien", [obrien]],
        [injection, []],
      ]),
    );
    expect(fake.inspect().counters).toEqual({ '200 SUCCESS': 1 });
  });

  it('matches rows back ignoring case: A-1 and a-1 are both found for either, so neither is guessed', async () => {
    const upper = addContact('A-1');
    const lower = addContact('a-1');
    const client = sharedClient();
    const found = await client.findRecordsByField('Contacts', 'Legacy_Id', ['A-1']);
    expect(found.get('A-1')).toEqual([upper, lower]);
  });

  it("takes no rows as 204 or as 200 with data: [] (emptyListStyle 'empty200')", async () => {
    fake.records.defineFields('Contacts', ['Legacy_Id']);
    expect(await sharedClient().findRecordsByField('Contacts', 'Legacy_Id', ['L-1'])).toEqual(new Map([['L-1', []]]));
    expect(fake.inspect().counters).toEqual({ '204 NO_CONTENT': 1 });

    const other = await startFakeZoho({ emptyListStyle: 'empty200' });
    extraFakes.push(other);
    other.records.defineFields('Contacts', ['Legacy_Id']);
    const found = await sharedClient({}, other).findRecordsByField('Contacts', 'Legacy_Id', ['L-1']);
    expect(found).toEqual(new Map([['L-1', []]]));
    expect(other.inspect().counters).toEqual({ '200 SUCCESS': 1 });
  });

  it('posts to /crm/{version}/coql of the configured version', async () => {
    const id = addContact('L-1');
    const found = await sharedClient({ apiVersion: 'v8' }).findRecordsByField('Contacts', 'Legacy_Id', ['L-1']);
    expect(found.get('L-1')).toEqual([id]);
  });
});

describe('refused before any call: INVALID_ARGUMENT, permanent', () => {
  it.each([
    ['a value with a backslash', 'Contacts', 'Legacy_Id', ['C:\\x']],
    ['a value with a line break', 'Contacts', 'Legacy_Id', ['L-1\nL-2']],
    ['a value with a NUL', 'Contacts', 'Legacy_Id', ['L-1\u0000']],
    ['an empty value', 'Contacts', 'Legacy_Id', ['']],
    ['a field with a space', 'Contacts', 'Legacy Id', ['L-1']],
    ['a field that carries COQL', 'Contacts', "Legacy_Id in ('x') or Legacy_Id", ['L-1']],
    ['a field that is a reserved word', 'Contacts', 'Select', ['L-1']],
    ['a module that carries COQL', 'Contacts where id is not null --', 'Legacy_Id', ['L-1']],
    ['an empty module', '', 'Legacy_Id', ['L-1']],
  ])('%s', async (_label, module, field, values) => {
    const client = sharedClient();
    const error = await zohoFailure(client.findRecordsByField(module, field, values));
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', classification: 'permanent', ambiguous: false });
    expect(error.message).toMatch(/^\[INVALID_ARGUMENT\] /);
    expect(fake.inspect().coqlCalls).toBe(0);
  });

  it('even when the bad value comes after the first 50', async () => {
    const values = [...Array.from({ length: 60 }, (_, index) => `K-${index}`), 'bad\\value'];
    const error = await zohoFailure(sharedClient().findRecordsByField('Contacts', 'Legacy_Id', values));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(fake.inspect().coqlCalls).toBe(0);
  });
});

describe("Zoho's answers, classified like every call's", () => {
  it('an unknown field: 400 INVALID_QUERY, permanent, not ambiguous', async () => {
    addContact('L-1');
    const error = await zohoFailure(sharedClient().findRecordsByField('Contacts', 'Legacy_Key', ['L-1']));
    expect(error).toMatchObject({
      code: 'INVALID_QUERY',
      httpStatus: 400,
      classification: 'permanent',
      ambiguous: false,
      details: { column_name: 'Legacy_Key' },
    });
  });

  it('an unknown module: 400 INVALID_QUERY, permanent', async () => {
    const error = await zohoFailure(sharedClient().findRecordsByField('Contactz', 'Legacy_Id', ['L-1']));
    expect(error).toMatchObject({ code: 'INVALID_QUERY', httpStatus: 400, classification: 'permanent' });
  });

  it('401 INVALID_TOKEN: refreshes once through the shared store and runs the query again', async () => {
    const id = addContact('L-1');
    const client = sharedClient();
    await client.findRecordsByField('Contacts', 'Legacy_Id', ['L-1']);
    fake.expireAllTokens();

    const found = await client.findRecordsByField('Contacts', 'Legacy_Id', ['L-1']);

    expect(found.get('L-1')).toEqual([id]);
    const snapshot = fake.inspect();
    expect(snapshot.counters).toEqual({ '200 SUCCESS': 2, '401 INVALID_TOKEN': 1 });
    expect(snapshot.coqlCalls).toBe(3);
  });

  it('a token without ZohoCRM.coql.READ: 401 OAUTH_SCOPE_MISMATCH, systemic', async () => {
    const client = staticClient(fake.issueAccessToken({ scopes: ['ZohoCRM.modules.ALL'] }));
    const error = await zohoFailure(client.findRecordsByField('Contacts', 'Legacy_Id', ['L-1']));
    expect(error).toMatchObject({ code: 'OAUTH_SCOPE_MISMATCH', httpStatus: 401, classification: 'systemic' });
  });

  it('500 is transient and never ambiguous (a query changes nothing); 429 is rate_limited', async () => {
    addContact('L-1');
    const client = sharedClient();
    fake.faults.add({ match: { path: 'coql' }, kind: 'error500' });
    const serverError = await zohoFailure(client.findRecordsByField('Contacts', 'Legacy_Id', ['L-1']));
    expect(serverError).toMatchObject({ code: 'INTERNAL_ERROR', classification: 'transient', ambiguous: false });

    fake.faults.add({ match: { path: 'coql' }, kind: 'error429' });
    const limited = await zohoFailure(client.findRecordsByField('Contacts', 'Legacy_Id', ['L-1']));
    expect(limited).toMatchObject({ code: 'TOO_MANY_REQUESTS', classification: 'rate_limited' });
  });

  it('a connection reset is transient and not ambiguous', async () => {
    addContact('L-1');
    fake.faults.add({ match: { path: 'coql' }, kind: 'reset' });
    const error = await zohoFailure(sharedClient().findRecordsByField('Contacts', 'Legacy_Id', ['L-1']));
    expect(error).toMatchObject({ code: 'NETWORK_ERROR', classification: 'transient', ambiguous: false });
  });

  it('a failure on a later query fails the whole lookup', async () => {
    const values = Array.from({ length: 60 }, (_, index) => `K-${index}`);
    values.forEach((value) => addContact(value));
    fake.faults.add({ match: { path: 'coql' }, kind: 'error500', skip: 1 });
    const error = await zohoFailure(sharedClient().findRecordsByField('Contacts', 'Legacy_Id', values));
    expect(error.code).toBe('INTERNAL_ERROR');
    expect(fake.inspect().coqlCalls).toBe(2);
  });
});
