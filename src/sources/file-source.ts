/**
 * Local files as sources. A manifest names paths, so a row must not be able to read
 * outside the configured roots (`../`, absolute paths, symlinks), wedge a worker on a FIFO
 * or a device, or upload a file that is still being written.
 *
 * What the roots protect is *paths*: every component is resolved with `realpath`, the
 * final open refuses a symlink (`O_NOFOLLOW`), and on Linux the opened descriptor's own
 * path (`/proc/self/fd/N`) is checked again, so swapping a folder for a symlink between
 * the check and the open is caught. A hard link inside a root to a file elsewhere is an
 * ordinary file as far as any path can tell; `refuseHardLinks` refuses files with more
 * than one link for deployments where untrusted users can create links inside a root.
 *
 * Most paths name a regular file: those take a shorter route ({@link openPlainFile}) that opens
 * first and judges the opened descriptor's own path, resolving the roots only when that is not
 * the path asked for; anything else is judged by the full checks, which also say why a path is
 * refused.
 */
import { createHash } from 'node:crypto';
import { constants as fsConstants, type Stats } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { SourceError, SourceErrorCode } from './errors.js';
import { isForbiddenFileName } from './file-name.js';
import { hashSource } from './hashing-stream.js';
import { SOURCE_DEFAULTS, type OpenedSource, type SourceInfo, type SourceLimits } from './types.js';

// O_NONBLOCK: opening a FIFO that lost the race to the type check returns at once instead
// of blocking a libuv thread until a writer appears. O_NOFOLLOW: the final component was
// resolved already, so a symlink there now means it was swapped in after the check.
const OPEN_FLAGS = fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOFOLLOW;

/**
 * Files up to this size are read whole when opened: one read instead of a stream's two
 * (data, then end of file) and none of a stream's machinery, which for small files costs more
 * than the bytes. A larger file's stream holds more than that per read, so memory is no different.
 */
const READ_WHOLE_BYTES = 64 * 1024;

/**
 * Bytes per read of a larger file. Node's 64 KiB default makes a 100 MB upload 1,600 trips to
 * the thread pool; 256 KiB reads moved large files ~1.5× faster for ~10 MB more memory at 10
 * uploads in flight (BENCHMARKS.md, scenario 3).
 */
const READ_CHUNK_BYTES = 256 * 1024;

interface Root {
  /** As configured (used for the lexical check of paths that do not exist). */
  given: string;
  /** Resolved with realpath; undefined when the root itself does not exist. */
  real: string | undefined;
}

interface CheckedFile {
  handle: FileHandle;
  fileName: string;
  size: number;
}

/**
 * Opens a local file for upload after checking it lies under a root, is a regular file,
 * is not too large and has an accepted name.
 * @param filePath absolute path; the upload is named after its base name (a symlink's own name)
 * @throws SourceError `SOURCE_OUTSIDE_ROOTS`, `SOURCE_NOT_FOUND`, `SOURCE_NOT_A_FILE`,
 *   `SOURCE_TOO_LARGE`, `SOURCE_FORBIDDEN_TYPE`, `SOURCE_UNREADABLE`, `SOURCE_CHANGED`,
 *   `SOURCE_HARD_LINKED`
 */
export async function openFileSource(filePath: string, limits: SourceLimits): Promise<OpenedSource> {
  const { handle, fileName, size } = await openCheckedFile(filePath, limits);
  if (size <= READ_WHOLE_BYTES) return readWholeFile(handle, filePath, fileName, size);
  // The stream closes the handle when it ends, fails or is destroyed (autoClose).
  const stream = hashSource(handle.createReadStream({ start: 0, highWaterMark: READ_CHUNK_BYTES }), {
    // Reading past the size fstat reported means the file grew; ending short, that it shrank.
    expectedBytes: size,
    lengthError: (problem) =>
      new SourceError(
        SourceErrorCode.CHANGED,
        `${filePath} changed while being read: ${size} bytes when opened, ${problem.kind === 'longer' ? 'more' : `only ${problem.bytes}`} when read`,
      ),
    sourceError: (error) =>
      new SourceError(SourceErrorCode.UNREADABLE, `reading ${filePath} failed: ${error.message}`, {
        cause: error,
        // A read that fails midway (EIO on a network share) may work next time.
        classification: 'transient',
      }),
  });
  let closing: Promise<void> | undefined;
  return {
    fileName,
    size,
    stream,
    sha256: () => stream.digest(),
    close: () => {
      closing ??= (async () => {
        stream.destroy();
        await handle.close();
      })();
      return closing;
    },
  };
}

/**
 * A small file read at once. Asking for one byte more than fstat reported tells a file that
 * grew since (that byte arrives) from one that shrank (fewer bytes arrive): a regular file's
 * read comes back short only at its end. The descriptor is closed as soon as the bytes are in
 * memory: the close then happens while a worker still waits on the ledger (the file is opened
 * beside its `startAttempt`), not between Zoho's answer and the next upload.
 */
async function readWholeFile(
  handle: FileHandle,
  filePath: string,
  fileName: string,
  size: number,
): Promise<OpenedSource> {
  let content: Buffer;
  try {
    const buffer = Buffer.allocUnsafe(size + 1);
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(buffer, 0, size + 1, 0));
    } catch (error) {
      throw new SourceError(SourceErrorCode.UNREADABLE, `reading ${filePath} failed: ${(error as Error).message}`, {
        cause: error,
        classification: 'transient',
      });
    }
    if (bytesRead !== size) {
      throw new SourceError(
        SourceErrorCode.CHANGED,
        `${filePath} changed while being read: ${size} bytes when opened, ${bytesRead > size ? 'more' : `only ${bytesRead}`} when read`,
      );
    }
    content = buffer.subarray(0, size);
  } finally {
    await handle.close();
  }
  const stream = Readable.from([content], { objectMode: false });
  let digest: string | undefined;
  stream.once('end', () => {
    digest = createHash('sha256').update(content).digest('hex');
  });
  return {
    fileName,
    size,
    stream,
    sha256: () => {
      // As for a streamed file: the hash describes what the consumer was given, so only once it was given all of it.
      if (digest === undefined)
        throw new Error('sha256() is known only once the stream has been read to its end without error');
      return digest;
    },
    close: () => {
      stream.destroy();
      return Promise.resolve();
    },
  };
}

/**
 * Runs every check {@link openFileSource} runs, including opening the file (so an
 * unreadable file is reported), without reading it.
 */
export async function inspectFileSource(filePath: string, limits: SourceLimits): Promise<SourceInfo> {
  const { handle, fileName, size } = await openCheckedFile(filePath, limits);
  await handle.close();
  return { fileName, size };
}

async function openCheckedFile(filePath: string, limits: SourceLimits): Promise<CheckedFile> {
  const maxBytes = limits.maxBytes ?? SOURCE_DEFAULTS.maxBytes;
  if (!path.isAbsolute(filePath)) {
    throw new SourceError(SourceErrorCode.OUTSIDE_ROOTS, `${filePath} is not an absolute path`);
  }
  if (filePath.includes('\0'))
    throw new SourceError(SourceErrorCode.NOT_FOUND, `${JSON.stringify(filePath)} contains a NUL byte`);
  const plain = await openPlainFile(filePath, limits, maxBytes);
  if (plain !== undefined) return plain;

  // Resolved side by side (the checks below still run in order): each is a trip to libuv's thread pool.
  const resolving = fs.realpath(filePath).then(
    (resolved) => ({ resolved }),
    (error: unknown) => ({ error }),
  );
  const roots = await resolveRoots(limits.fileRoots);

  let realPath: string;
  try {
    const resolution = await resolving;
    if ('error' in resolution) throw resolution.error;
    realPath = resolution.resolved;
  } catch (error) {
    // A path outside the roots is reported as such whether or not it exists, so error
    // codes do not reveal which files exist elsewhere on the machine.
    const resolved = path.resolve(filePath);
    if (
      !roots.some(
        (root) => isWithin(resolved, root.given) || (root.real !== undefined && isWithin(resolved, root.real)),
      )
    ) {
      throw outsideRoots(filePath, limits.fileRoots);
    }
    // A link that leads nowhere (or round in a loop): whether its target exists is not ours to say.
    if ((error as NodeJS.ErrnoException).code === 'ELOOP' || (await isSymbolicLink(filePath)))
      throw symlinkRefused(filePath);
    throw fileSystemError(error, filePath);
  }
  if (!roots.some((root) => root.real !== undefined && isWithin(realPath, root.real))) {
    // Through a link: neither where it leads nor whether that exists is said.
    throw realPath === path.resolve(filePath) ? outsideRoots(filePath, limits.fileRoots) : symlinkRefused(filePath);
  }

  if (!limits.allowDotfiles) throwIfRefused(hiddenPathRefusal(filePath, realPath, roots));
  const fileName = path.basename(filePath);
  if (isForbiddenFileName(fileName)) {
    throw new SourceError(SourceErrorCode.FORBIDDEN_TYPE, `${filePath}: Zoho refuses .exe attachments`);
  }

  // Judge the type before opening: opening a device can have side effects (a tape rewinds).
  let before: Stats;
  try {
    before = await fs.lstat(realPath);
  } catch (error) {
    throw fileSystemError(error, filePath);
  }
  throwIfRefused(statsRefusal(before, filePath, maxBytes, limits.refuseHardLinks ?? false));

  let handle: FileHandle;
  try {
    handle = await fs.open(realPath, OPEN_FLAGS);
  } catch (error) {
    throw fileSystemError(error, filePath);
  }
  try {
    // The opened descriptor is the truth: the path may name another file by now. Both looks
    // at it are made side by side, and judged in order.
    const [stats, openedPath] = await Promise.all([handle.stat(), openedPathOf(handle)]);
    throwIfRefused(statsRefusal(stats, filePath, maxBytes, limits.refuseHardLinks ?? false));
    checkOpenedWithinRoots(openedPath, roots, filePath);
    return { handle, fileName, size: stats.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * Linux only: elsewhere there is no /proc/self/fd to prove what was opened.
 */
const PLAIN_FILE_ROUTE = process.platform === 'linux';

/**
 * The usual case in fewer trips to libuv's thread pool (no realpath of the file): a path in
 * normal form, lexically under a root as configured, with no dot segment, to a regular file of
 * an accepted name and size. lstat first, as on the full route, so that nothing but a regular
 * file is opened. What makes it safe is the descriptor's own path, judged as the full checks
 * judge it after their open: when it is the path asked for, no component (the root included)
 * was a symlink, and the roots need no resolving; otherwise (a root that is a link, switched by
 * a release) it must lie under the roots resolved now, with no hidden segment below them.
 * @returns undefined for anything else (a missing or refused file, a link as the last
 *   component, no /proc): the full checks then judge it and explain a refusal
 */
async function openPlainFile(
  filePath: string,
  limits: SourceLimits,
  maxBytes: number,
): Promise<CheckedFile | undefined> {
  if (!PLAIN_FILE_ROUTE || !limits.fileRoots.every((root) => path.isAbsolute(root))) return undefined;
  // Only a path already in normal form: `..` after a symlinked folder means something else to the kernel.
  const resolved = path.resolve(filePath);
  if (resolved !== filePath) return undefined;
  if (!limits.fileRoots.some((given) => isWithin(resolved, path.resolve(given)))) return undefined;
  const fileName = path.basename(filePath);
  if (isForbiddenFileName(fileName)) return undefined;
  // No dot anywhere on the path: whichever roots contain it (nested roots, a root inside a
  // dot-directory), the full checks would find no hidden segment below any of them either.
  if (!limits.allowDotfiles && hasHiddenSegment(resolved)) return undefined;
  const acceptable = (stats: Stats) =>
    statsRefusal(stats, filePath, maxBytes, limits.refuseHardLinks ?? false) === undefined;

  const before = await fs.lstat(resolved).catch(() => undefined);
  if (before === undefined || !acceptable(before)) return undefined;
  const handle = await fs.open(resolved, OPEN_FLAGS).catch(() => undefined);
  if (handle === undefined) return undefined;
  // Through a link on the way: the opened file, against the roots as they resolve now.
  const underResolvedRoots = async (openedPath: string) => {
    const roots = await resolveRoots(limits.fileRoots);
    return (
      roots.some((root) => root.real !== undefined && isWithin(openedPath, root.real)) &&
      (limits.allowDotfiles === true || hiddenPathRefusal(filePath, openedPath, roots) === undefined)
    );
  };
  try {
    const [stats, openedPath] = await Promise.all([handle.stat(), openedPathOf(handle)]);
    if (
      openedPath !== undefined &&
      acceptable(stats) &&
      (openedPath === resolved || (await underResolvedRoots(openedPath)))
    )
      return { handle, fileName, size: stats.size };
  } catch {
    // Judged again below, by the full checks.
  }
  await handle.close();
  return undefined;
}

async function resolveRoots(fileRoots: readonly string[]): Promise<Root[]> {
  return Promise.all(
    fileRoots.map(async (given) => {
      if (!path.isAbsolute(given)) throw new TypeError(`fileRoots must be absolute; got "${given}"`);
      const real = await fs.realpath(given).catch(() => undefined);
      return { given: path.resolve(given), real };
    }),
  );
}

/** True when `candidate` is `folder` or lies below it (no `..`, no sibling with a shared prefix). */
function isWithin(candidate: string, folder: string): boolean {
  const relative = path.relative(folder, candidate);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}

/** Why a file's stats refuse it (not a regular file, too large, hard-linked), or undefined. */
function statsRefusal(
  stats: Stats,
  filePath: string,
  maxBytes: number,
  refuseHardLinks: boolean,
): SourceError | undefined {
  if (!stats.isFile()) {
    return new SourceError(SourceErrorCode.NOT_A_FILE, `${filePath} is ${describeType(stats)}, not a regular file`);
  }
  if (stats.size > maxBytes) {
    return new SourceError(SourceErrorCode.TOO_LARGE, `${filePath} is ${stats.size} bytes; the limit is ${maxBytes}`);
  }
  if (refuseHardLinks && stats.nlink > 1) {
    return new SourceError(
      SourceErrorCode.HARD_LINKED,
      `${filePath} has ${stats.nlink} hard links; refused because a hard link can reach a file outside the roots`,
    );
  }
  return undefined;
}

function throwIfRefused(refusal: SourceError | undefined): void {
  if (refusal !== undefined) throw refusal;
}

function describeType(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/**
 * Linux names the file behind a descriptor in /proc/self/fd: checking that path closes the
 * window between realpath and open in which a folder on the path could be swapped for a
 * symlink. Where /proc is missing the checks before the open have to do.
 */
function checkOpenedWithinRoots(openedPath: string | undefined, roots: Root[], filePath: string): void {
  if (openedPath === undefined) return;
  if (!roots.some((root) => root.real !== undefined && isWithin(openedPath, root.real))) {
    // A folder on the path became a link between the check and the open.
    throw symlinkRefused(filePath);
  }
}

/** The path of the file behind an open descriptor, from /proc/self/fd (undefined where there is no /proc). */
function openedPathOf(handle: FileHandle): Promise<string | undefined> {
  return fs.readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined);
}

function outsideRoots(filePath: string, fileRoots: readonly string[]): SourceError {
  return new SourceError(
    SourceErrorCode.OUTSIDE_ROOTS,
    `${filePath} is not under a file root (${fileRoots.join(', ') || 'none configured'})`,
  );
}

/**
 * Dotfiles and dot-directories below a root (`.env`, `.git/config`, `.ssh/id_rsa`) hold
 * configuration and secrets, not documents: refused, whether named so or reached through a link.
 */
function hiddenPathRefusal(filePath: string, realPath: string, roots: Root[]): SourceError | undefined {
  const below = (candidate: string) =>
    roots
      .flatMap((root) => [root.given, root.real])
      .filter((root): root is string => root !== undefined && isWithin(candidate, root));
  for (const candidate of [path.resolve(filePath), realPath]) {
    for (const root of below(candidate)) {
      if (hasHiddenSegment(path.relative(root, candidate))) {
        return new SourceError(
          SourceErrorCode.FORBIDDEN_TYPE,
          `${filePath}: refused: a dotfile or a file in a dot-directory (set ZOHO_ATTACH_ALLOW_DOTFILES=true to allow them)`,
        );
      }
    }
  }
  return undefined;
}

/** True when a path has a segment starting with a dot (`.env`, `.git/config`). */
function hasHiddenSegment(relative: string): boolean {
  return relative.split(path.sep).some((segment) => segment.startsWith('.'));
}

/** A symbolic link that leads out of the roots, or nowhere: refused, saying nothing of its target. */
function symlinkRefused(filePath: string): SourceError {
  return new SourceError(SourceErrorCode.OUTSIDE_ROOTS, `${filePath}: refused: a symbolic link`);
}

async function isSymbolicLink(filePath: string): Promise<boolean> {
  try {
    return (await fs.lstat(filePath)).isSymbolicLink();
  } catch {
    return false;
  }
}

function fileSystemError(error: unknown, filePath: string): SourceError {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
    case 'ENAMETOOLONG':
      return new SourceError(SourceErrorCode.NOT_FOUND, `${filePath} does not exist`, { cause: error });
    case 'ELOOP':
      // realpath already resolved every symlink, so one here was swapped in since: look again.
      return new SourceError(SourceErrorCode.CHANGED, `${filePath} became a symbolic link while being opened`, {
        cause: error,
      });
    case 'EACCES':
    case 'EPERM':
      return new SourceError(SourceErrorCode.UNREADABLE, `${filePath} is not readable (${code})`, { cause: error });
    default:
      // EIO, EMFILE, EBUSY and the like are conditions of the moment, not of the row.
      return new SourceError(SourceErrorCode.UNREADABLE, `${filePath} could not be opened (${code ?? String(error)})`, {
        cause: error,
        classification: 'transient',
      });
  }
}
