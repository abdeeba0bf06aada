/**
 * The error catalogue: every failure a caller can act on has a stable code and
 * the HTTP status it maps to. Control flow that crosses layers uses these, not
 * ad-hoc strings.
 */
export const ERRORS = {
  CONFIG_INVALID: { status: 500, message: 'invalid configuration' },
  VALIDATION: { status: 400, message: 'invalid request' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'unsupported content type' },
  BODY_TOO_LARGE: { status: 413, message: 'request body too large' },
  UNAUTHORIZED: { status: 401, message: 'unknown source or wrong token' },
  FORBIDDEN: { status: 403, message: 'forbidden' },
  NOT_FOUND: { status: 404, message: 'not found' },
  CONFLICT: { status: 409, message: 'conflict' },
  RATE_LIMITED: { status: 429, message: 'too many requests' },
  BACKPRESSURE: { status: 429, message: 'queue too deep' },
  BROKER_UNAVAILABLE: { status: 503, message: 'message broker unavailable' },
  PUBLISH_FAILED: { status: 503, message: 'publish not confirmed' },
  CACHE_UNAVAILABLE: { status: 503, message: 'token cache unavailable' },
  DATABASE_UNAVAILABLE: { status: 503, message: 'database unavailable' },
  DISPATCHER_STOPPED: { status: 503, message: 'dispatcher stopped' },
  DISPATCHER_UNREACHABLE: { status: 503, message: 'dispatcher unreachable' },
  LEASE_NOT_HELD: { status: 409, message: 'lease not held' },
  ADMIN_REQUIRED: { status: 401, message: 'admin token required' },
  INTERNAL: { status: 500, message: 'internal error' },
  /** A long command stopped by SIGINT/SIGTERM after cleaning up (the CLI exits 130). */
  INTERRUPTED: { status: 499, message: 'interrupted' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class IngestError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  /** Seconds a client should wait before retrying (429 / 503). */
  readonly retryAfter: number | undefined;

  constructor(
    code: ErrorCode,
    message?: string,
    opts: { details?: Record<string, unknown>; retryAfter?: number; cause?: unknown } = {},
  ) {
    super(message ?? ERRORS[code].message, opts.cause === undefined ? {} : { cause: opts.cause });
    this.name = 'IngestError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.details = opts.details;
    this.retryAfter = opts.retryAfter;
  }

  toJSON(): Record<string, unknown> {
    return { error: this.code, message: this.message, ...(this.details ?? {}) };
  }
}

export function isIngestError(err: unknown, code?: ErrorCode): err is IngestError {
  return err instanceof IngestError && (code === undefined || err.code === code);
}

/** Narrow anything thrown to a message fit for a log line or a CLI error. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
