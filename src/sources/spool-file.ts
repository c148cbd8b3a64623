/**
 * A temporary copy of a download whose size the server did not declare. The file is
 * unlinked as soon as it is created and used only through its open handle, so nothing is
 * left behind even if the process dies; closing the handle frees the space. (POSIX lets an
 * open file be unlinked; spooling is not supported on Windows.)
 */
import fs, { type FileHandle } from 'node:fs/promises';
import { Writable, type Readable } from 'node:stream';

/** A writable temporary file that can be read back from its start once written. */
export class SpoolFile extends Writable {
  readonly #path: string;
  #handle: FileHandle | undefined;
  #position = 0;
  #closing: Promise<void> | undefined;

  /** @param filePath where to create the file; it must not exist yet */
  constructor(filePath: string) {
    super();
    this.#path = filePath;
  }

  /** Bytes written so far. */
  get size(): number {
    return this.#position;
  }

  // Opening here rather than before construction means the writable exists (and can be
  // piped into, so the body's errors are heard) before the first await.
  override _construct(callback: (error?: Error | null) => void): void {
    // wx: never reuse, or follow a symlink planted at, an existing path.
    fs.open(this.#path, 'wx+', 0o600)
      .then(async (handle) => {
        this.#handle = handle;
        await fs.unlink(this.#path);
      })
      .then(() => callback(), callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#writeAll(chunk).then(() => callback(), callback);
  }

  async #writeAll(chunk: Buffer): Promise<void> {
    const handle = this.#handle as FileHandle;
    for (let offset = 0; offset < chunk.length;) {
      const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset, this.#position);
      offset += bytesWritten;
      this.#position += bytesWritten;
    }
  }

  /**
   * Reads the copy from its start. The stream closes the file when it ends or is destroyed.
   * @throws Error when the file was never opened
   */
  createReadStream(): Readable {
    if (this.#handle === undefined) throw new Error('the spool file was never opened');
    return this.#handle.createReadStream({ start: 0 });
  }

  /** Closes the file (freeing its space) and removes its path if it is still there. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.destroy();
      await this.#handle?.close();
      await fs.rm(this.#path, { force: true });
    })();
    return this.#closing;
  }
}
