/**
 * `POST /crm/{version}/coql` (contract §7): a JSON body `{"select_query": "…"}` holding
 * `select id, <Field> from <Module> where <Field> in ('v1', …) limit [<offset>, ]<n>`, run
 * against the records a test put in the fake. The fake understands that one shape (and
 * `<Field> = 'v'`, `limit <n> offset <o>`), not the rest of COQL.
 */
import type { ApiAnswer, FakeRequest } from '../exchange.js';
import type { FakeRecord } from '../record-store.js';
import { BodyTooLargeError, readSmallBody } from '../small-body.js';
import type { FakeZohoState } from '../state.js';
import { ACCESS_TOKEN_PATTERN, type TokenStore } from '../token-store.js';
import { zohoError } from '../zoho-answers.js';

/** Values an `in` takes in v2.1. */
const MAX_IN_VALUES = 50;
/** Rows one call may ask for in v2.1. */
const MAX_QUERY_LIMIT = 200;
/** 50 values of 255 characters, quoted, fit many times over. */
const MAX_QUERY_BODY_BYTES = 64 * 1024;

/** The errors only the Query API answers, all HTTP 400 (contract §7). */
type CoqlErrorCode = 'SYNTAX_ERROR' | 'INVALID_QUERY' | 'LIMIT_EXCEEDED';

/** Words that cannot be a field or module name unquoted. */
const RESERVED_WORDS = new Set([
  'select',
  'from',
  'where',
  'and',
  'or',
  'not',
  'in',
  'is',
  'null',
  'like',
  'between',
  'limit',
  'offset',
  'order',
  'group',
  'by',
  'asc',
  'desc',
  'as',
]);

// ---------------------------------------------------------------------------------------------
// Authentication: the same header and token rules as auth.ts, with the Query API's scopes.

/** The header rule of auth.ts: `Zoho-oauthtoken <token>`, the scheme in any case. */
const AUTHORIZATION_HEADER = /^Zoho-oauthtoken +(\S+) *$/i;
/** The Query API's own scope (compared lower case, as Zoho does). */
const COQL_SCOPE = 'zohocrm.coql.read';

/**
 * The scopes of the token a query came with, or the 401 refusing it: a missing or garbled header
 * (AUTHENTICATION_FAILURE), an unknown, killed or expired token (INVALID_TOKEN), a token without
 * `ZohoCRM.coql.READ` (OAUTH_SCOPE_MISMATCH). Read access to the queried module is checked once
 * the query is parsed ({@link handleCoql}).
 */
export function authorizeQuery(
  authorization: string | undefined,
  tokens: TokenStore,
): { refused: ApiAnswer } | { scopes: readonly string[] } {
  const accessToken = authorization === undefined ? undefined : AUTHORIZATION_HEADER.exec(authorization)?.[1];
  if (accessToken === undefined || !ACCESS_TOKEN_PATTERN.test(accessToken)) {
    return { refused: zohoError('AUTHENTICATION_FAILURE') };
  }
  const token = tokens.find(accessToken);
  if (!token) return { refused: zohoError('INVALID_TOKEN') };
  if (!token.scopes.some((scope) => scope.toLowerCase() === COQL_SCOPE)) {
    return { refused: zohoError('OAUTH_SCOPE_MISMATCH') };
  }
  return { scopes: token.scopes };
}

/** True when `scopes` let a query read `module`: all modules, or that module, with ALL or READ. */
function canReadModule(scopes: readonly string[], module: string): boolean {
  const allowing = new Set(
    ['modules.all', 'modules.read', `modules.${module}.all`, `modules.${module}.read`].map((scope) =>
      `zohocrm.${scope}`.toLowerCase(),
    ),
  );
  return scopes.some((scope) => allowing.has(scope.toLowerCase()));
}

// ---------------------------------------------------------------------------------------------
// The handler.

/**
 * Runs one query. `scopes` are those of the token {@link authorizeQuery} accepted; they must
 * also let it read the queried module.
 */
export async function handleCoql(
  request: FakeRequest,
  scopes: readonly string[],
  state: FakeZohoState,
): Promise<ApiAnswer> {
  const text = await readQuery(request);
  if (typeof text !== 'string') return text;

  let query: ParsedQuery;
  try {
    query = parseQuery(text);
  } catch (error) {
    if (error instanceof QueryRefusal) return error.answer;
    throw error;
  }

  const verdict = state.modules.verdict(query.module);
  if (verdict !== 'supported') {
    const message =
      verdict === 'unsupported' ? 'the module given is not supported in the Query API' : 'invalid module given';
    return coqlError('INVALID_QUERY', { module_name: query.module }, message);
  }
  if (!canReadModule(scopes, query.module)) return zohoError('OAUTH_SCOPE_MISMATCH');

  for (const column of [...query.columns, query.criterion.field]) {
    if (!state.records.hasField(query.module, column)) {
      return coqlError('INVALID_QUERY', { column_name: column }, 'column given seems to be invalid');
    }
  }
  if (query.criterion.values.length > MAX_IN_VALUES) {
    return coqlError(
      'LIMIT_EXCEEDED',
      { limit: MAX_IN_VALUES, clause: 'in' },
      `the in clause takes at most ${MAX_IN_VALUES} values, not ${query.criterion.values.length}`,
    );
  }
  if (query.limit > MAX_QUERY_LIMIT) {
    return coqlError(
      'LIMIT_EXCEEDED',
      { limit: MAX_QUERY_LIMIT, clause: 'limit' },
      `limit takes at most ${MAX_QUERY_LIMIT} rows, not ${query.limit}`,
    );
  }

  // Chosen where the contract is silent: text compares case-insensitively, as Zoho's criteria do.
  const wanted = new Set(query.criterion.values.map(foldCase));
  const all = state.records.find(query.module, query.criterion.field, (value) => wanted.has(foldCase(value)));
  const rows = all.slice(query.offset, query.offset + query.limit);
  const info = { count: rows.length, more_records: query.offset + rows.length < all.length };
  if (rows.length === 0 && state.options.emptyListStyle === '204') return { status: 204, code: 'NO_CONTENT' };
  const data = rows.map((record) => resultRow(record, query.columns));
  return { status: 200, code: 'SUCCESS', body: { data, info } };
}

/** The query text, or the answer refusing the body. */
async function readQuery(request: FakeRequest): Promise<string | ApiAnswer> {
  let body: unknown;
  try {
    body = JSON.parse((await readSmallBody(request.body, MAX_QUERY_BODY_BYTES)).toString('utf8'));
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      return zohoError('INVALID_DATA', { param_name: 'select_query' }, error.message);
    }
    if (error instanceof SyntaxError) {
      return zohoError('INVALID_DATA', { param_name: 'select_query' }, 'the body must be a JSON object');
    }
    throw error;
  }
  const selectQuery =
    body !== null && typeof body === 'object' ? (body as { select_query?: unknown }).select_query : undefined;
  if (selectQuery === undefined) return zohoError('REQUIRED_PARAM_MISSING', { param_name: 'select_query' });
  if (typeof selectQuery !== 'string') {
    return zohoError('INVALID_DATA', { param_name: 'select_query' }, 'select_query must be a string');
  }
  return selectQuery;
}

/** `id` first, then the selected fields in the order asked; a field the record lacks is null. */
function resultRow(record: FakeRecord, columns: readonly string[]): Record<string, unknown> {
  const row: Record<string, unknown> = { id: record.id };
  for (const column of columns) if (column !== 'id') row[column] = record.fields[column] ?? null;
  return row;
}

function foldCase(value: string): string {
  return value.toLowerCase();
}

/** An error of the Query API. */
function coqlError(code: CoqlErrorCode, details: Record<string, unknown>, message: string): ApiAnswer {
  return { status: 400, code, body: { code, details, message, status: 'error' } };
}

// ---------------------------------------------------------------------------------------------
// The parser.

/** What the fake understands of a query. */
interface ParsedQuery {
  columns: string[];
  module: string;
  criterion: { field: string; values: string[] };
  limit: number;
  offset: number;
}

/** Stops parsing with the answer to give. */
class QueryRefusal extends Error {
  override readonly name = 'QueryRefusal';
  constructor(readonly answer: ApiAnswer) {
    super(`query refused: ${answer.code}`);
  }
}

type Token =
  | { kind: 'word'; text: string }
  | { kind: 'number'; text: string }
  /** `text` as written (quotes and doubled quotes included), `value` as meant. */
  | { kind: 'string'; text: string; value: string }
  | { kind: 'symbol'; text: string }
  | { kind: 'end'; text: string };

/** Words (API names may hold `$` and `.` lookups), whole numbers, symbols; strings are read apart. */
const PLAIN_TOKEN = /\s*(?:([A-Za-z_$][A-Za-z0-9_$.]*)|(\d+)|([,()=]))/y;

/** Splits a query into tokens; a quote that never closes, or a character COQL has no use for, is a SYNTAX_ERROR. */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  for (;;) {
    while (at < text.length && /\s/.test(text[at]!)) at += 1;
    if (at >= text.length) break;
    if (text[at] === "'") {
      // A quote inside a value is doubled: 'O''Brien' (contract §7).
      let end = at + 1;
      let value = '';
      for (;;) {
        const next = text.indexOf("'", end);
        if (next === -1) throw syntaxError(text.slice(at, at + 20));
        value += text.slice(end, next);
        if (text[next + 1] !== "'") {
          end = next + 1;
          break;
        }
        value += "'";
        end = next + 2;
      }
      tokens.push({ kind: 'string', text: text.slice(at, end), value });
      at = end;
      continue;
    }
    PLAIN_TOKEN.lastIndex = at;
    const match = PLAIN_TOKEN.exec(text);
    if (!match) throw syntaxError(text.slice(at, at + 20));
    const [whole, word, number, symbol] = match;
    if (word !== undefined) tokens.push({ kind: 'word', text: word });
    else if (number !== undefined) tokens.push({ kind: 'number', text: number });
    else tokens.push({ kind: 'symbol', text: symbol! });
    at += whole.length;
  }
  tokens.push({ kind: 'end', text: '' });
  return tokens;
}

/** `select <names> from <Module> where <Field> (in (<values>) | = <value>) [limit [<o>,] <n> [offset <o>]]`. */
function parseQuery(text: string): ParsedQuery {
  const tokens = tokenize(text);
  let position = 0;
  const peek = (): Token => tokens[position]!;
  const next = (): Token => tokens[position++]!;
  const isKeyword = (token: Token, keyword: string): boolean =>
    token.kind === 'word' && token.text.toLowerCase() === keyword;
  const keyword = (expected: string): void => {
    const token = next();
    if (!isKeyword(token, expected)) throw syntaxError(token.text);
  };
  const symbol = (expected: string): void => {
    const token = next();
    if (token.kind !== 'symbol' || token.text !== expected) throw syntaxError(token.text);
  };
  const name = (): string => {
    const token = next();
    if (token.kind !== 'word' || RESERVED_WORDS.has(token.text.toLowerCase())) throw syntaxError(token.text);
    return token.text;
  };
  const literal = (): string => {
    const token = next();
    if (token.kind === 'string') return token.value;
    if (token.kind === 'number') return token.text;
    throw syntaxError(token.text);
  };
  const wholeNumber = (): number => {
    const token = next();
    if (token.kind !== 'number') throw syntaxError(token.text);
    return Number(token.text);
  };

  keyword('select');
  const columns = [name()];
  while (peek().text === ',') {
    next();
    columns.push(name());
  }
  keyword('from');
  const module = name();
  keyword('where');
  const field = name();
  const values: string[] = [];
  if (isKeyword(peek(), 'in')) {
    next();
    symbol('(');
    values.push(literal());
    while (peek().text === ',') {
      next();
      values.push(literal());
    }
    symbol(')');
  } else {
    symbol('=');
    values.push(literal());
  }

  let limit = MAX_QUERY_LIMIT;
  let offset = 0;
  if (isKeyword(peek(), 'limit')) {
    next();
    limit = wholeNumber();
    if (peek().text === ',') {
      next();
      offset = limit;
      limit = wholeNumber();
    } else if (isKeyword(peek(), 'offset')) {
      next();
      offset = wholeNumber();
    }
    if (limit < 1) throw new QueryRefusal(coqlError('INVALID_QUERY', { limit }, 'limit must be at least 1'));
  }
  const last = next();
  if (last.kind !== 'end') throw syntaxError(last.text);
  return { columns, module, criterion: { field, values }, limit, offset };
}

function syntaxError(near: string): QueryRefusal {
  const where = near === '' ? 'the end of the query' : `'${near}'`;
  return new QueryRefusal(coqlError('SYNTAX_ERROR', { near }, `error at or near ${where}`));
}
