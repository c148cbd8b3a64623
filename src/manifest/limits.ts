/** How large the parts of a manifest may be. Larger values cannot be legitimate and would only cost memory. */
export const MANIFEST_LIMITS = Object.freeze({
  /** Bytes (UTF-8) in one field. A larger field rejects its row. */
  maxFieldBytes: 64 * 1024,
  /**
   * Bytes in one row (a CSV record or a JSONL line). A larger JSONL line is rejected; a
   * larger CSV record stops the reader with `MANIFEST_MALFORMED`: the CSV parser cannot
   * resume inside a record.
   */
  maxRowBytes: 1024 * 1024,
  /** Columns in a CSV header. */
  maxColumns: 1000,
  /**
   * Pass-through columns (or JSONL keys) of one row. They are stored with the row and come back
   * in the report; a row with more is refused before anything of it is queued.
   */
  maxPassThroughColumns: 200,
  /** Bytes (UTF-8) of one row's pass-through values together. */
  maxPassThroughBytes: 64 * 1024,
  /** UTF-16 code units in a title (Zoho's limit; an emoji is two). */
  maxTitleLength: 255,
  /** Characters in a `link_url` (Zoho's limit). */
  maxLinkUrlLength: 3000,
});
