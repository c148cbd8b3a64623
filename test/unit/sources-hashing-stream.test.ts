/** The hashing pass-through: digests, byte counts, length checks and lifetimes. */
import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { HashingStream, hashSource, type LengthProblem } from '../../src/sources/hashing-stream.js';

const lengthError = (problem: LengthProblem): Error => Object.assign(new Error(problem.kind), { problem });

async function drain(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function failureOf(promise: Promise<unknown>): Promise<Error & { problem?: LengthProblem }> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: Error) => error,
  );
}

describe('HashingStream', () => {
  const parts = [Buffer.from('hello, '), Buffer.from('world'), Buffer.alloc(100_000, 9)];
  const whole = Buffer.concat(parts);

  it('passes bytes through unchanged and knows their SHA-256 and count once ended', async () => {
    const hashing = new HashingStream({ lengthError });
    expect(() => hashing.digest()).toThrow(/once the stream has been read to its end/);
    const out = drain(hashing);
    await pipeline(Readable.from(parts), hashing);
    expect((await out).equals(whole)).toBe(true);
    expect(hashing.digest()).toBe(createHash('sha256').update(whole).digest('hex'));
    expect(hashing.bytes).toBe(whole.length);
  });

  it('hashes an empty stream', async () => {
    const hashing = new HashingStream({ expectedBytes: 0, lengthError });
    await pipeline(Readable.from([]), hashing, new PassThrough().resume());
    expect(hashing.digest()).toBe(createHash('sha256').digest('hex'));
  });

  it('accepts exactly expectedBytes', async () => {
    const hashing = new HashingStream({ expectedBytes: whole.length, lengthError });
    await pipeline(Readable.from(parts), hashing, new PassThrough().resume());
    expect(hashing.bytes).toBe(whole.length);
  });

  it('fails as soon as more than expectedBytes arrive', async () => {
    const hashing = new HashingStream({ expectedBytes: 10, lengthError });
    const error = await failureOf(pipeline(Readable.from(parts), hashing, new PassThrough().resume()));
    expect(error.problem).toEqual({ kind: 'longer', bytes: 12, expected: 10 });
    expect(() => hashing.digest()).toThrow();
  });

  it('fails when the data ends short of expectedBytes', async () => {
    const hashing = new HashingStream({ expectedBytes: whole.length + 1, lengthError });
    const error = await failureOf(pipeline(Readable.from(parts), hashing, new PassThrough().resume()));
    expect(error.problem).toEqual({ kind: 'shorter', bytes: whole.length, expected: whole.length + 1 });
    expect(() => hashing.digest()).toThrow();
  });

  it('fails past maxBytes without passing the excess on', async () => {
    const hashing = new HashingStream({ maxBytes: 12, lengthError });
    const received: Buffer[] = [];
    const sink = new PassThrough();
    sink.on('data', (chunk: Buffer) => received.push(chunk));
    const error = await failureOf(pipeline(Readable.from(parts), hashing, sink));
    expect(error.problem).toEqual({ kind: 'over-limit', bytes: 100_012, limit: 12 });
    expect(Buffer.concat(received).toString()).toBe('hello, world');
  });
});

describe('hashSource', () => {
  it('fails with the translated error of a failing source, knowing how far it got', async () => {
    const source = new PassThrough();
    const hashing = hashSource(source, {
      lengthError,
      sourceError: (error, bytes) => new Error(`translated: ${error.message} after ${bytes}`),
    });
    const result = failureOf(drain(hashing));
    source.write(Buffer.alloc(5));
    await new Promise((resolve) => setImmediate(resolve));
    source.destroy(new Error('EIO'));
    expect((await result).message).toBe('translated: EIO after 5');
  });

  it('destroys the source when the consumer destroys the hashing stream', async () => {
    const source = new PassThrough();
    const hashing = hashSource(source, { lengthError, sourceError: (error) => error });
    hashing.destroy();
    await new Promise((resolve) => source.once('close', resolve));
    expect(source.destroyed).toBe(true);
  });
});
