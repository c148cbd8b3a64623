/**
 * A hand-built multipart/form-data body: text fields and at most one file part, streamed
 * chunk by chunk (never buffered whole) with an exact Content-Length known up front.
 */
import type { Readable } from 'node:stream';
import { pooledRandomBytes } from '../shared/random-pool.js';
import { bodySizeMismatch } from './errors.js';
import { fileNameParameters, sanitizeFileName } from './filename.js';

/** A text field (`attachmentUrl`, `title`). */
export interface MultipartField {
  /** Field name: a fixed ASCII token chosen by this code, never user input. */
  name: string;
  value: string;
}

/** The one file part. */
export interface MultipartFile {
  /** Field name: a fixed ASCII token chosen by this code, never user input. */
  name: string;
  /** The file's name; cleaned with {@link sanitizeFileName} here. */
  fileName: string;
  /** Exact size in bytes; the stream must yield exactly this many. */
  size: number;
  stream: Readable;
  /** @defaultValue `'application/octet-stream'` (Zoho works the type out from the name) */
  contentType?: string;
}

const CRLF = '\r\n';

/**
 * One multipart body, to be sent once. `contentLength` is exact: part headers + file size +
 * trailer. {@link MultipartBody.chunks} checks the file's bytes against its size as they flow
 * and throws before the trailer when they differ, so a file that changed mid-upload makes the
 * request fail instead of delivering a corrupt attachment.
 */
export class MultipartBody {
  readonly boundary: string;
  readonly contentType: string;
  readonly contentLength: number;
  private readonly head: Buffer;
  private readonly tail: Buffer;
  private readonly file: MultipartFile | undefined;
  private consumed = false;
  private firstChunkHandedOver = false;

  /** True once the first byte of the body was handed over to be sent: from then on, Zoho may receive it all. */
  get started(): boolean {
    return this.firstChunkHandedOver;
  }

  /**
   * @param parts the text fields, in order, then the file (if any)
   * @param boundary @defaultValue 24 random bytes in hex; tests may pin it
   */
  constructor(parts: { fields?: MultipartField[]; file?: MultipartFile }, boundary?: string) {
    const fields = parts.fields ?? [];
    this.boundary = boundary ?? pickBoundary(fields);
    this.file = parts.file;
    this.contentType = `multipart/form-data; boundary=${this.boundary}`;

    let head = '';
    for (const field of fields) {
      head += `--${this.boundary}${CRLF}Content-Disposition: form-data; name="${field.name}"${CRLF}`;
      head += `Content-Type: text/plain; charset=utf-8${CRLF}${CRLF}${field.value}${CRLF}`;
    }
    if (this.file) {
      const fileName = sanitizeFileName(this.file.fileName);
      head += `--${this.boundary}${CRLF}Content-Disposition: form-data; name="${this.file.name}"; ${fileNameParameters(fileName)}${CRLF}`;
      head += `Content-Type: ${this.file.contentType ?? 'application/octet-stream'}${CRLF}${CRLF}`;
    }
    this.head = Buffer.from(head, 'utf8');
    // The file's bytes end with CRLF before the closing delimiter; without a file the last field already did.
    this.tail = Buffer.from(`${this.file ? CRLF : ''}--${this.boundary}--${CRLF}`, 'utf8');
    this.contentLength = this.head.length + (this.file?.size ?? 0) + this.tail.length;
  }

  /**
   * The body's bytes, pulled as the socket drains (undici awaits each chunk), so at most a
   * few chunks of the file are in memory at once.
   * @throws {ZohoError} BODY_SIZE_MISMATCH when the stream yields more or fewer bytes than `size`
   */
  async *chunks(): AsyncGenerator<Buffer> {
    // A consumed stream cannot be replayed; a retry must build a new body from a new stream.
    if (this.consumed) throw new Error('a MultipartBody can be sent only once');
    this.consumed = true;
    this.firstChunkHandedOver = true;
    yield this.head;
    if (this.file) {
      const { size, stream } = this.file;
      let read = 0;
      for await (const chunk of stream) {
        const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
        read += buffer.length;
        // Checked before the chunk is handed on: not one byte past `size` is sent.
        if (read > size) throw bodySizeMismatch(size, read, false);
        yield buffer;
      }
      if (read !== size) throw bodySizeMismatch(size, read, true);
    }
    yield this.tail;
  }
}

/**
 * A random boundary. With 192 random bits a field value containing it is practically
 * impossible, but field values are user input, so it is checked anyway.
 */
function pickBoundary(fields: MultipartField[]): string {
  for (;;) {
    const boundary = `----zoho-attach-${pooledRandomBytes(24).toString('hex')}`;
    if (!fields.some((f) => f.value.includes(boundary))) return boundary;
  }
}
