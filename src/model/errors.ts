/** Every failure Elrond reports on purpose has one of these codes. */
export const ERROR_CODES = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  Conflict: 409,
  PayloadTooLarge: 413,
  Unavailable: 503,
  Internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * The one error type of Elrond. The code maps once to an HTTP status, a chat reply and a CLI exit code;
 * the message says what is wrong and how to fix it.
 *
 * @example throw new ElrondError('NotFound', `ring ${id} not found: list rings with "elrond ring list"`)
 */
export class ElrondError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'ElrondError';
    this.code = code;
  }
  get status(): number {
    return ERROR_CODES[this.code];
  }
}

export function isElrondError(error: unknown): error is ElrondError {
  return error instanceof ElrondError;
}

export const badRequest = (message: string) => new ElrondError('BadRequest', message);
export const notFound = (message: string) => new ElrondError('NotFound', message);
export const conflict = (message: string) => new ElrondError('Conflict', message);
export const forbidden = (message: string) => new ElrondError('Forbidden', message);
