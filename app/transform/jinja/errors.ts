/**
 * Errors raised by the Jinja engine. Template errors carry the template name and the
 * 1-based line of the construct that failed, so the dbt layer can point at file:line.
 */

export class TemplateSyntaxError extends Error {
  override readonly name = 'TemplateSyntaxError';
  constructor(
    readonly templateName: string,
    readonly line: number,
    readonly detail: string,
  ) {
    super(`${detail} (${templateName}, line ${line})`);
  }
}

export class TemplateRuntimeError extends Error {
  override readonly name = 'TemplateRuntimeError';
  constructor(
    readonly templateName: string,
    readonly line: number,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${detail} (${templateName}, line ${line})`, options);
  }
}

/**
 * A Python-level exception raised while evaluating (TypeError, ValueError, UndefinedError…).
 * The interpreter wraps it in a TemplateRuntimeError with the template name and line.
 */
export class PyError extends Error {
  constructor(
    readonly pyType: string,
    message: string,
  ) {
    super(message);
    this.name = pyType;
  }
}

export const typeError = (message: string): PyError => new PyError('TypeError', message);
export const valueError = (message: string): PyError => new PyError('ValueError', message);
export const undefinedError = (message: string): PyError => new PyError('UndefinedError', message);
