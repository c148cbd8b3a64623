/** Reading the short bodies of form posts and control calls, with a cap. */
import type { Readable } from 'node:stream';

/** The body was longer than the cap. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
}

/**
 * Collects `body` into one Buffer, refusing beyond `maxBytes`. Like the multipart parser it
 * leaves the stream alive when it stops early, so an answer can still go out.
 */
export async function readSmallBody(body: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > maxBytes) throw new BodyTooLargeError(`the body is longer than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
