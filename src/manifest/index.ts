/**
 * The manifest reader: CSV/JSONL files → validated rows with line numbers, streaming;
 * and the same validation for rows given through the library API.
 */
export { readManifest, type ManifestFormat, type ReadManifestOptions } from './read-manifest.js';
export { validateRow, type ManifestRow, type ManifestRowResult, type RowRejection } from './validate-row.js';
export { MANIFEST_LIMITS } from './limits.js';
export { ManifestError, ManifestErrorCode } from './manifest-error.js';
export { likelyMisspelledField, quoteValue, resolveColumns } from './columns.js';
export { assertBatchName, batchNameFor } from './batch-name.js';
