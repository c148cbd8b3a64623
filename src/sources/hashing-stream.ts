/**
 * The stream every opened source hands out: bytes pass through unchanged while their
 * SHA-256 and count are computed, so the hash costs no second read and a source that
 * delivers more or fewer bytes than it announced fails instead of uploading a torn file.
 */
import { createHash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';

/** Why the byte count is wrong. */
export type LengthProblem =
  /** More bytes arrived than `expectedBytes`. */
  | { kind: 'longer'; bytes: number; expected: number }
  /** The data ended before `expectedBytes`. */
  | { kind: 'shorter'; bytes: number; expected: number }
  /** More bytes arrived than `maxBytes`. */
  | { kind: 'over-limit'; bytes: number; limit: number };

/** Options of {@link HashingStream}. */
export interface HashingStreamOptions {
  /**
   * The exact number of bytes the data must have; more or fewer fails the stream.
   * @defaultValue no check
   */
  expectedBytes?: number;
  /**
   * The most bytes allowed; the stream fails as soon as one more arrives.
   * @defaultValue no limit
   */
  maxBytes?: number;
  /** Builds the error the stream fails with when the byte count is wrong. */
  lengthError: (problem: LengthProblem) => Error;
}

/** A pass-through that hashes (SHA-256) and counts the bytes flowing through it. */
export class HashingStream extends Transform {
  readonly #hash = createHash('sha256');
  readonly #options: HashingStreamOptions;
  #bytes = 0;
  #digest: string | undefined;

  constructor(options: HashingStreamOptions) {
    super();
    this.#options = options;
  }

  /** Bytes that have passed through so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * The hex SHA-256 of everything that passed through.
   * @throws Error when the stream has not ended (successfully) yet
   */
  digest(): string {
    if (this.#digest === undefined) {
      throw new Error('sha256() is known only once the stream has been read to its end without error');
    }
    return this.#digest;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#bytes += chunk.length;
    const { expectedBytes, maxBytes, lengthError } = this.#options;
    if (expectedBytes !== undefined && this.#bytes > expectedBytes) {
      callback(lengthError({ kind: 'longer', bytes: this.#bytes, expected: expectedBytes }));
      return;
    }
    if (maxBytes !== undefined && this.#bytes > maxBytes) {
      callback(lengthError({ kind: 'over-limit', bytes: this.#bytes, limit: maxBytes }));
      return;
    }
    this.#hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const { expectedBytes, lengthError } = this.#options;
    if (expectedBytes !== undefined && this.#bytes < expectedBytes) {
      callback(lengthError({ kind: 'shorter', bytes: this.#bytes, expected: expectedBytes }));
      return;
    }
    this.#digest = this.#hash.digest('hex');
    callback();
  }
}

/** Options of {@link hashSource}. */
export interface HashSourceOptions extends HashingStreamOptions {
  /** Turns an error of the source stream into the error the hashing stream fails with. */
  sourceError: (error: Error, bytesSoFar: number) => Error;
}

/**
 * Pipes `source` into a new {@link HashingStream} and ties their lifetimes together: a
 * failing source fails the hashing stream with a translated error, and destroying the
 * hashing stream (the consumer gave up, or `close()`) destroys the source, which releases
 * its file handle or HTTP connection.
 */
export function hashSource(source: Readable, options: HashSourceOptions): HashingStream {
  const hashing = new HashingStream(options);
  source.on('error', (error) => hashing.destroy(options.sourceError(error, hashing.bytes)));
  hashing.on('close', () => source.destroy());
  source.pipe(hashing);
  return hashing;
}
