/** Response headers that keep the dashboard's pages from being framed, sniffed or used to run foreign code. */

/** Headers every response gets. */
const COMMON: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  // frame-ancestors in the CSP does this for current browsers; X-Frame-Options for older ones.
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/**
 * Our own pages: server-rendered, no script at all, styles from our stylesheet only, forms
 * posting only to ourselves.
 */
const DASHBOARD_CSP = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self' data:",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * bull-board's single-page app: its own scripts and XHRs, and inline styles (its HTML shell
 * and React set them). Its web-font stylesheet on fonts.googleapis.com is not allowed: the
 * dashboard makes no third-party requests (operators' addresses stay private, air-gapped hosts
 * do not wait on it). express-app.ts takes that link out of the page; the UI uses system fonts.
 */
const BULL_BOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "form-action 'self'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The security headers for a response from our pages or from bull-board. */
export function securityHeaders(surface: 'dashboard' | 'bull-board'): Record<string, string> {
  return { ...COMMON, 'content-security-policy': surface === 'dashboard' ? DASHBOARD_CSP : BULL_BOARD_CSP };
}
