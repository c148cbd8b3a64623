/**
 * The Zoho CRM Attachments API (upload a file or a link, list, download, delete) and the COQL
 * lookup of records by a field (contract §7). Every failure is a {@link ZohoError} classified
 * in errors.ts; every answer's body is read or destroyed on every path, so connections go back
 * to the pool and none leak.
 */
import { coqlNameProblem, coqlValueProblem } from '../shared/coql-names.js';
import { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import type { ZohoConfig } from '../config/config.js';
import {
  ZohoError,
  errorFromNetwork,
  errorFromResponse,
  findErrorEnvelope,
  invalidArgument,
  unexpectedResponse,
} from './errors.js';
import { fileNameFromContentDisposition } from '../shared/content-disposition.js';
import { sanitizeFileName } from './filename.js';
import { MultipartBody, type MultipartField } from './multipart.js';
import { creditsRemaining, discardBody, parseJson, readBodyText } from './response.js';
import { sanitizeTitle } from './title.js';
import type { AccessToken, TokenProvider } from './token-provider.js';

/** Options of {@link ZohoClient}. */
export interface ZohoClientOptions {
  /** API domain, version and request timeout. */
  config: ZohoConfig;
  /** Where access tokens come from (usually the Redis-shared {@link SharedTokenStore}). */
  tokens: TokenProvider;
  /**
   * Connection pool for API calls; the caller keeps ownership (`close()` leaves it open).
   * @defaultValue a pool of the client's own, closed by `close()`
   */
  dispatcher?: Dispatcher;
  /**
   * Told of every request sent to the API (each costs an API credit), with the batch it was made
   * for when it was sent through {@link ZohoClient.attributedTo}: the credit budget counts them.
   */
  onRequest?: (batch: string | undefined) => void;
}

/** A file to upload, opened afresh for every try (a consumed stream cannot be replayed). */
export interface UploadSource {
  stream: Readable;
  /** Exact size in bytes: it sets the Content-Length, and a stream that yields another count fails the upload. */
  size: number;
  /** The name Zoho shows; cleaned (unicode kept, ≤ 250 chars, extension kept) before it is sent. */
  fileName: string;
}

/** What {@link ZohoClient.uploadFile} needs. */
export interface UploadFileParams {
  /** Module API name, e.g. `Leads`. */
  module: string;
  recordId: string;
  /** Sent as the `title` form field; cleaned, omitted when empty. */
  title?: string;
  /** Opens the file; called again when the call is retried with a refreshed token. */
  open: () => Promise<UploadSource>;
  signal?: AbortSignal;
}

/** What {@link ZohoClient.uploadLink} needs. */
export interface UploadLinkParams {
  /** Module API name, e.g. `Leads`. */
  module: string;
  recordId: string;
  /** The link (Zoho: ≤ 3000 characters). */
  url: string;
  /** Zoho: 1–255 characters; cleaned, omitted when empty. */
  title?: string;
  signal?: AbortSignal;
}

/** A successful upload. */
export interface UploadResult {
  /** The new attachment's id (19 digits, kept a string). */
  attachmentId: string;
  /** `X-API-CREDITS-REMAINING`, when Zoho sent it (only once half the day's credits are spent). */
  creditsRemaining?: number;
}

/** One row of a record's Attachments list. */
export interface AttachmentInfo {
  id: string;
  fileName: string;
  /** Bytes (Zoho sends a string); undefined when absent or not a number, e.g. for links. */
  size: number | undefined;
  createdTime: string;
  /** The link, for a `Link URL` attachment. */
  linkUrl?: string;
  /** Zoho's `$type`, e.g. `Attachment` or `Link URL`. */
  type?: string;
}

/** Options of {@link ZohoClient.listAttachments}. */
export interface ListAttachmentsOptions {
  /** @defaultValue 1 */
  page?: number;
  /** 1–200. @defaultValue 200 */
  perPage?: number;
  signal?: AbortSignal;
}

/** One page of a record's attachments. */
export interface AttachmentPage {
  attachments: AttachmentInfo[];
  moreRecords: boolean;
  /** `X-API-CREDITS-REMAINING`, when Zoho sent it. */
  creditsRemaining?: number;
}

/**
 * A downloaded attachment. The caller must consume or destroy `stream`, or its connection
 * stays taken. undici's body emits `'error'` when destroyed before its end: read it with
 * `pipeline()` or `for await` (both handle that), or listen for `'error'`.
 */
export interface DownloadedAttachment {
  /** From Content-Disposition (RFC 5987 aware), cleaned so it is safe as a file name. */
  fileName: string;
  stream: Readable;
}

/** Per-call options. */
export interface CallOptions {
  signal?: AbortSignal;
}

/** Zoho's largest page (contract §3). */
const MAX_PER_PAGE = 200;
/** API v3 and later refuse a list without `fields` (400 REQUIRED_PARAM_MISSING). */
const LIST_FIELDS = 'id,File_Name,Size,Created_Time,$link_url';
/** Ids per bulk delete: the contract names no limit; 100 is Zoho's usual cap for `ids=` deletes. */
const DELETE_BATCH = 100;
/** Values one COQL `in (…)` takes (contract §7, v2.1); more are split over several queries. */
export const MAX_COQL_VALUES = 50;
/** Rows one COQL call returns at most (contract §7, v2.1); more are paged with `limit <offset>, 200`. */
const COQL_PAGE_SIZE = 200;
/** A request body as the call loop sends it: a multipart upload or a JSON query. */
interface RequestBody {
  readonly contentType: string;
  readonly contentLength: number;
  /** True once its first byte was handed over (a failure after that may have reached Zoho). */
  readonly started: boolean;
  chunks(): Iterable<Buffer> | AsyncIterable<Buffer>;
}

/** One API call, as the retry-once-on-INVALID_TOKEN loop sees it. */
interface ApiCall {
  method: 'GET' | 'POST' | 'DELETE';
  /** After `/crm/{version}`, segments already encoded: `/Leads/42/Attachments/7` or `/coql`. */
  path: string;
  query?: Record<string, string>;
  /** True when the call changes Zoho's data: failures after sending are then ambiguous. */
  mutating: boolean;
  signal?: AbortSignal | undefined;
  /** Builds a fresh body for each try, and what to release once the try is over. */
  body?: () => Promise<{ body: RequestBody; release: () => void }>;
}

/** Talks to one Zoho CRM org through a {@link TokenProvider}. Never logs; throws {@link ZohoError}. */
export class ZohoClient {
  private readonly config: ZohoConfig;
  private readonly tokens: TokenProvider;
  private readonly dispatcher: Dispatcher;
  /** The pool this client made itself, and so must close. */
  private readonly ownAgent: Agent | undefined;
  private readonly apiMajorVersion: number;
  private readonly onRequest: ((batch: string | undefined) => void) | undefined;
  /** The batch this view's requests are made for (see {@link attributedTo}); undefined on the client itself. */
  private attribution: string | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: ZohoClientOptions) {
    this.config = options.config;
    this.tokens = options.tokens;
    this.ownAgent = options.dispatcher ? undefined : new Agent();
    this.dispatcher = options.dispatcher ?? (this.ownAgent as Agent);
    this.apiMajorVersion = Number(/^v(\d+)/.exec(options.config.apiVersion)?.[1] ?? 2);
    this.onRequest = options.onRequest;
  }

  /**
   * This client, with every request it sends reported to `onRequest` as made for `batch`, so that
   * the credit budget counts it against the batch too. A view, cheap enough to make per job: it
   * shares the client's connection pool and tokens (close the client, not the view). Passing the
   * batch along replaced an AsyncLocalStorage, whose hooks taxed every promise of the process
   * (BENCHMARKS.md, "Less work per upload").
   */
  attributedTo(batch: string): ZohoClient {
    const view = Object.create(this) as ZohoClient;
    view.attribution = batch;
    return view;
  }

  /**
   * Closes the client's own connection pool once calls in flight are done (a dispatcher
   * passed in is the caller's to close). Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.ownAgent ? this.ownAgent.close() : Promise.resolve();
    return this.closing;
  }

  /**
   * Uploads a file as a record attachment, streamed as multipart/form-data with an exact
   * Content-Length. Not idempotent: after an `ambiguous` failure, list before posting again.
   * @throws {ZohoError} classified; BODY_SIZE_MISMATCH (transient) when the file changed while uploading.
   *   Whatever `open()` throws is passed through as it is.
   */
  async uploadFile(params: UploadFileParams): Promise<UploadResult> {
    const fields = titleField(params.title);
    return this.postAttachment(params, async () => {
      const source = await params.open();
      const file = { name: 'file', fileName: source.fileName, size: source.size, stream: source.stream };
      // Destroying an ended stream is harmless; destroying an abandoned one closes its file.
      return { body: new MultipartBody({ fields, file }), release: () => source.stream.destroy() };
    });
  }

  /**
   * Attaches a link, sent as the `attachmentUrl` and `title` form fields (as Zoho's own curl
   * example does). The same link twice on one record answers 400 DUPLICATE_DATA.
   * @throws {ZohoError} classified
   */
  async uploadLink(params: UploadLinkParams): Promise<UploadResult> {
    const fields = [{ name: 'attachmentUrl', value: params.url }, ...titleField(params.title)];
    return this.postAttachment(params, () =>
      Promise.resolve({ body: new MultipartBody({ fields }), release: () => undefined }),
    );
  }

  /** The upload POST both kinds of attachment share: not idempotent, so a failure after sending is ambiguous. */
  private postAttachment(
    params: { module: string; recordId: string; signal?: AbortSignal | undefined },
    body: () => Promise<{ body: MultipartBody; release: () => void }>,
  ): Promise<UploadResult> {
    const path = attachmentsPath(params.module, params.recordId);
    return this.call({ method: 'POST', path, mutating: true, signal: params.signal, body }, (response) =>
      this.readUpload(response),
    );
  }

  /**
   * One page of a record's attachments. No attachments answers either 204 or 200 with
   * `data: []`; both give an empty page.
   * @throws {ZohoError} classified; INVALID_ARGUMENT for a page or perPage out of range
   */
  async listAttachments(
    module: string,
    recordId: string,
    options: ListAttachmentsOptions = {},
  ): Promise<AttachmentPage> {
    const page = options.page ?? 1;
    const perPage = options.perPage ?? MAX_PER_PAGE;
    if (!Number.isInteger(page) || page < 1) throw invalidArgument(`page must be a whole number from 1, not ${page}`);
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > MAX_PER_PAGE) {
      throw invalidArgument(`perPage must be a whole number from 1 to ${MAX_PER_PAGE}, not ${perPage}`);
    }
    const query: Record<string, string> = { page: String(page), per_page: String(perPage) };
    if (this.apiMajorVersion >= 3) query.fields = LIST_FIELDS;

    return this.call(
      { method: 'GET', path: attachmentsPath(module, recordId), query, mutating: false, signal: options.signal },
      async (response) => {
        const { body, credits } = await readJson(response, false);
        const fields =
          body && typeof body === 'object' ? (body as { data?: unknown; info?: { more_records?: unknown } }) : {};
        const rows = Array.isArray(fields.data) ? fields.data : [];
        return {
          attachments: rows.map(toAttachmentInfo),
          moreRecords: fields.info?.more_records === true,
          creditsRemaining: credits,
        };
      },
    );
  }

  /**
   * Every attachment of a record, page after page.
   * @throws {ZohoError} classified
   */
  async listAllAttachments(
    module: string,
    recordId: string,
    options: Omit<ListAttachmentsOptions, 'page'> = {},
  ): Promise<AttachmentInfo[]> {
    const all: AttachmentInfo[] = [];
    for (let page = 1; ; page++) {
      const result = await this.listAttachments(module, recordId, { ...options, page });
      all.push(...result.attachments);
      // An empty page that claims more would loop forever.
      if (!result.moreRecords || result.attachments.length === 0) return all;
    }
  }

  /**
   * Streams one attachment's bytes. The caller must consume or destroy the stream.
   * @throws {ZohoError} classified
   */
  async downloadAttachment(
    module: string,
    recordId: string,
    attachmentId: string,
    options: CallOptions = {},
  ): Promise<DownloadedAttachment> {
    const path = attachmentsPath(module, recordId, `/${pathSegment(attachmentId, 'attachmentId')}`);
    return this.call({ method: 'GET', path, mutating: false, signal: options.signal }, async (response) => {
      if (response.statusCode !== 200) {
        await readJson(response, false);
        // A 2xx other than 200 (a 204) carries no file.
        throw unexpectedResponse(`download answered HTTP ${response.statusCode} without a file`, {
          httpStatus: response.statusCode,
          mutating: false,
        });
      }
      const disposition = firstHeader(response.headers['content-disposition']);
      const fileName = sanitizeFileName(fileNameFromContentDisposition(disposition) ?? `attachment-${attachmentId}`);
      return { fileName, stream: response.body };
    });
  }

  /**
   * Deletes attachments: one id by its own URL, several by `?ids=a,b,c` in batches of 100.
   * @throws {ZohoError} classified; when Zoho refuses some ids, the first refusal with
   *   `details.failed` listing every refused id and its code; INVALID_ARGUMENT for an id that is not digits
   */
  async deleteAttachments(module: string, recordId: string, ids: string[], options: CallOptions = {}): Promise<void> {
    for (const id of ids) {
      // A comma in an id would silently widen `ids=` to attachments nobody asked to delete.
      if (!/^\d+$/.test(id)) throw invalidArgument(`attachment id "${id}" is not a number`);
    }
    for (let start = 0; start < ids.length; start += DELETE_BATCH) {
      const batch = ids.slice(start, start + DELETE_BATCH);
      const target =
        batch.length === 1
          ? { path: attachmentsPath(module, recordId, `/${batch[0]}`) }
          : { path: attachmentsPath(module, recordId), query: { ids: batch.join(',') } };
      await this.call({ method: 'DELETE', ...target, mutating: true, signal: options.signal }, async (response) => {
        const { body, credits } = await readJson(response, true);
        throwRefusedRows(response.statusCode, body, credits);
      });
    }
  }

  /**
   * Finds records by the value of one of their fields, e.g. migrated records by their legacy
   * key, with COQL (contract §7): `select id, <field> from <module> where <field> in ('v1', …)
   * limit [<offset>, ]200`, at most 50 values a query (more are split over several queries) and
   * page after page while `info.more_records` says so. Each query costs one API credit: at
   * least `ceil(distinct values / 50)` of them. The token needs `ZohoCRM.coql.READ` and read
   * access to the module.
   *
   * A value containing `'` is sent with the quote doubled (`'O''Brien'`). Rows are matched back
   * to values ignoring case, as Zoho's criteria compare text: `A-1` and `a-1` asked together
   * both get both records, which reads as ambiguous rather than as a guess.
   * @param values duplicates are asked once
   * @returns every distinct value asked → the ids of the records holding it, in Zoho's order:
   *   `[]` none, one id, or several (ambiguous: the caller must not pick one)
   * @throws {ZohoError} classified: SYNTAX_ERROR, INVALID_QUERY (an unknown module or field) and
   *   LIMIT_EXCEEDED are permanent; INVALID_ARGUMENT before any call for a module or field that
   *   is not a plain API name or is an SQL reserved word, or a value that is empty or holds a
   *   backslash or a control character (the contract gives no escape for those)
   */
  async findRecordsByField(
    module: string,
    field: string,
    values: readonly string[],
    options: CallOptions = {},
  ): Promise<Map<string, string[]>> {
    coqlName(module, 'module');
    coqlName(field, 'field');
    const distinct = [...new Set(values)];
    const literals = distinct.map(coqlLiteral);
    const found = new Map<string, string[]>(distinct.map((value) => [value, []]));
    // Values by their case-folded form: a row may come back spelt differently from the value asked.
    const asked = new Map<string, string[]>();
    for (const value of distinct) asked.set(foldCase(value), [...(asked.get(foldCase(value)) ?? []), value]);

    const columns = field === 'id' ? 'id' : `id, ${field}`;
    for (let start = 0; start < literals.length; start += MAX_COQL_VALUES) {
      const list = literals.slice(start, start + MAX_COQL_VALUES).join(', ');
      for (let offset = 0; ; offset += COQL_PAGE_SIZE) {
        const limit = offset === 0 ? `${COQL_PAGE_SIZE}` : `${offset}, ${COQL_PAGE_SIZE}`;
        const query = `select ${columns} from ${module} where ${field} in (${list}) limit ${limit}`;
        const page = await this.runQuery(query, options.signal);
        for (const row of page.rows) {
          const value = row[field];
          if (typeof value !== 'string' && typeof value !== 'number') continue;
          for (const match of asked.get(foldCase(String(value))) ?? []) {
            const ids = found.get(match)!;
            if (!ids.includes(row.id)) ids.push(row.id);
          }
        }
        // An empty page that claims more would loop forever.
        if (!page.moreRecords || page.rows.length === 0) break;
      }
    }
    return found;
  }

  /** One COQL call: its rows (each with a string `id`) and whether more follow. 204 is no rows. */
  private runQuery(
    selectQuery: string,
    signal: AbortSignal | undefined,
  ): Promise<{ rows: Array<Record<string, unknown> & { id: string }>; moreRecords: boolean }> {
    const body = Buffer.from(JSON.stringify({ select_query: selectQuery }), 'utf8');
    return this.call(
      { method: 'POST', path: '/coql', mutating: false, signal, body: () => Promise.resolve(jsonBody(body)) },
      async (response) => {
        const { body: answer } = await readJson(response, false);
        const fields =
          answer && typeof answer === 'object' ? (answer as { data?: unknown; info?: { more_records?: unknown } }) : {};
        const rows = (Array.isArray(fields.data) ? fields.data : []).map((row: unknown) => {
          const record = row && typeof row === 'object' ? (row as Record<string, unknown>) : {};
          const id = typeof record.id === 'number' && Number.isSafeInteger(record.id) ? String(record.id) : record.id;
          if (typeof id !== 'string' || !/^\d+$/.test(id)) {
            throw unexpectedResponse('a COQL answer has a row without a record id', {
              httpStatus: response.statusCode,
              mutating: false,
            });
          }
          return { ...record, id };
        });
        return { rows, moreRecords: fields.info?.more_records === true };
      },
    );
  }

  /**
   * Runs one call with the current token; on 401 INVALID_TOKEN, invalidates that token
   * (only if still current) and runs it once more with a fresh one, re-opening the body.
   */
  private async call<T>(spec: ApiCall, read: (response: Dispatcher.ResponseData) => Promise<T>): Promise<T> {
    const token = await this.tokens.getToken();
    try {
      return await this.attempt(spec, token, read);
    } catch (error) {
      if (!(error instanceof ZohoError) || error.classification !== 'token_expired') throw error;
      await this.tokens.invalidate(token.accessToken);
      return this.attempt(spec, await this.tokens.getToken(), read);
    }
  }

  private async attempt<T>(
    spec: ApiCall,
    token: AccessToken,
    read: (response: Dispatcher.ResponseData) => Promise<T>,
  ): Promise<T> {
    const prepared = spec.body ? await spec.body() : undefined;
    try {
      const headers: Record<string, string> = { authorization: `Zoho-oauthtoken ${token.accessToken}` };
      if (prepared) {
        headers['content-type'] = prepared.body.contentType;
        headers['content-length'] = String(prepared.body.contentLength);
      }
      let response: Dispatcher.ResponseData;
      let dispatched = false;
      try {
        // undici reads a body it was given even when the signal is already aborted: stop first.
        spec.signal?.throwIfAborted();
        dispatched = true;
        this.onRequest?.(this.attribution);
        response = await request(this.url(spec, token), {
          method: spec.method,
          headers,
          // Readable.from pulls the next chunk only as the socket drains: the file is never buffered whole.
          body: prepared ? Readable.from(prepared.body.chunks(), { objectMode: false }) : undefined,
          dispatcher: this.dispatcher,
          // headersTimeout also fires while the body cannot be written (a server that stopped
          // reading), so a hung server is given up on in every phase.
          headersTimeout: this.config.requestTimeoutMs,
          bodyTimeout: this.config.requestTimeoutMs,
          signal: spec.signal,
        });
      } catch (error) {
        // How far it got decides whether Zoho may have acted (errors.ts FAILURE_TABLE).
        const progress = {
          answered: false,
          dispatched,
          hasBody: prepared !== undefined,
          bodyStarted: prepared?.body.started ?? false,
        } as const;
        throw errorFromNetwork(error, { mutating: spec.mutating, progress });
      }
      try {
        return await read(response);
      } catch (error) {
        // Whatever went wrong, the body must not be left half-read on the connection.
        await discardBody(response.body);
        throw error;
      }
    } finally {
      prepared?.release();
    }
  }

  /**
   * `{apiDomain}/crm/{version}{path}`. The API domain is the configured one when it was set
   * explicitly, else the one the token came with.
   */
  private url(spec: ApiCall, token: AccessToken): string {
    const domain = this.config.apiDomainOverridden ? this.config.apiDomain : (token.apiDomain ?? this.config.apiDomain);
    const query = spec.query ? `?${new URLSearchParams(spec.query).toString()}` : '';
    return `${domain}/crm/${this.config.apiVersion}${spec.path}${query}`;
  }

  private async readUpload(response: Dispatcher.ResponseData): Promise<UploadResult> {
    const { body, credits } = await readJson(response, true);
    if (findErrorEnvelope(body)) throw errorFromResponse(response.statusCode, body, credits);
    const id = (body as { data?: Array<{ details?: { id?: unknown } }> } | undefined)?.data?.[0]?.details?.id;
    const attachmentId = typeof id === 'number' && Number.isSafeInteger(id) ? String(id) : id;
    if (typeof attachmentId !== 'string' || !/^\d+$/.test(attachmentId)) {
      throw unexpectedResponse('the upload answered success without an attachment id', {
        httpStatus: response.statusCode,
        mutating: true,
      });
    }
    return { attachmentId, creditsRemaining: credits };
  }
}

/**
 * Reads a whole JSON answer. A non-2xx answer becomes the classified error; 204 (and any
 * empty body) gives `body: undefined`.
 */
async function readJson(
  response: Dispatcher.ResponseData,
  mutating: boolean,
): Promise<{ body: unknown; credits: number | undefined }> {
  const credits = creditsRemaining(response.headers);
  let text: string;
  try {
    text = await readBodyText(response.body);
  } catch (error) {
    throw errorFromNetwork(error, { mutating, progress: { answered: true } });
  }
  const body = text.trim() === '' ? undefined : parseJson(text);
  if (response.statusCode < 200 || response.statusCode > 299)
    throw errorFromResponse(response.statusCode, body, credits, { mutating });
  if (text.trim() !== '' && body === undefined) {
    throw unexpectedResponse(`HTTP ${response.statusCode} answer is not JSON`, {
      httpStatus: response.statusCode,
      mutating,
    });
  }
  return { body, credits };
}

/** A delete answers one row per id; any row with `status: "error"` makes the call fail. */
function throwRefusedRows(status: number, body: unknown, credits: number | undefined): void {
  const rows = (body as { data?: unknown } | undefined)?.data;
  if (!Array.isArray(rows)) return;
  const refused = rows.filter(
    (row): row is Record<string, unknown> =>
      !!row && typeof row === 'object' && (row as { status?: unknown }).status === 'error',
  );
  const first = refused[0];
  if (!first) return;
  const failed = refused.map((row) => ({ id: (row.details as { id?: unknown } | undefined)?.id, code: row.code }));
  const details = { ...(first.details && typeof first.details === 'object' ? first.details : {}), failed };
  throw errorFromResponse(status, { ...first, details }, credits);
}

function toAttachmentInfo(row: unknown): AttachmentInfo {
  const fields = row && typeof row === 'object' ? (row as Record<string, unknown>) : {};
  const size =
    (typeof fields.Size === 'string' && fields.Size.trim() !== '') || typeof fields.Size === 'number'
      ? Number(fields.Size)
      : Number.NaN;
  const info: AttachmentInfo = {
    // Zoho sends ids as strings (19 digits do not fit a JSON number); anything else is no id.
    id: typeof fields.id === 'string' || typeof fields.id === 'number' ? String(fields.id) : '',
    fileName: typeof fields.File_Name === 'string' ? fields.File_Name : '',
    size: Number.isFinite(size) ? size : undefined,
    createdTime: typeof fields.Created_Time === 'string' ? fields.Created_Time : '',
  };
  if (typeof fields.$link_url === 'string' && fields.$link_url !== '') info.linkUrl = fields.$link_url;
  if (typeof fields.$type === 'string') info.type = fields.$type;
  return info;
}

function titleField(title: string | undefined): MultipartField[] {
  const cleaned = sanitizeTitle(title);
  return cleaned === undefined ? [] : [{ name: 'title', value: cleaned }];
}

/** A JSON request body of these bytes, sent in one chunk. */
function jsonBody(bytes: Buffer): { body: RequestBody; release: () => void } {
  let started = false;
  const body: RequestBody = {
    contentType: 'application/json',
    contentLength: bytes.length,
    get started() {
      return started;
    },
    *chunks() {
      started = true;
      yield bytes;
    },
  };
  return { body, release: () => undefined };
}

/**
 * A module or field name as COQL takes it unquoted, or INVALID_ARGUMENT: put into the query as
 * it is, it must not be able to change what the query says.
 */
function coqlName(name: string, what: 'module' | 'field'): void {
  const problem = coqlNameProblem(name);
  if (problem !== undefined) throw invalidArgument(`${what} "${name}" ${problem}`);
}

/** A value as a COQL text literal: single-quoted, a quote inside doubled (contract §7). */
function coqlLiteral(value: string): string {
  const problem = coqlValueProblem(value);
  if (problem !== undefined) throw invalidArgument(`value ${JSON.stringify(value)} ${problem}`);
  return `'${value.replaceAll("'", "''")}'`;
}

/** The form values are compared in: Zoho's criteria ignore case. */
function foldCase(value: string): string {
  return value.toLowerCase();
}

/**
 * `/{module}/{recordId}/Attachments{suffix}`, each part checked (see {@link pathSegment}). Called
 * while a call is described, so a bad path fails before any token or file is touched: it is a
 * bug in the row, not in Zoho.
 */
function attachmentsPath(module: string, recordId: string, suffix = ''): string {
  return `/${pathSegment(module, 'module')}/${pathSegment(recordId, 'recordId')}/Attachments${suffix}`;
}

/**
 * One URL path segment. `.` and `..` cannot be made safe by encoding (URL parsers resolve
 * even `%2E%2E`), and an empty one would shift the path: all are refused.
 */
function pathSegment(value: string, what: string): string {
  if (value === '' || value === '.' || value === '..')
    throw invalidArgument(`${what} "${value}" cannot be used in a URL path`);
  return encodeURIComponent(value);
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
