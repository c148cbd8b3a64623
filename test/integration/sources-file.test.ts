/**
 * Local file sources against a real file system: roots, symlinks, special files, size
 * limits and files that change while being read.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectSource, openSource, SourceError, type SourceLimits } from '../../src/sources/index.js';
import { openDescriptorsUnder } from '../helpers/open-descriptors.js';

/** The unprivileged user (and group) Debian calls nobody. */
const NOBODY = 65534;

let base: string;
let root: string;
let outside: string;
let limits: SourceLimits;
const hello = Buffer.from('hello, zoho\n');

beforeAll(async () => {
  // realpath: os.tmpdir() may itself sit behind a symlink (macOS /tmp).
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'za-sources-file-')));
  root = path.join(base, 'root');
  outside = path.join(base, 'outside');
  await fs.mkdir(path.join(root, 'sub'), { recursive: true });
  await fs.mkdir(path.join(base, 'root-sibling'));
  await fs.mkdir(outside);
  await fs.writeFile(path.join(root, 'hello.txt'), hello);
  await fs.writeFile(path.join(outside, 'secret.txt'), 'secret');
  await fs.writeFile(path.join(base, 'root-sibling', 'x.txt'), 'sibling');
  await fs.writeFile(path.join(root, 'setup.EXE'), 'MZ');
  await fs.symlink(path.join(outside, 'secret.txt'), path.join(root, 'link-out.txt'));
  await fs.symlink(path.join(root, 'hello.txt'), path.join(root, 'link-in.pdf'));
  await fs.symlink(outside, path.join(root, 'dir-out'));
  await fs.symlink(path.join(root, 'loop-b'), path.join(root, 'loop-a'));
  await fs.symlink(path.join(root, 'loop-a'), path.join(root, 'loop-b'));
  await fs.link(path.join(outside, 'secret.txt'), path.join(root, 'hard-link.txt'));
  execFileSync('mkfifo', [path.join(root, 'pipe')]);
  limits = { fileRoots: [root], allowPrivateUrls: false };
});

afterAll(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function expectSourceError(
  promise: Promise<unknown>,
  code: string,
  classification = 'permanent',
): Promise<SourceError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SourceError);
  const sourceError = error as SourceError;
  expect(sourceError.code).toBe(code);
  expect(sourceError.classification).toBe(classification);
  expect(sourceError.message.startsWith(`[${code}] `)).toBe(true);
  return sourceError;
}

describe('file sources: reading', () => {
  it('streams the file with its name, size and SHA-256', async () => {
    const source = await openSource({ kind: 'file', path: path.join(root, 'hello.txt') }, limits);
    expect(source.fileName).toBe('hello.txt');
    expect(source.size).toBe(hello.length);
    expect(() => source.sha256()).toThrow(/once the stream has been read/);
    expect(await readAll(source.stream)).toEqual(hello);
    expect(source.sha256()).toBe(createHash('sha256').update(hello).digest('hex'));
    await source.close();
    await source.close();
  });

  it('hashes a file of many chunks correctly', async () => {
    const content = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < content.length; i++) content[i] = (i * 31) & 0xff;
    const filePath = path.join(root, 'many-chunks.bin');
    await fs.writeFile(filePath, content);
    const source = await openSource({ kind: 'file', path: filePath }, limits);
    const read = await readAll(source.stream);
    expect(read.length).toBe(content.length);
    expect(source.sha256()).toBe(createHash('sha256').update(content).digest('hex'));
    await source.close();
  });

  it("releases a streamed file's handle on close() even when nothing was read", async () => {
    // Over the 64 KiB read whole: read as a stream, which holds the descriptor until its end or close().
    const large = path.join(root, 'large.bin');
    await fs.writeFile(large, Buffer.alloc(100 * 1024, 7));
    try {
      const source = await openSource({ kind: 'file', path: large }, limits);
      expect(openDescriptorsUnder(root)).toHaveLength(1);
      await source.close();
      expect(openDescriptorsUnder(root)).toHaveLength(0);
      expect(() => source.sha256()).toThrow();
    } finally {
      await fs.rm(large);
    }
  });

  it("gives a small file's descriptor back as soon as its bytes are read, before the upload", async () => {
    const source = await openSource({ kind: 'file', path: path.join(root, 'hello.txt') }, limits);
    expect(openDescriptorsUnder(root)).toHaveLength(0);
    expect(await readAll(source.stream)).toEqual(hello);
    await source.close();
    expect(() => source.sha256()).not.toThrow();
  });

  it('uploads a symlink that stays inside the roots under the link name', async () => {
    const source = await openSource({ kind: 'file', path: path.join(root, 'link-in.pdf') }, limits);
    expect(source.fileName).toBe('link-in.pdf');
    expect(await readAll(source.stream)).toEqual(hello);
    await source.close();
  });

  it('accepts a root given through a symlink', async () => {
    const linkedRoot = path.join(base, 'root-alias');
    await fs.symlink(root, linkedRoot);
    const source = await openSource(
      { kind: 'file', path: path.join(linkedRoot, 'hello.txt') },
      { fileRoots: [linkedRoot], allowPrivateUrls: false },
    );
    expect(source.size).toBe(hello.length);
    await source.close();
  });

  it('inspects without leaving the file open', async () => {
    const info = await inspectSource({ kind: 'file', path: path.join(root, 'hello.txt') }, limits);
    expect(info).toEqual({ fileName: 'hello.txt', size: hello.length });
    expect(openDescriptorsUnder(root)).toHaveLength(0);
  });
});

describe('file sources: roots that move', () => {
  /** A root given as a link (`<base>/<name>`) to a folder holding one file, and a way to point it elsewhere. */
  async function movableRoot(name: string) {
    const alias = path.join(base, name);
    const folder = async (label: string) => {
      const dir = path.join(base, `${name}-${label}`);
      await fs.mkdir(dir);
      await fs.writeFile(path.join(dir, 'doc.txt'), label);
      return dir;
    };
    const first = await folder('first');
    await fs.symlink(first, alias);
    const pointTo = async (dir: string) => {
      // rename() replaces the link in one step, as a deployment switching releases would.
      await fs.symlink(dir, `${alias}.new`);
      await fs.rename(`${alias}.new`, alias);
    };
    return { alias, first, folder, pointTo, limits: { fileRoots: [alias], allowPrivateUrls: false } };
  }

  it('follows a root that now leads to another folder at once, and stops accepting the folder it left', async () => {
    const moving = await movableRoot('moved');
    const oldFile = path.join(moving.first, 'doc.txt');
    await (await openSource({ kind: 'file', path: oldFile }, moving.limits)).close();
    await moving.pointTo(await moving.folder('second'));

    const source = await openSource({ kind: 'file', path: path.join(moving.alias, 'doc.txt') }, moving.limits);
    expect(await readAll(source.stream)).toEqual(Buffer.from('second'));
    await source.close();
    await expect(openSource({ kind: 'file', path: oldFile }, moving.limits)).rejects.toMatchObject({
      code: 'SOURCE_OUTSIDE_ROOTS',
    });
  });
});

describe('file sources: roots', () => {
  it('refuses ../ that climbs out of a root', async () => {
    await expectSourceError(
      openSource({ kind: 'file', path: `${root}/../outside/secret.txt` }, limits),
      'SOURCE_OUTSIDE_ROOTS',
    );
    await expectSourceError(
      openSource({ kind: 'file', path: `${root}/sub/../../outside/secret.txt` }, limits),
      'SOURCE_OUTSIDE_ROOTS',
    );
  });

  it('refuses an absolute path outside the roots, whether or not it exists', async () => {
    await expectSourceError(openSource({ kind: 'file', path: '/etc/passwd' }, limits), 'SOURCE_OUTSIDE_ROOTS');
    await expectSourceError(openSource({ kind: 'file', path: '/no/such/file.txt' }, limits), 'SOURCE_OUTSIDE_ROOTS');
  });

  it('refuses a sibling folder that merely shares the root name as a prefix', async () => {
    await expectSourceError(
      openSource({ kind: 'file', path: path.join(base, 'root-sibling', 'x.txt') }, limits),
      'SOURCE_OUTSIDE_ROOTS',
    );
  });

  it('refuses a symlink inside a root that points outside, saying only "refused: a symbolic link"', async () => {
    const error = await expectSourceError(
      openSource({ kind: 'file', path: path.join(root, 'link-out.txt') }, limits),
      'SOURCE_OUTSIDE_ROOTS',
    );
    expect(error.message).toBe(`[SOURCE_OUTSIDE_ROOTS] ${path.join(root, 'link-out.txt')}: refused: a symbolic link`);
    expect(error.message).not.toContain(outside);
    await expectSourceError(
      openSource({ kind: 'file', path: path.join(root, 'dir-out', 'secret.txt') }, limits),
      'SOURCE_OUTSIDE_ROOTS',
    );
  });

  it('says the same of a link to a target that exists and of one whose target does not', async () => {
    await fs.symlink(path.join(outside, 'no-such-file.txt'), path.join(root, 'link-dangling.txt'));
    try {
      const existing = await expectSourceError(
        openSource({ kind: 'file', path: path.join(root, 'link-out.txt') }, limits),
        'SOURCE_OUTSIDE_ROOTS',
      );
      const dangling = await expectSourceError(
        openSource({ kind: 'file', path: path.join(root, 'link-dangling.txt') }, limits),
        'SOURCE_OUTSIDE_ROOTS',
      );
      expect(existing.message.replace('link-out.txt', 'X')).toBe(dangling.message.replace('link-dangling.txt', 'X'));
      expect(dangling.message).not.toMatch(/no-such-file|does not exist|outside/);
    } finally {
      await fs.rm(path.join(root, 'link-dangling.txt'));
    }
  });

  it('refuses a relative path', async () => {
    await expectSourceError(openSource({ kind: 'file', path: 'root/hello.txt' }, limits), 'SOURCE_OUTSIDE_ROOTS');
  });

  it('refuses everything when no root is configured', async () => {
    await expectSourceError(
      openSource({ kind: 'file', path: path.join(root, 'hello.txt') }, { fileRoots: [], allowPrivateUrls: false }),
      'SOURCE_OUTSIDE_ROOTS',
    );
  });

  it('reads `..` after a linked folder as the kernel does, not as text: the folder the link leads to is left', async () => {
    // <root>/up-link/../secret.txt is <outside>/secret.txt to the kernel; as text it would be <root>/secret.txt.
    await fs.mkdir(path.join(outside, 'inner'));
    await fs.symlink(path.join(outside, 'inner'), path.join(root, 'up-link'));
    await fs.writeFile(path.join(root, 'secret.txt'), 'inside');
    try {
      const error = await expectSourceError(
        openSource({ kind: 'file', path: `${path.join(root, 'up-link')}/../secret.txt` }, limits),
        'SOURCE_OUTSIDE_ROOTS',
      );
      expect(error.message).not.toContain(outside);
    } finally {
      await fs.rm(path.join(root, 'up-link'));
      await fs.rm(path.join(root, 'secret.txt'));
      await fs.rm(path.join(outside, 'inner'), { recursive: true });
    }
  });

  it('accepts a file through a folder link that stays inside the roots, and leaves nothing open after a refusal', async () => {
    await fs.symlink(path.join(root, 'sub'), path.join(root, 'sub-alias'));
    await fs.writeFile(path.join(root, 'sub', 'inner.txt'), hello);
    try {
      const source = await openSource({ kind: 'file', path: path.join(root, 'sub-alias', 'inner.txt') }, limits);
      expect(source.fileName).toBe('inner.txt');
      expect(await readAll(source.stream)).toEqual(hello);
      await source.close();
      // A regular file through a folder link that leads out: refused, and the look at it leaves no descriptor.
      await expectSourceError(
        openSource({ kind: 'file', path: path.join(root, 'dir-out', 'secret.txt') }, limits),
        'SOURCE_OUTSIDE_ROOTS',
      );
      expect(openDescriptorsUnder(base)).toEqual([]);
    } finally {
      await fs.rm(path.join(root, 'sub-alias'));
      await fs.rm(path.join(root, 'sub', 'inner.txt'));
    }
  });

  it('refuses a file in a dot-directory below any of its roots, even when a nested root below that directory holds it', async () => {
    const outer = path.join(base, 'nested');
    const inner = path.join(outer, '.inner', 'docs');
    await fs.mkdir(inner, { recursive: true });
    await fs.writeFile(path.join(inner, 'f.txt'), hello);
    const nested = { fileRoots: [inner, outer], allowPrivateUrls: false };
    await expectSourceError(
      openSource({ kind: 'file', path: path.join(inner, 'f.txt') }, nested),
      'SOURCE_FORBIDDEN_TYPE',
    );
    // Under the inner root alone the file is an ordinary one.
    const alone = await openSource(
      { kind: 'file', path: path.join(inner, 'f.txt') },
      { ...nested, fileRoots: [inner] },
    );
    expect(await readAll(alone.stream)).toEqual(hello);
    await alone.close();
  });

  it('refuses a file in a dot-directory reached through a folder link, and accepts it when dotfiles are allowed', async () => {
    const hidden = path.join(root, '.private', 'docs');
    await fs.mkdir(hidden, { recursive: true });
    await fs.writeFile(path.join(hidden, 'f.txt'), hello);
    await fs.symlink(hidden, path.join(root, 'docs-link'));
    try {
      const viaLink = path.join(root, 'docs-link', 'f.txt');
      await expectSourceError(openSource({ kind: 'file', path: viaLink }, limits), 'SOURCE_FORBIDDEN_TYPE');
      expect(openDescriptorsUnder(base)).toEqual([]);
      const allowed = await openSource({ kind: 'file', path: viaLink }, { ...limits, allowDotfiles: true });
      expect(await readAll(allowed.stream)).toEqual(hello);
      await allowed.close();
    } finally {
      await fs.rm(path.join(root, 'docs-link'));
      await fs.rm(path.join(root, '.private'), { recursive: true });
    }
  });

  it('accepts a hard link to a file elsewhere unless refuseHardLinks is set', async () => {
    const filePath = path.join(root, 'hard-link.txt');
    const source = await openSource({ kind: 'file', path: filePath }, limits);
    expect(source.size).toBe('secret'.length);
    await source.close();
    await expectSourceError(
      openSource({ kind: 'file', path: filePath }, { ...limits, refuseHardLinks: true }),
      'SOURCE_HARD_LINKED',
    );
    const single = await openSource(
      { kind: 'file', path: path.join(root, 'hello.txt') },
      { ...limits, refuseHardLinks: true },
    );
    await single.close();
  });
});

describe('file sources: what is not a readable regular file', () => {
  it('refuses a FIFO without hanging', async () => {
    const started = Date.now();
    await expectSourceError(openSource({ kind: 'file', path: path.join(root, 'pipe') }, limits), 'SOURCE_NOT_A_FILE');
    await expectSourceError(
      inspectSource({ kind: 'file', path: path.join(root, 'pipe') }, limits),
      'SOURCE_NOT_A_FILE',
    );
    expect(Date.now() - started).toBeLessThan(2_000);
  }, 5_000);

  it('refuses a device', async () => {
    const error = await expectSourceError(
      openSource({ kind: 'file', path: '/dev/null' }, { fileRoots: [root, '/dev'], allowPrivateUrls: false }),
      'SOURCE_NOT_A_FILE',
    );
    expect(error.message).toContain('a device');
  });

  it('refuses a directory', async () => {
    await expectSourceError(openSource({ kind: 'file', path: path.join(root, 'sub') }, limits), 'SOURCE_NOT_A_FILE');
    await expectSourceError(openSource({ kind: 'file', path: root }, limits), 'SOURCE_NOT_A_FILE');
  });

  it('reports a missing file as not found; a symlink loop is a refused link', async () => {
    await expectSourceError(
      openSource({ kind: 'file', path: path.join(root, 'missing.pdf') }, limits),
      'SOURCE_NOT_FOUND',
    );
    await expectSourceError(
      openSource({ kind: 'file', path: path.join(root, 'hello.txt', 'x') }, limits),
      'SOURCE_NOT_FOUND',
    );
    await expectSourceError(
      openSource({ kind: 'file', path: path.join(root, 'loop-a') }, limits),
      'SOURCE_OUTSIDE_ROOTS',
    );
  });

  it('refuses .exe in any letter case', async () => {
    await expectSourceError(
      openSource({ kind: 'file', path: path.join(root, 'setup.EXE') }, limits),
      'SOURCE_FORBIDDEN_TYPE',
    );
  });

  it('reports a file without read permission as unreadable (as root: from a child that drops to nobody)', async () => {
    const filePath = path.join(root, 'locked.txt');
    await fs.writeFile(filePath, 'locked', { mode: 0o000 });
    if (process.getuid?.() !== 0) {
      await expectSourceError(openSource({ kind: 'file', path: filePath }, limits), 'SOURCE_UNREADABLE');
      return;
    }
    // Root reads any file whatever its mode: the same open, by an unprivileged user.
    const opensAs = (file: string) =>
      JSON.parse(
        execFileSync(
          process.execPath,
          ['--import', 'tsx', 'test/helpers/open-file-as-user.ts', String(NOBODY), String(NOBODY), file, root],
          { encoding: 'utf8' },
        ),
      ) as { opened?: true; code?: string };
    await fs.chmod(base, 0o755);
    await fs.chmod(root, 0o755);
    // The control: nobody may open a readable file here, so the refusal below is the mode's doing.
    await fs.writeFile(path.join(root, 'open.txt'), 'open', { mode: 0o644 });
    expect(opensAs(path.join(root, 'open.txt'))).toEqual({ opened: true });
    expect(opensAs(filePath)).toEqual({ code: 'SOURCE_UNREADABLE' });
  });
});

describe('file sources: size', () => {
  it('refuses a file over maxBytes without reading it', async () => {
    const filePath = path.join(root, 'sparse-small.bin');
    await fs.writeFile(filePath, '');
    await fs.truncate(filePath, 1025);
    await expectSourceError(
      openSource({ kind: 'file', path: filePath }, { ...limits, maxBytes: 1024 }),
      'SOURCE_TOO_LARGE',
    );
    const atLimit = await inspectSource({ kind: 'file', path: filePath }, { ...limits, maxBytes: 1025 });
    expect(atLimit.size).toBe(1025);
  });

  it('applies the 100 MB default', async () => {
    const filePath = path.join(root, 'sparse-default.bin');
    await fs.writeFile(filePath, '');
    await fs.truncate(filePath, 104_857_600);
    expect((await inspectSource({ kind: 'file', path: filePath }, limits)).size).toBe(104_857_600);
    await fs.truncate(filePath, 104_857_601);
    await expectSourceError(inspectSource({ kind: 'file', path: filePath }, limits), 'SOURCE_TOO_LARGE');
  });
});

describe('file sources: files that change while being read', () => {
  const fourMegabytes = Buffer.alloc(4 * 1024 * 1024, 7);

  /** Reads the file, changing it after the first chunk; resolves to what the read failed with. */
  async function readWhile(filePath: string, change: () => void): Promise<Error | undefined> {
    const source = await openSource({ kind: 'file', path: filePath }, limits);
    let changed = false;
    try {
      for await (const chunk of source.stream) {
        void chunk;
        if (!changed) {
          changed = true;
          change();
        }
      }
      return undefined;
    } catch (error) {
      return error instanceof Error ? error : new Error('the read failed with something that is not an Error');
    } finally {
      await source.close();
    }
  }

  it('fails with SOURCE_CHANGED (transient) when the file grows', async () => {
    const filePath = path.join(root, 'growing.bin');
    await fs.writeFile(filePath, fourMegabytes);
    const error = await readWhile(filePath, () => fsSync.appendFileSync(filePath, Buffer.alloc(1024 * 1024, 1)));
    await expectSourceError(Promise.reject(error ?? new Error('the read did not fail')), 'SOURCE_CHANGED', 'transient');
  });

  it('fails with SOURCE_CHANGED (transient) when the file shrinks', async () => {
    const filePath = path.join(root, 'shrinking.bin');
    await fs.writeFile(filePath, fourMegabytes);
    const error = await readWhile(filePath, () => fsSync.truncateSync(filePath, 1024 * 1024));
    await expectSourceError(Promise.reject(error ?? new Error('the read did not fail')), 'SOURCE_CHANGED', 'transient');
  });
});
