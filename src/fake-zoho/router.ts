/** Which route a method and path lead to. Only the path's shape is judged here. */

/** What an API call does. */
export type ApiOperation = 'upload' | 'list' | 'download' | 'delete';

/** Where the path of an Attachments call points. */
export interface AttachmentsTarget {
  version: string;
  /** As written in the path; validated by the handler, which answers INVALID_MODULE. */
  module: string;
  /** As written in the path; validated by the handler, which answers INVALID_DATA. */
  recordId: string;
  /** Present for `…/Attachments/{id}`. */
  attachmentId?: string;
}

/** The outcome of routing. */
export type Route =
  | { kind: 'api'; operation: ApiOperation; target: AttachmentsTarget }
  /** `POST /crm/{version}/coql`: the Query API (contract §7). */
  | { kind: 'coql' }
  | { kind: 'token' }
  /** The fake's control API; `path` is what follows `/__fake`. */
  | { kind: 'control'; path: string }
  /** A known path with a method it does not take. */
  | { kind: 'wrongMethod' }
  | { kind: 'notFound' };

/** The API versions whose Attachments calls share one shape (contract §1), and COQL's with them. */
const API_VERSIONS = new Set(['v2', 'v2.1', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8']);

/** What each method does on `…/Attachments` and on `…/Attachments/{id}`. */
const COLLECTION_OPERATIONS = new Map<string, ApiOperation>([
  ['POST', 'upload'],
  ['GET', 'list'],
  ['DELETE', 'delete'],
]);
const ITEM_OPERATIONS = new Map<string, ApiOperation>([
  ['GET', 'download'],
  ['DELETE', 'delete'],
]);

const TOKEN_PATH = '/oauth/v2/token';
const CONTROL_PREFIX = '/__fake';

/** Routes one request. */
export function resolveRoute(method: string, pathname: string): Route {
  if (pathname === TOKEN_PATH) return method === 'POST' ? { kind: 'token' } : { kind: 'wrongMethod' };
  if (pathname.startsWith(`${CONTROL_PREFIX}/`)) {
    return { kind: 'control', path: pathname.slice(CONTROL_PREFIX.length) };
  }

  const segments = decodeSegments(pathname);
  // ['crm', version, 'coql']: the Query API takes the versions the Attachments API does.
  if (segments?.length === 3 && segments[0] === 'crm' && segments[2] === 'coql' && API_VERSIONS.has(segments[1]!)) {
    return method === 'POST' ? { kind: 'coql' } : { kind: 'wrongMethod' };
  }
  // ['crm', version, module, recordId, 'Attachments', attachmentId?]
  if (!segments || segments[0] !== 'crm' || segments[4] !== 'Attachments') return { kind: 'notFound' };
  const [, version, module, recordId, , attachmentId] = segments;
  if (!API_VERSIONS.has(version!) || segments.length > 6) return { kind: 'notFound' };

  const operation = (attachmentId === undefined ? COLLECTION_OPERATIONS : ITEM_OPERATIONS).get(method);
  if (!operation) return { kind: 'wrongMethod' };
  const target: AttachmentsTarget = { version: version!, module: module!, recordId: recordId! };
  if (attachmentId !== undefined) target.attachmentId = attachmentId;
  return { kind: 'api', operation, target };
}

/** The path's segments, percent-decoded; undefined when one is empty or cannot be decoded. */
function decodeSegments(pathname: string): string[] | undefined {
  const segments = pathname.split('/').slice(1);
  if (segments.some((segment) => segment.length === 0)) return undefined;
  try {
    return segments.map((segment) => decodeURIComponent(segment));
  } catch {
    return undefined;
  }
}
