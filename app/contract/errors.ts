/**
 * The closed set of error codes that may cross the API boundary. Every engine
 * failure is translated to one of these at the port that caught it, so the UI
 * and scripts can act on `code` without parsing messages.
 */
export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'CONFIG_INVALID',
  'NOT_CONFIGURED',
  'COUCH_UNREACHABLE',
  'COUCH_TIMEOUT',
  'COUCH_TLS',
  'COUCH_PROTOCOL',
  'COUCH_AUTH',
  'COUCH_FORBIDDEN',
  'COUCH_DB_MISSING',
  'COUCH_SERVER',
  'PG_UNREACHABLE',
  'PG_AUTH',
  'PG_PERMISSION',
  'PG_QUERY',
  'PG_EMBEDDED',
  'DOC_REJECTED',
  'PROJECT_LOAD',
  'PROJECT_PACKAGE',
  'TEMPLATE_SYNTAX',
  'TEMPLATE_RUNTIME',
  'MODEL_COMPILE',
  'MODEL_RUN',
  'GRAPH_CYCLE',
  'SELECTION_EMPTY',
  'BUSY',
  'CANCELLED',
  'NOT_FOUND',
  'STORE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The wire shape of an error: what the renderer, HTTP clients and `--json` output see. */
export interface WireError {
  code: ErrorCode;
  /** Plain-language, secret-free; names the document, model or setting at fault and the fix. */
  message: string;
  retryable: boolean;
  details?: Record<string, unknown>;
}
