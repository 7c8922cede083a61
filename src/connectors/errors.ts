/**
 * The connectors' shared error taxonomy. Each connector translates its vendor's errors into these in
 * exactly one place (its transport); the delivery activity turns them into ApplicationFailures whose
 * `type` is the class name, and only ConnectorTransient is retried.
 */
export abstract class ConnectorError extends Error {
  abstract readonly retryable: boolean;
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Network errors, timeouts, 5xx, 408, 429: worth retrying; `retryAfterMs` from Retry-After when given. */
export class ConnectorTransient extends ConnectorError {
  override name = 'ConnectorTransient';
  readonly retryable = true;
  constructor(message: string, status?: number, readonly retryAfterMs?: number) {
    super(message, status);
  }
}

/** The target has no such object (404 on update/delete). Connectors' `write` repairs by re-creating. */
export class ConnectorNotFound extends ConnectorError {
  override name = 'ConnectorNotFound';
  readonly retryable = false;
}

/** The object already exists at the target (409 on create). Resolved by looking it up and linking. */
export class ConnectorAlreadyExists extends ConnectorError {
  override name = 'ConnectorAlreadyExists';
  readonly retryable = false;
}

/** The target refused the change (400, 403, 422...): retrying the same request cannot succeed. */
export class ConnectorRejected extends ConnectorError {
  override name = 'ConnectorRejected';
  readonly retryable = false;
}

/** The connector's own configuration is unusable (401 with our credentials, bad endpoint URL). */
export class ConnectorMisconfigured extends ConnectorError {
  override name = 'ConnectorMisconfigured';
  readonly retryable = false;
}

/** Parses Retry-After (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
