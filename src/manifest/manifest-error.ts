/**
 * The one error the manifest reader throws: the whole manifest cannot be used (or can be
 * used no further). A bad row is never an error; it is yielded as a rejection.
 */
import { ClassifiedError } from '../shared/errors.js';

/** Why a manifest cannot be read. Callers branch on these, never on message text. */
export const ManifestErrorCode = {
  /** The file cannot be opened or read: missing, a directory, no permission, an I/O error. */
  UNREADABLE: 'MANIFEST_UNREADABLE',
  /**
   * The CSV header cannot be used: no header at all, a required column missing, neither a
   * `file` nor a `link_url` column, two columns with the same name, a column without a name.
   */
  BAD_HEADER: 'MANIFEST_BAD_HEADER',
  /** The file starts with a UTF-16 byte order mark; manifests are UTF-8. */
  UNSUPPORTED_ENCODING: 'MANIFEST_UNSUPPORTED_ENCODING',
  /**
   * The CSV breaks down so that the reader cannot tell where the next row starts: a quoted
   * field never closed, or a row over the size limit. Every row before it was yielded.
   */
  MALFORMED: 'MANIFEST_MALFORMED',
} as const;

/** One of {@link ManifestErrorCode}. */
export type ManifestErrorCode = (typeof ManifestErrorCode)[keyof typeof ManifestErrorCode];

/** What a {@link ManifestError} is made from. */
export interface ManifestErrorInit {
  code: ManifestErrorCode;
  /** The manifest, as given to the reader. */
  filePath: string;
  /** The physical line (1-based) the problem is on, when it is on one. */
  line?: number;
  /** What is wrong, without the path and line (they are prefixed). */
  message: string;
  cause?: unknown;
}

/**
 * A manifest that cannot be read, or read any further. The message is
 * `[CODE] path line N: what is wrong`. Classified `permanent`: reading it again fails again.
 */
export class ManifestError extends ClassifiedError {
  override readonly name = 'ManifestError';
  declare readonly code: ManifestErrorCode;
  readonly filePath: string;
  readonly line: number | undefined;

  constructor(init: ManifestErrorInit) {
    const where = init.line === undefined ? init.filePath : `${init.filePath} line ${init.line}`;
    super({ code: init.code, classification: 'permanent', message: `${where}: ${init.message}`, cause: init.cause });
    this.filePath = init.filePath;
    this.line = init.line;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), filePath: this.filePath, line: this.line };
  }
}
