/**
 * SCIM protocol errors (RFC 7644 §3.12): an HTTP status, an optional `scimType`, and a `detail` the
 * client may see. Thrown by protocol code, rendered by the SCIM error middleware.
 */
import { SCHEMA_ERROR } from './schemas.js';

export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive'
  | 'tooLarge'
  /** RFC 9865 §2.2 */
  | 'invalidCursor'
  | 'expiredCursor';

export class ScimError extends Error {
  override name = 'ScimError';
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly scimType?: ScimType,
    /** Response header fields that belong to this error (Retry-After, Idempotency-Key on a 503). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
  }

  toBody(): Record<string, unknown> {
    return {
      schemas: [SCHEMA_ERROR],
      status: String(this.status),
      ...(this.scimType && { scimType: this.scimType }),
      detail: this.detail,
    };
  }

  static badRequest(detail: string, scimType: ScimType = 'invalidValue'): ScimError {
    return new ScimError(400, detail, scimType);
  }

  static notFound(resource: string, id: string): ScimError {
    return new ScimError(404, `${resource} ${id} not found`);
  }
}
