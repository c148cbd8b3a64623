/**
 * List, download and delete of a record's attachments (contract §3). The module and record
 * id have been checked before these run.
 */
import type { StoredAttachment } from '../attachment-store.js';
import type { ApiAnswer, FakeRequest } from '../exchange.js';
import { contentDispositionAttachment } from '../content-disposition.js';
import type { AttachmentsTarget } from '../router.js';
import type { FakeZohoState } from '../state.js';
import { ZOHO_ERRORS, successEntry, zohoError, zohoSuccess } from '../zoho-answers.js';
import { RESOURCE_PATH_INDEX } from './record-target.js';

/** Zoho's page size limit. */
const MAX_PER_PAGE = 200;
/** Versions that list without a `fields` parameter; from v3 on it is required. */
const VERSIONS_WITHOUT_FIELDS = new Set(['v2', 'v2.1']);

/** `GET …/Attachments?page=&per_page=[&fields=]`: one page of rows, oldest attachment first. */
export function handleList(request: FakeRequest, target: AttachmentsTarget, state: FakeZohoState): ApiAnswer {
  const params = request.url.searchParams;
  const fields = params.get('fields');
  if (!fields && !VERSIONS_WITHOUT_FIELDS.has(target.version)) {
    return zohoError('REQUIRED_PARAM_MISSING', { param_name: 'fields' });
  }
  const page = wholeNumberParam(params, 'page', 1);
  if (page === undefined) return invalidParam('page', 'page must be a whole number of at least 1');
  const perPage = wholeNumberParam(params, 'per_page', MAX_PER_PAGE);
  if (perPage === undefined || perPage > MAX_PER_PAGE) {
    return invalidParam('per_page', `per_page must be a whole number from 1 to ${MAX_PER_PAGE}`);
  }

  const all = state.attachments.listed(target.module, target.recordId, state.listLagMs);
  const rows = all.slice((page - 1) * perPage, page * perPage);
  const info = { page, per_page: perPage, count: rows.length, more_records: page * perPage < all.length };
  if (rows.length === 0 && state.options.emptyListStyle === '204') return { status: 204, code: 'NO_CONTENT' };

  const requested = fields ? new Set(['id', ...fields.split(',').map((field) => field.trim())]) : undefined;
  const data = rows.map((attachment) => {
    const row = listRow(attachment);
    return requested ? Object.fromEntries(Object.entries(row).filter(([name]) => requested.has(name))) : row;
  });
  return { status: 200, code: 'SUCCESS', body: { data, info } };
}

/** `GET …/Attachments/{id}`: the file's bytes, its name in Content-Disposition. */
export function handleDownload(target: AttachmentsTarget, state: FakeZohoState): ApiAnswer {
  const attachment = state.attachments.find(target.module, target.recordId, target.attachmentId!);
  if (!attachment) return unknownAttachment();
  if (attachment.type === 'Link URL') {
    return zohoError(
      'INVALID_DATA',
      { resource_path_index: RESOURCE_PATH_INDEX.attachmentId },
      'the attachment is a link and has no file to download',
    );
  }
  if (!attachment.contentPath || !state.content) {
    return zohoError('NOT_SUPPORTED', {}, 'the fake was started with storeContent: false and kept no bytes');
  }
  return {
    status: 200,
    code: 'SUCCESS',
    headers: {
      'Content-Type': attachment.contentType,
      'Content-Length': String(attachment.size),
      'Content-Disposition': contentDispositionAttachment(attachment.fileName),
    },
    stream: state.content.open(attachment.contentPath),
  };
}

/**
 * `DELETE …/Attachments/{id}`, or `DELETE …/Attachments?ids=a,b,c`. The mass form answers 200
 * with one `data[]` entry per id, an error entry for an id the record does not have.
 */
export async function handleDelete(
  request: FakeRequest,
  target: AttachmentsTarget,
  state: FakeZohoState,
): Promise<ApiAnswer> {
  if (target.attachmentId !== undefined) {
    const removed = state.attachments.remove(target.module, target.recordId, target.attachmentId);
    if (!removed) return unknownAttachment();
    await state.removeContent([removed]);
    return zohoSuccess([deletedEntry(removed.id)]);
  }

  const ids = (request.url.searchParams.get('ids') ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id.length > 0);
  if (ids.length === 0) return zohoError('REQUIRED_PARAM_MISSING', { param_name: 'ids' });

  const entries = [];
  const removedAll: StoredAttachment[] = [];
  for (const id of ids) {
    const removed = state.attachments.remove(target.module, target.recordId, id);
    if (removed) removedAll.push(removed);
    entries.push(
      removed
        ? deletedEntry(id)
        : { code: 'INVALID_DATA', details: { id }, message: ZOHO_ERRORS.INVALID_DATA.message, status: 'error' },
    );
  }
  await state.removeContent(removedAll);
  return zohoSuccess(entries);
}

/** A list row with the fields the contract names; `Size` is a string, as Zoho sends it. */
function listRow(attachment: StoredAttachment): Record<string, unknown> {
  return {
    id: attachment.id,
    File_Name: attachment.fileName,
    Size: String(attachment.size),
    Created_Time: attachment.createdTime,
    $link_url: attachment.linkUrl ?? null,
    $type: attachment.type,
  };
}

function deletedEntry(id: string): Record<string, unknown> {
  return successEntry({ id }, 'record deleted');
}

function unknownAttachment(): ApiAnswer {
  return zohoError('INVALID_DATA', { resource_path_index: RESOURCE_PATH_INDEX.attachmentId });
}

function invalidParam(name: string, message: string): ApiAnswer {
  return zohoError('INVALID_DATA', { param_name: name }, message);
}

/** A whole-number query parameter of at least 1; `fallback` when absent, undefined when invalid. */
function wholeNumberParam(params: URLSearchParams, name: string, fallback: number): number | undefined {
  const raw = params.get(name);
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw)) return undefined;
  const value = Number(raw);
  return value >= 1 ? value : undefined;
}
