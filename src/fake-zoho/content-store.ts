/**
 * Uploaded bytes on disk, in a temp dir of the fake's own that `dispose()` removes, so a
 * 100 MB upload never sits in memory.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';

/** One file being written; either {@link finish} or {@link discard} it. */
export class ContentFile {
  private readonly stream: WriteStream;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path);
    // Without a listener an fs error would crash the process; write() and finish() report it.
    this.stream.on('error', () => {});
  }

  /** Writes a chunk, waiting while the disk is behind. */
  async write(chunk: Buffer): Promise<void> {
    if (this.stream.destroyed) throw this.stream.errored ?? new Error(`${this.path} is closed`);
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  /** Flushes and closes the file. */
  async finish(): Promise<void> {
    this.stream.end();
    await finished(this.stream);
  }

  /** Stops writing and deletes the file. */
  async discard(): Promise<void> {
    this.stream.destroy();
    await rm(this.path, { force: true });
  }
}

/** The fake's temp dir of uploaded bytes. */
export class ContentStore {
  private constructor(
    /** The temp dir itself. */
    readonly directory: string,
  ) {}

  /** Makes a fresh temp dir. */
  static async create(): Promise<ContentStore> {
    return new ContentStore(await mkdtemp(join(tmpdir(), 'fake-zoho-')));
  }

  /** Starts a new file. */
  createFile(): ContentFile {
    return new ContentFile(join(this.directory, randomUUID()));
  }

  /** Reads a stored file. */
  open(path: string): Readable {
    return createReadStream(path);
  }

  /** Deletes a stored file. */
  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  /** Deletes the temp dir and everything in it. */
  async dispose(): Promise<void> {
    await rm(this.directory, { recursive: true, force: true });
  }
}
