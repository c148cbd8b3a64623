/**
 * `POST …/{module}/{record_id}/Attachments` (contract §1): one file part named `file`, or a
 * link (`attachmentUrl`, optional `title`) as form fields or query parameters. The file
 * streams through a hash and a byte count (and to disk when content is stored); it is
 * never held in memory.
 */
import { createHash } from 'node:crypto';
import type { ContentFile } from '../content-store.js';
import { headerValue, type ApiAnswer, type FakeRequest } from '../exchange.js';
import { MultipartError, multipartBoundary, parseMultipart, type PartSink } from '../multipart.js';
import type { NewAttachment } from '../attachment-store.js';
import type { AttachmentsTarget } from '../router.js';
import { BodyTooLargeError, readSmallBody } from '../small-body.js';
import type { FakeZohoState } from '../state.js';
import { FAKE_USER, successEntry, zohoError, zohoSuccess } from '../zoho-answers.js';

/**
 * Room for the multipart framing and the text fields on top of the file: a Content-Length
 * beyond `maxUploadBytes` plus this cannot carry an acceptable file.
 */
const FORM_OVERHEAD_ALLOWANCE = 64 * 1024;
/** Longest text field or urlencoded body read into memory; valid ones are far shorter. */
const MAX_FIELD_BYTES = 16 * 1024;
const MAX_FILE_NAME_LENGTH = 250;
const MAX_TITLE_LENGTH = 255;
const MAX_LINK_LENGTH = 3000;
/** File types Zoho refuses (contract §1). */
const REFUSED_FILE_NAME = /\.exe$/i;
/** A link has no bytes: its hash is that of nothing. */
const EMPTY_SHA256 = createHash('sha256').digest('hex');
/** The text fields an upload may carry; other parts are ignored. */
const LINK_FIELDS = new Set(['attachmentUrl', 'title']);

/** Stops reading an upload with the answer to give. */
class UploadRefusal extends Error {
  override readonly name = 'UploadRefusal';
  constructor(readonly answer: ApiAnswer) {
    super(`upload refused: ${answer.code}`);
  }
}

/** A file that arrived in full. */
interface ReceivedFile {
  fileName: string;
  contentType: string;
  size: number;
  sha256: string;
  /** Its bytes on disk, when content is stored. */
  content: ContentFile | undefined;
}

/** What the request body held. */
interface UploadForm {
  file: ReceivedFile | undefined;
  fields: Map<string, string>;
}

/** Handles one upload to a module and record already checked. */
export async function handleUpload(
  request: FakeRequest,
  target: AttachmentsTarget,
  state: FakeZohoState,
  options: { storeDelayMs?: number } = {},
): Promise<ApiAnswer> {
  const declaredLength = Number(headerValue(request, 'content-length') ?? 0);
  if (declaredLength > state.options.maxUploadBytes + FORM_OVERHEAD_ALLOWANCE) return fileTooLarge();

  let form: UploadForm;
  try {
    form = await readUploadForm(request, state);
  } catch (error) {
    if (error instanceof UploadRefusal) return error.answer;
    throw error;
  }

  const answer = storeUpload(form, target, request.url.searchParams, state, options);
  if (answer.status !== 200) await form.file?.content?.discard();
  return answer;
}

/** Decides on a fully read upload: stores it and answers 200, or answers why not. */
function storeUpload(
  form: UploadForm,
  target: AttachmentsTarget,
  query: URLSearchParams,
  state: FakeZohoState,
  options: { storeDelayMs?: number },
): ApiAnswer {
  const linkUrl = form.fields.get('attachmentUrl') ?? query.get('attachmentUrl') ?? undefined;
  const title = form.fields.get('title') ?? query.get('title') ?? undefined;
  const { file } = form;

  if (file && linkUrl !== undefined) {
    return zohoError('INVALID_DATA', { api_name: 'attachmentUrl' }, 'a file and a link cannot be uploaded together');
  }
  if (!file && linkUrl === undefined) return zohoError('MANDATORY_NOT_FOUND', { api_name: 'file' });
  if (title !== undefined && !lengthWithin(title, 1, MAX_TITLE_LENGTH)) {
    return zohoError('INVALID_DATA', { api_name: 'title' }, `the title must be 1 to ${MAX_TITLE_LENGTH} characters`);
  }
  const place = { module: target.module, recordId: target.recordId };
  // A late store (the `lateStore` fault) is stored after the delay; its answer is never sent.
  const store = (attachment: NewAttachment): ApiAnswer => {
    if (options.storeDelayMs === undefined) return uploaded(state.attachments.add(attachment));
    state.attachments.addLater(attachment, options.storeDelayMs);
    // A success (so that the bytes are kept for the late attachment), though it is never sent.
    return { status: 200, code: 'SUCCESS' };
  };

  if (file) {
    return store({
      ...place,
      fileName: file.fileName,
      size: file.size,
      sha256: file.sha256,
      type: 'Attachment',
      contentType: file.contentType,
      ...(title !== undefined && { title }),
      ...(file.content && { contentPath: file.content.path }),
    });
  }

  if (!lengthWithin(linkUrl!, 1, MAX_LINK_LENGTH) || !isWebUrl(linkUrl!)) {
    return zohoError(
      'INVALID_DATA',
      { api_name: 'attachmentUrl' },
      `attachmentUrl must be an http(s) URL of at most ${MAX_LINK_LENGTH} characters`,
    );
  }
  const existing = state.attachments.findLink(target.module, target.recordId, linkUrl!);
  if (existing) return zohoError('DUPLICATE_DATA', { api_name: 'attachmentUrl', id: existing.id });
  return store({
    ...place,
    fileName: title ?? linkUrl!,
    size: 0,
    sha256: EMPTY_SHA256,
    type: 'Link URL',
    contentType: 'text/uri-list',
    linkUrl: linkUrl!,
    ...(title !== undefined && { title }),
  });
}

/** The success answer of the contract, for a stored attachment. */
function uploaded(attachment: { id: string; createdTime: string }): ApiAnswer {
  return zohoSuccess([
    successEntry(
      {
        Modified_Time: attachment.createdTime,
        Modified_By: FAKE_USER,
        Created_Time: attachment.createdTime,
        id: attachment.id,
        Created_By: FAKE_USER,
      },
      'attachment uploaded successfully',
    ),
  ]);
}

function fileTooLarge(): ApiAnswer {
  return zohoError('FILE_SIZE_MORE_THAN_ALLOWED_SIZE');
}

/** Reads the body by its Content-Type; any other type is left unread (and so holds no file or link). */
async function readUploadForm(request: FakeRequest, state: FakeZohoState): Promise<UploadForm> {
  const contentType = headerValue(request, 'content-type');
  let boundary: string | undefined;
  try {
    boundary = multipartBoundary(contentType);
  } catch (error) {
    if (error instanceof MultipartError) throw new UploadRefusal(malformedBody(error));
    throw error;
  }
  if (boundary !== undefined) return readMultipartForm(request, boundary, state);

  const fields = new Map<string, string>();
  if (contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    let body: Buffer;
    try {
      body = await readSmallBody(request.body, MAX_FIELD_BYTES);
    } catch (error) {
      if (error instanceof BodyTooLargeError) throw new UploadRefusal(fieldTooLong('the form'));
      throw error;
    }
    for (const [name, value] of new URLSearchParams(body.toString('utf8'))) {
      if (LINK_FIELDS.has(name)) fields.set(name, value);
    }
  }
  return { file: undefined, fields };
}

async function readMultipartForm(request: FakeRequest, boundary: string, state: FakeZohoState): Promise<UploadForm> {
  const fields = new Map<string, string>();
  let file: FileSink | undefined;
  try {
    await parseMultipart(request.body, boundary, (part) => {
      if (part.name === 'file' && part.fileName !== undefined) {
        // Judged from the part's headers, before any of the file is read.
        const problem = file ? 'only one file can be uploaded per request' : fileNameProblem(part.fileName);
        if (problem) throw new UploadRefusal(zohoError('INVALID_DATA', { api_name: 'file' }, problem));
        file = new FileSink(part.fileName, part.contentType, state.options.maxUploadBytes, state.content?.createFile());
        return file;
      }
      const name = part.name;
      if (name !== undefined && LINK_FIELDS.has(name)) return new FieldSink(name, (value) => fields.set(name, value));
      return IGNORED_PART;
    });
  } catch (error) {
    await file?.discard();
    if (error instanceof MultipartError) throw new UploadRefusal(malformedBody(error));
    throw error;
  }
  return { file: file?.received(), fields };
}

/** What is wrong with a file name (empty, too long, a refused type), or undefined when nothing is. */
function fileNameProblem(fileName: string): string | undefined {
  if (fileName.trim().length === 0) return 'the file has no name';
  if (!lengthWithin(fileName, 1, MAX_FILE_NAME_LENGTH)) {
    return `the file name is longer than ${MAX_FILE_NAME_LENGTH} characters`;
  }
  if (REFUSED_FILE_NAME.test(fileName.trim())) return 'files of type .exe cannot be attached';
  return undefined;
}

/** Hashes and counts the file part, stops it at the size limit, and writes it to disk if asked. */
class FileSink implements PartSink {
  private readonly hash = createHash('sha256');
  private size = 0;

  constructor(
    private readonly fileName: string,
    private readonly contentType: string | undefined,
    private readonly maxBytes: number,
    private readonly content: ContentFile | undefined,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    this.size += chunk.length;
    if (this.size > this.maxBytes) throw new UploadRefusal(fileTooLarge());
    this.hash.update(chunk);
    await this.content?.write(chunk);
  }

  async end(): Promise<void> {
    await this.content?.finish();
  }

  /** The finished file; call once, after `end()`. */
  received(): ReceivedFile {
    return {
      fileName: this.fileName,
      contentType: this.contentType ?? 'application/octet-stream',
      size: this.size,
      sha256: this.hash.digest('hex'),
      content: this.content,
    };
  }

  async discard(): Promise<void> {
    await this.content?.discard();
  }
}

/** Collects a short text field. */
class FieldSink implements PartSink {
  private readonly chunks: Buffer[] = [];
  private length = 0;

  constructor(
    private readonly name: string,
    private readonly onValue: (value: string) => void,
  ) {}

  write(chunk: Buffer): void {
    this.length += chunk.length;
    if (this.length > MAX_FIELD_BYTES) throw new UploadRefusal(fieldTooLong(this.name));
    this.chunks.push(chunk);
  }

  end(): void {
    this.onValue(Buffer.concat(this.chunks).toString('utf8'));
  }
}

const IGNORED_PART: PartSink = { write: () => {}, end: () => {} };

function malformedBody(error: MultipartError): ApiAnswer {
  return zohoError('INVALID_DATA', {}, `malformed multipart body: ${error.message}`);
}

function fieldTooLong(name: string): ApiAnswer {
  return zohoError('INVALID_DATA', { api_name: name }, `${name} is longer than ${MAX_FIELD_BYTES} bytes`);
}

/** Length in characters (code points, not UTF-16 units) within [min, max]. */
function lengthWithin(text: string, min: number, max: number): boolean {
  const length = [...text].length;
  return length >= min && length <= max;
}

function isWebUrl(text: string): boolean {
  try {
    const { protocol } = new URL(text);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}
