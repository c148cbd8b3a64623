/**
 * The fake Zoho's Query API (contract §7) over real HTTP on loopback: `POST /crm/{version}/coql`
 * with `{"select_query": …}`, the answer's shape and paging, 204 for no rows, the errors for a
 * malformed query, an unknown module or field and too many values, and the machinery it shares
 * with every API call (authentication and scopes, credits, counters, faults).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InvalidFakeRecordError, startFakeZoho, type FakeZoho } from '../../src/fake-zoho/index.js';
import { auth, mintToken, send, type Reply } from '../helpers/fake-zoho-requests.js';

/** What the tool's own credentials carry (FAKE_CREDENTIALS); tokens refreshed with them query too (other fakes below). */
const QUERY_SCOPES = ['ZohoCRM.modules.ALL', 'ZohoCRM.coql.READ'];

let fake: FakeZoho;
let token: string;

beforeAll(async () => {
  fake = await startFakeZoho();
});
beforeEach(async () => {
  await fake.reset();
  // A token of its own per test: some tests expire every token.
  token = fake.issueAccessToken({ scopes: QUERY_SCOPES });
});
afterAll(async () => {
  await fake.close();
});

/** POSTs one query as Zoho expects it: a JSON body holding `select_query`. */
async function query(
  selectQuery: string,
  options: { token?: string; version?: string; target?: FakeZoho } = {},
): Promise<Reply> {
  const { version = 'v2.1', target = fake } = options;
  return send(`${target.url}/crm/${version}/coql`, {
    method: 'POST',
    headers: { ...auth(options.token ?? token), 'content-type': 'application/json' },
    body: JSON.stringify({ select_query: selectQuery }),
  });
}

/** The contract's own query shape, looking up Legacy_Id in Contacts. */
function legacyQuery(values: string, limit = 'limit 200'): string {
  return `select id, Legacy_Id from Contacts where Legacy_Id in (${values}) ${limit}`;
}

function addContact(legacyId: string, id?: string): string {
  return fake.records.add({ module: 'Contacts', id, fields: { Legacy_Id: legacyId } }).id;
}

describe('answers', () => {
  it('finds the one record holding a value, in the contract shape, for one credit', async () => {
    const id = addContact('L-1');
    addContact('L-2');

    const reply = await query(legacyQuery("'L-1'"));

    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ data: [{ id, Legacy_Id: 'L-1' }], info: { count: 1, more_records: false } });
    expect(id).toMatch(/^\d{19}$/);
    const snapshot = fake.inspect();
    expect(snapshot.coqlCalls).toBe(1);
    expect(snapshot.creditsUsed).toBe(1);
    expect(snapshot.counters).toEqual({ '200 SUCCESS': 1 });
  });

  it('answers 204 with no body when nothing matches', async () => {
    addContact('L-1');
    const reply = await query(legacyQuery("'L-404', 'L-405'"));
    expect(reply.status).toBe(204);
    expect(reply.text).toBe('');
    expect(fake.inspect().counters).toEqual({ '204 NO_CONTENT': 1 });
  });

  it("answers 200 with data: [] instead when started with emptyListStyle 'empty200'", async () => {
    const other = await startFakeZoho({ emptyListStyle: 'empty200' });
    try {
      other.records.defineFields('Contacts', ['Legacy_Id']);
      const reply = await query(legacyQuery("'L-404'"), { target: other, token: await mintToken(other) });
      expect(reply.status).toBe(200);
      expect(reply.json).toEqual({ data: [], info: { count: 0, more_records: false } });
    } finally {
      await other.close();
    }
  });

  it('gives every record holding a value: two records, one value', async () => {
    const first = addContact('DUP');
    const second = addContact('DUP');
    const reply = await query(legacyQuery("'DUP'"));
    expect(reply.json.data).toEqual([
      { id: first, Legacy_Id: 'DUP' },
      { id: second, Legacy_Id: 'DUP' },
    ]);
  });

  it('reads a doubled quote inside a value as one quote', async () => {
    const id = addContact("O'Brien");
    const reply = await query(legacyQuery("'O''Brien'"));
    expect(reply.json.data).toEqual([{ id, Legacy_Id: "O'Brien" }]);
  });

  it('compares text ignoring case (chosen: the contract is silent)', async () => {
    const upper = addContact('A-1');
    const lower = addContact('a-1');
    const reply = await query(legacyQuery("'A-1'"));
    expect(reply.json.data.map((row: { id: string }) => row.id)).toEqual([upper, lower]);
  });

  it('matches any of up to 50 values, and takes `= value` for one', async () => {
    const ids = Array.from({ length: 50 }, (_, index) => addContact(`V-${index}`));
    const values = Array.from({ length: 50 }, (_, index) => `'V-${index}'`).join(', ');
    const all = await query(legacyQuery(values));
    expect(all.json.data.map((row: { id: string }) => row.id)).toEqual(ids);

    const one = await query("select id from Contacts where Legacy_Id = 'V-7'");
    expect(one.json.data).toEqual([{ id: ids[7] }]);
  });

  it('returns the selected fields, null for one a record leaves empty', async () => {
    fake.records.defineFields('Contacts', ['Email']);
    const id = fake.records.add({ module: 'Contacts', fields: { Legacy_Id: 'L-1', Last_Name: 'Boyle' } }).id;
    const reply = await query("select Last_Name, Email from Contacts where Legacy_Id in ('L-1')");
    expect(reply.json.data).toEqual([{ id, Last_Name: 'Boyle', Email: null }]);
  });

  it('pages with limit <offset>, <n> (and limit <n> offset <o>), more_records until the last row', async () => {
    const ids = Array.from({ length: 5 }, () => addContact('PAGED'));
    const page = async (limit: string) => (await query(legacyQuery("'PAGED'", limit))).json;

    expect(await page('limit 2')).toEqual({
      data: ids.slice(0, 2).map((id) => ({ id, Legacy_Id: 'PAGED' })),
      info: { count: 2, more_records: true },
    });
    expect((await page('limit 2, 2')).data.map((row: { id: string }) => row.id)).toEqual(ids.slice(2, 4));
    expect((await page('limit 2 offset 2')).data.map((row: { id: string }) => row.id)).toEqual(ids.slice(2, 4));
    expect((await page('limit 4, 2')).info).toEqual({ count: 1, more_records: false });
    expect((await query(legacyQuery("'PAGED'", 'limit 6, 2'))).status).toBe(204);
    // Without limit: up to 200 rows.
    expect((await query(legacyQuery("'PAGED'", ''))).json.info).toEqual({ count: 5, more_records: false });
  });

  it.each(['v2', 'v3', 'v8'])('takes queries on %s too', async (version) => {
    addContact('L-1');
    expect((await query(legacyQuery("'L-1'"), { version })).status).toBe(200);
  });

  it('keywords in any case', async () => {
    const id = addContact('L-1');
    const reply = await query("SELECT id, Legacy_Id FROM Contacts WHERE Legacy_Id IN ('L-1') LIMIT 0, 200");
    expect(reply.json.data).toEqual([{ id, Legacy_Id: 'L-1' }]);
  });
});

describe('refusals', () => {
  beforeEach(() => {
    addContact('L-1');
  });

  it.each([
    ['a misspelt keyword', "selec id from Contacts where Legacy_Id in ('L-1')", 'selec'],
    ['no from', "select id Contacts where Legacy_Id in ('L-1')", 'Contacts'],
    ['a quote never closed', "select id from Contacts where Legacy_Id in ('L-1) limit 200", "'L-1) limit 200"],
    ['an empty in', 'select id from Contacts where Legacy_Id in () limit 200', ')'],
    ['a reserved word as a field', "select id from Contacts where select in ('L-1')", 'select'],
    ['a quoted field name', "select id from Contacts where 'Legacy_Id' in ('L-1')", "'Legacy_Id'"],
    ['text after the limit', "select id from Contacts where Legacy_Id in ('L-1') limit 200 extra", 'extra'],
    ['a second criterion', "select id from Contacts where Legacy_Id in ('L-1') or id is not null", 'or'],
    ['a stray semicolon', "select id from Contacts where Legacy_Id in ('L-1');", ';'],
    ['an empty query', '', ''],
  ])('a malformed query (%s): 400 SYNTAX_ERROR "error at or near …"', async (_label, selectQuery, near) => {
    const reply = await query(selectQuery);
    expect(reply.status).toBe(400);
    expect(reply.json).toMatchObject({ code: 'SYNTAX_ERROR', status: 'error', details: { near } });
    expect(reply.json.message).toMatch(/^error at or near /);
    expect(fake.inspect().counters).toEqual({ '400 SYNTAX_ERROR': 1 });
  });

  it('an unknown module, or one the API does not serve: 400 INVALID_QUERY', async () => {
    for (const module of ['Contactz', 'Documents']) {
      const reply = await query(`select id from ${module} where Legacy_Id in ('L-1')`);
      expect(reply.status).toBe(400);
      expect(reply.json).toMatchObject({ code: 'INVALID_QUERY', details: { module_name: module }, status: 'error' });
    }
  });

  it('an unknown field, in the criterion or the select list, or one of another module: 400 INVALID_QUERY', async () => {
    for (const [selectQuery, column] of [
      ["select id from Contacts where Legacy_ID in ('L-1')", 'Legacy_ID'],
      ["select id, Nickname from Contacts where Legacy_Id in ('L-1')", 'Nickname'],
      ["select id from Leads where Legacy_Id in ('L-1')", 'Legacy_Id'],
    ] as const) {
      const reply = await query(selectQuery);
      expect(reply.status).toBe(400);
      expect(reply.json).toMatchObject({
        code: 'INVALID_QUERY',
        details: { column_name: column },
        message: 'column given seems to be invalid',
      });
    }
  });

  it('a field defined with no record holding it is known: no rows, not an error', async () => {
    fake.records.defineFields('Leads', ['Legacy_Id']);
    expect((await query("select id from Leads where Legacy_Id in ('L-1')")).status).toBe(204);
  });

  it('more than 50 values, or a limit over 200: 400 LIMIT_EXCEEDED', async () => {
    const values = Array.from({ length: 51 }, (_, index) => `'V-${index}'`).join(', ');
    const tooMany = await query(legacyQuery(values));
    expect(tooMany.status).toBe(400);
    expect(tooMany.json).toMatchObject({ code: 'LIMIT_EXCEEDED', details: { limit: 50, clause: 'in' } });

    const tooLong = await query(legacyQuery("'L-1'", 'limit 201'));
    expect(tooLong.status).toBe(400);
    expect(tooLong.json).toMatchObject({ code: 'LIMIT_EXCEEDED', details: { limit: 200, clause: 'limit' } });
    expect((await query(legacyQuery("'L-1'", 'limit 200, 200'))).status).toBe(204);
  });

  it('a limit of 0: 400 INVALID_QUERY', async () => {
    const reply = await query(legacyQuery("'L-1'", 'limit 0'));
    expect(reply.json).toMatchObject({ code: 'INVALID_QUERY' });
  });

  it('a body that is not JSON, or without select_query: 400', async () => {
    const url = `${fake.url}/crm/v2.1/coql`;
    const notJson = await send(url, { method: 'POST', headers: auth(token), body: 'select id from Contacts' });
    expect(notJson.status).toBe(400);
    expect(notJson.json).toMatchObject({ code: 'INVALID_DATA', details: { param_name: 'select_query' } });

    const missing = await send(url, { method: 'POST', headers: auth(token), body: '{"query": "select id"}' });
    expect(missing.status).toBe(400);
    expect(missing.json).toMatchObject({ code: 'REQUIRED_PARAM_MISSING', details: { param_name: 'select_query' } });

    const notText = await send(url, { method: 'POST', headers: auth(token), body: '{"select_query": 42}' });
    expect(notText.json).toMatchObject({ code: 'INVALID_DATA' });
  });

  it('another method: 400 INVALID_REQUEST_METHOD; an unknown version: 404 INVALID_URL_PATTERN', async () => {
    const get = await send(`${fake.url}/crm/v2.1/coql`, { headers: auth(token) });
    expect(get.status).toBe(400);
    expect(get.json.code).toBe('INVALID_REQUEST_METHOD');
    const unknown = await query(legacyQuery("'L-1'"), { version: 'v9' });
    expect(unknown.status).toBe(404);
    expect(unknown.json.code).toBe('INVALID_URL_PATTERN');
  });
});

describe('what every API call shares', () => {
  beforeEach(() => {
    addContact('L-1');
  });

  it('authenticates like every call: no header, an unknown or expired token', async () => {
    const noHeader = await send(`${fake.url}/crm/v2.1/coql`, {
      method: 'POST',
      body: JSON.stringify({ select_query: legacyQuery("'L-1'") }),
    });
    expect(noHeader.status).toBe(401);
    expect(noHeader.json.code).toBe('AUTHENTICATION_FAILURE');

    const expiring = fake.issueAccessToken({ scopes: QUERY_SCOPES });
    expect((await query(legacyQuery("'L-1'"), { token: expiring })).status).toBe(200);
    fake.expireAllTokens();
    const expired = await query(legacyQuery("'L-1'"), { token: expiring });
    expect(expired.status).toBe(401);
    expect(expired.json.code).toBe('INVALID_TOKEN');

    // Refused calls are counted but not charged.
    expect(fake.inspect()).toMatchObject({ coqlCalls: 3, creditsUsed: 1 });
  });

  it('needs ZohoCRM.coql.READ (modules.ALL is not enough) and read access to the queried module', async () => {
    const withoutCoql = fake.issueAccessToken({ scopes: ['ZohoCRM.modules.ALL'] });
    const refused = await query(legacyQuery("'L-1'"), { token: withoutCoql });
    expect(refused.status).toBe(401);
    expect(refused.json.code).toBe('OAUTH_SCOPE_MISMATCH');

    const contactsOnly = fake.issueAccessToken({ scopes: ['zohocrm.coql.read', 'ZohoCRM.modules.Contacts.READ'] });
    expect((await query(legacyQuery("'L-1'"), { token: contactsOnly })).status).toBe(200);
    fake.records.defineFields('Leads', ['Legacy_Id']);
    const otherModule = await query("select id from Leads where Legacy_Id in ('L-1')", { token: contactsOnly });
    expect(otherModule.status).toBe(401);
    expect(otherModule.json.code).toBe('OAUTH_SCOPE_MISMATCH');
  });

  it('fault rules with match.path "coql" fire on queries, and only on them', async () => {
    fake.faults.add({ match: { path: 'upload' }, kind: 'error500' });
    const ruleId = fake.faults.add({ match: { path: 'coql' }, kind: 'error500' });
    const failed = await query(legacyQuery("'L-1'"));
    expect(failed.status).toBe(500);
    expect(failed.json.code).toBe('INTERNAL_ERROR');
    expect((await query(legacyQuery("'L-1'"))).status).toBe(200);
    expect(fake.faults.remove(ruleId)).toBe(false);

    fake.faults.add({ match: { path: 'coql' }, kind: 'error429', skip: 1 });
    expect((await query(legacyQuery("'L-1'"))).status).toBe(200);
    expect((await query(legacyQuery("'L-1'"))).status).toBe(429);

    const snapshot = fake.inspect();
    expect(snapshot.faultsFired).toMatchObject({ error500: 1, error429: 1 });
    expect(snapshot.calls.upload).toBe(0);
    expect(snapshot.coqlCalls).toBe(4);
  });

  it('spends the day’s credits like every call: none left, 429', async () => {
    const limited = await startFakeZoho({ dailyCredits: 2 });
    try {
      limited.records.add({ module: 'Contacts', fields: { Legacy_Id: 'L-1' } });
      const limitedToken = await mintToken(limited);
      const run = () => query(legacyQuery("'L-1'"), { target: limited, token: limitedToken });
      expect((await run()).status).toBe(200);
      const second = await run();
      expect(second.status).toBe(200);
      expect(second.headers['x-api-credits-remaining']).toBe('0');
      const third = await run();
      expect(third.status).toBe(429);
      expect(third.json.code).toBe('TOO_MANY_REQUESTS');
    } finally {
      await limited.close();
    }
  });
});

describe('records', () => {
  it('are listed by inspect() and forgotten by reset()', async () => {
    const given = fake.records.add({ module: 'Leads', id: '42', fields: { Legacy_Id: 'X', Other: null } });
    expect(given).toEqual({ module: 'Leads', id: '42', fields: { Legacy_Id: 'X', Other: null } });
    expect(fake.inspect().records).toEqual([given]);
    await fake.reset();
    expect(fake.inspect().records).toEqual([]);
    expect((await query("select id from Leads where Legacy_Id in ('X')")).json.code).toBe('INVALID_QUERY');
  });

  it('refuses an id that is not digits or is taken, and field names COQL cannot take', () => {
    fake.records.add({ module: 'Leads', id: '42' });
    expect(() => fake.records.add({ module: 'Leads', id: '42' })).toThrow(InvalidFakeRecordError);
    expect(() => fake.records.add({ module: 'Leads', id: 'abc' })).toThrow(/1 to 19 digits/);
    expect(() => fake.records.add({ module: 'Leads', fields: { 'Legacy Id': 'x' } })).toThrow(InvalidFakeRecordError);
    expect(() => fake.records.add({ module: 'Leads', fields: { id: '1' } })).toThrow(/record id/);
    expect(() => fake.records.defineFields('Leads', ["x') or ('1"])).toThrow(InvalidFakeRecordError);
  });
});
