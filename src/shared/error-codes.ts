/**
 * Every error code the tool uses, listed once, the way undici lists its `UND_ERR_*` codes.
 * An error carries its code as data (`error.code`, and `[CODE]` at the start of its message,
 * because BullMQ keeps only a failed job's message); callers branch on the code, never on the
 * text. The classification that decides what a worker does with each one lives next to the
 * code that raises it (`zoho/errors.ts`, `sources/errors.ts`), and in RELIABILITY.md's table.
 *
 * `test/unit/error-codes.test.ts` checks that every code raised anywhere under src/ is here,
 * and that the README's table of codes lists every entry.
 */

/** Where a code comes from. */
export type ErrorCodeOrigin =
  /** Zoho's own code, from its error envelope (contract §2 and §3). */
  | 'zoho'
  /** A Zoho call that failed without a Zoho code (network, timeout, an unreadable answer), or OAuth. */
  | 'zoho-client'
  /** Opening or reading a file or URL source. */
  | 'source'
  /** Reading the manifest as a whole (a bad row is a rejection, not an error). */
  | 'manifest'
  /** The queue, the ledger and the upload of one row. */
  | 'upload'
  /** Configuration, Redis, the CLI and the library. */
  | 'setup';

/** What a code means. */
export interface ErrorCodeInfo {
  origin: ErrorCodeOrigin;
  means: string;
}

/** The catalog. */
export const ERROR_CODES = {
  // Zoho's own codes.
  INVALID_MODULE: { origin: 'zoho', means: 'the module API name is unknown or not supported by the API' },
  INVALID_DATA: {
    origin: 'zoho',
    means: 'Zoho refused a value: the record id, the file name, the title, the link, or an attachment id',
  },
  DUPLICATE_DATA: { origin: 'zoho', means: 'the same link is already attached to the record' },
  MANDATORY_NOT_FOUND: { origin: 'zoho', means: 'neither a file nor a link was sent' },
  AUTHORIZATION_FAILED: { origin: 'zoho', means: 'the user may not upload attachments' },
  INVALID_REQUEST_METHOD: { origin: 'zoho', means: 'the HTTP method is not valid for the URL (a bug)' },
  NO_PERMISSION: { origin: 'zoho', means: 'permission denied to upload to the record' },
  INVALID_URL_PATTERN: { origin: 'zoho', means: 'the URL is not a Zoho API URL (a wrong API domain or version)' },
  FILE_SIZE_MORE_THAN_ALLOWED_SIZE: { origin: 'zoho', means: 'the file is larger than Zoho accepts (100 MB)' },
  INVALID_TOKEN: { origin: 'zoho', means: 'the access token expired or was revoked: refreshed once, then retried' },
  AUTHENTICATION_FAILURE: { origin: 'zoho', means: 'Zoho refused the credentials: the queue pauses' },
  OAUTH_SCOPE_MISMATCH: { origin: 'zoho', means: 'the token lacks the attachments scope: the queue pauses' },
  TOO_MANY_REQUESTS: {
    origin: 'zoho',
    means: "too many calls in flight, or the day's credits are spent: every worker slows down",
  },
  INTERNAL_ERROR: { origin: 'zoho', means: 'Zoho failed (5xx): retried; it may have stored the file' },
  REQUIRED_PARAM_MISSING: { origin: 'zoho', means: 'a list or delete call lacked a parameter (a bug)' },
  NOT_SUPPORTED: { origin: 'zoho', means: 'the operation is not supported for this attachment' },

  // Zoho calls without a Zoho code, and OAuth.
  NETWORK_ERROR: { origin: 'zoho-client', means: 'the connection failed or was reset' },
  TIMEOUT: { origin: 'zoho-client', means: 'no complete answer within ZOHO_REQUEST_TIMEOUT_MS' },
  ABORTED: { origin: 'zoho-client', means: 'the call was aborted by its caller' },
  HTTP_SERVER_ERROR: { origin: 'zoho-client', means: 'a 5xx answer without a Zoho error envelope' },
  HTTP_CLIENT_ERROR: { origin: 'zoho-client', means: 'a 4xx answer without a Zoho error envelope' },
  UNEXPECTED_RESPONSE: {
    origin: 'zoho-client',
    means: 'a 2xx answer that could not be read (not JSON, no attachment id)',
  },
  BODY_SIZE_MISMATCH: { origin: 'zoho-client', means: 'the file changed while it was uploaded' },
  INVALID_ARGUMENT: { origin: 'zoho-client', means: 'a module, record or attachment id that cannot be put in a URL' },
  REFRESH_INVALID_CODE: {
    origin: 'zoho-client',
    means: 'the refresh token is revoked or invalid (invalid_code): the queue pauses',
  },
  REFRESH_INVALID_CLIENT: {
    origin: 'zoho-client',
    means: 'the client id or secret is wrong, or the data centre (invalid_client): the queue pauses',
  },
  REFRESH_THROTTLED: { origin: 'zoho-client', means: 'too many token refreshes (Access Denied): every worker waits' },
  REFRESH_FAILED: { origin: 'zoho-client', means: 'any other failed token refresh' },
  NO_CREDENTIALS: { origin: 'zoho-client', means: 'no Zoho credentials are configured' },
  TOKEN_WAIT_TIMEOUT: {
    origin: 'zoho-client',
    means: 'another process held the refresh lock and no token appeared in time',
  },
  ACCESS_TOKEN_REJECTED: {
    origin: 'zoho-client',
    means: 'the fixed ZOHO_ACCESS_TOKEN was rejected and cannot be refreshed',
  },

  // Sources.
  SOURCE_NOT_FOUND: { origin: 'source', means: 'the file does not exist' },
  SOURCE_OUTSIDE_ROOTS: {
    origin: 'source',
    means: 'the path is not under ZOHO_ATTACH_FILE_ROOTS (after resolving .. and links)',
  },
  SOURCE_NOT_A_FILE: { origin: 'source', means: 'the path is a directory, a device or a socket' },
  SOURCE_TOO_LARGE: { origin: 'source', means: 'the file or download is larger than 100 MB' },
  SOURCE_FORBIDDEN_TYPE: { origin: 'source', means: 'a file type Zoho refuses (.exe)' },
  SOURCE_UNREADABLE: { origin: 'source', means: 'the file cannot be read' },
  SOURCE_CHANGED: { origin: 'source', means: 'the file changed (or became a link) while it was opened' },
  SOURCE_EMPTY: {
    origin: 'source',
    means: 'the file or download is empty (0 bytes); enqueue with --allow-empty if that is meant',
  },
  SOURCE_HARD_LINKED: { origin: 'source', means: 'the file has more than one hard link, and hard links are refused' },
  SOURCE_LENGTH_MISMATCH: { origin: 'source', means: 'the source gave more or fewer bytes than it announced' },
  SOURCE_SPOOL_FAILED: { origin: 'source', means: 'the temporary copy of a download could not be written' },
  SOURCE_URL_BLOCKED: { origin: 'source', means: 'the URL reaches a loopback, private or link-local address' },
  SOURCE_URL_INVALID: { origin: 'source', means: 'the URL cannot be used (not http(s), credentials in it, …)' },
  SOURCE_URL_HTTP_ERROR: { origin: 'source', means: 'the URL answered with an HTTP error' },
  SOURCE_URL_TIMEOUT: { origin: 'source', means: 'the URL did not answer in time' },
  SOURCE_URL_TOO_MANY_REDIRECTS: { origin: 'source', means: 'the URL redirected too often' },
  SOURCE_URL_NETWORK: { origin: 'source', means: "the URL's host could not be resolved or reached" },

  // The manifest as a whole.
  MANIFEST_UNREADABLE: { origin: 'manifest', means: 'the manifest file cannot be read' },
  MANIFEST_BAD_HEADER: { origin: 'manifest', means: 'the CSV header lacks a required column, or repeats one' },
  MANIFEST_UNSUPPORTED_ENCODING: { origin: 'manifest', means: 'the manifest is not UTF-8' },
  MANIFEST_MALFORMED: { origin: 'manifest', means: 'the CSV breaks down so that rows cannot be told apart' },
  INVALID_ROW: {
    origin: 'manifest',
    means: 'a manifest row was rejected at enqueue (the report says which field and why)',
  },
  INVALID_JOB_DATA: {
    origin: 'upload',
    means: 'a job put in the queue by other means than enqueue fails the manifest row checks: dead letter, never sent',
  },

  // The queue, the ledger and one row's upload.
  WORKER_ERROR: { origin: 'upload', means: 'an unexpected failure in a worker: retried a bounded number of times' },
  LEASE_LOST: {
    origin: 'upload',
    means: 'a worker cut off from Redis aborted its own post before another could take the row over',
  },
  ADOPTION_CONFLICT: { origin: 'upload', means: 'another row claimed the attachment this row was adopting: retried' },
  DUPLICATE_NOT_LISTED_YET: {
    origin: 'upload',
    means:
      'Zoho says the link is on the record, which an earlier attempt may have put there, but does not list it yet: retried',
  },
  LEDGER_ITEM_MISSING: { origin: 'upload', means: 'the row has no ledger entry (its batch was removed while it ran)' },
  STALLED_TOO_OFTEN: { origin: 'upload', means: "the row's workers died or stalled too many times" },
  VERIFY_KEPT_COPY_NOT_LISTED: {
    origin: 'upload',
    means: "settle and verify could not see the row's own copy in the list yet: retried, nothing deleted",
  },
  PAUSED_BY_OPERATOR: { origin: 'upload', means: 'the queue was paused with `zoho-attach pause`' },
  CREDIT_BUDGET_SPENT: {
    origin: 'upload',
    means:
      "the batch spent ZOHO_ATTACH_CREDIT_BUDGET credits in the last 24 hours: its jobs wait until its window frees (or the org's credits are at the reserve: the queue pauses)",
  },

  // Rows that name their record by a field (lookup_field, lookup_value), found with COQL at enqueue.
  LOOKUP_NOT_FOUND: { origin: 'manifest', means: 'no record of the module has that value in the lookup field' },
  LOOKUP_AMBIGUOUS: {
    origin: 'manifest',
    means: 'several records have that value in the lookup field: the row must name its record by record_id',
  },
  LOOKUP_FAILED: {
    origin: 'manifest',
    means: 'Zoho refused the look-up (an unknown module or field, a missing ZohoCRM.coql.READ scope)',
  },

  // Configuration, Redis, the CLI and the library.
  CONFIG_INVALID: { origin: 'setup', means: 'one or more configuration variables are wrong (every problem is listed)' },
  USAGE: { origin: 'setup', means: 'a command was called with a wrong option or argument' },
  INVALID_BATCH: { origin: 'setup', means: 'a batch name outside the allowed alphabet' },
  NO_SUCH_BATCH: { origin: 'setup', means: 'no batch has that name' },
  WAIT_TIMEOUT: { origin: 'setup', means: 'waitForBatch gave up before the batch finished' },
  REDIS_UNREACHABLE: { origin: 'setup', means: 'Redis does not answer at REDIS_URL' },
  LEDGER_FORMAT_NEWER: {
    origin: 'setup',
    means: 'a newer zoho-attach wrote to the queue: this older version refuses to read or write it',
  },
  LEDGER_FORMAT_UNREADABLE: {
    origin: 'setup',
    means: "the queue's ledger format mark is not a format number: this version refuses to read or write the queue",
  },
  BATCH_NOT_FINISHED: {
    origin: 'setup',
    means: 'archive was asked for a batch with pending rows or due verifications',
  },
  ARCHIVE_INVALID: {
    origin: 'setup',
    means: 'an archive file is not one, is cut short, or did not read back as written',
  },
  REDIS_NOT_REPLICATED: {
    origin: 'upload',
    means:
      'the posting lease did not reach REDIS_WAIT_REPLICAS replicas in time (a failover under way, or too few replicas): not posted, retried later',
  },
  REDIS_UNAVAILABLE: { origin: 'setup', means: 'no redis-server could be started for the demo' },
  DASHBOARD_CREDENTIALS_REQUIRED: {
    origin: 'setup',
    means: 'the dashboard listens beyond loopback without credentials',
  },
  DASHBOARD_LISTEN_FAILED: { origin: 'setup', means: 'the dashboard could not listen on its port' },
} as const satisfies Record<string, ErrorCodeInfo>;

/** One of the codes in {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** True when `code` is in the catalog. */
export function isKnownErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}
