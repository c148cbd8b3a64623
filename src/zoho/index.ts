/**
 * The Zoho client: the Attachments API, record lookups by a field (COQL), the Redis-shared
 * OAuth token, and the errors that tell the upload processor what to do.
 */
export { MAX_COQL_VALUES, ZohoClient } from './client.js';
export type {
  AttachmentInfo,
  AttachmentPage,
  CallOptions,
  DownloadedAttachment,
  ListAttachmentsOptions,
  UploadFileParams,
  UploadLinkParams,
  UploadResult,
  UploadSource,
  ZohoClientOptions,
} from './client.js';
export { createTokenProvider } from './create-token-provider.js';
export { ZohoError, LocalErrorCode, errorFromResponse, findErrorEnvelope, isZohoError } from './errors.js';
export type { ErrorClassification, ZohoErrorInit } from './errors.js';
export { MAX_FILE_NAME_LENGTH, sanitizeFileName } from './filename.js';
export { fileNameFromContentDisposition } from '../shared/content-disposition.js';
export { StaticTokenProvider } from './static-token-provider.js';
export { MAX_TITLE_LENGTH, sanitizeTitle } from './title.js';
export type { AccessToken, TokenProvider } from './token-provider.js';
export { SharedTokenStore, type TokenStoreKeys } from './token-store.js';
export type { SharedTokenStoreEvents, SharedTokenStoreOptions } from './token-store.js';
