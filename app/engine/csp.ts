/**
 * The Content-Security-Policy of every page the app serves, in Electron (session
 * headers) and over HTTP (response header). The renderer is a self-contained
 * bundle: no CDN, no inline script, no eval, no remote connections.
 * Inline style attributes stay blocked; React sets styles through the CSSOM, which CSP allows.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');
