/**
 * The manifest reader: CSV/JSONL files → validated rows with line numbers, streaming;
 * and the same validation for rows given through the library API.
 */
export { readManifest, type ManifestFormat, type ReadManifestOptions } from './read-manifest.js';
export { validateRow, MANIFEST_LIMITS, type ManifestRow, type ManifestRowResult, type RowRejection } from './validate-row.js';
export { MANIFEST_FIELDS, type ManifestField } from './columns.js';
export { ManifestError, ManifestErrorCode, type ManifestErrorInit } from './manifest-error.js';
