/**
 * The `Idempotency-Key` header field (IETF httpapi draft "The Idempotency-Key HTTP Header Field", §2): an Item
 * Structured Field (RFC 8941 §3.3) whose value MUST be a String, e.g. `Idempotency-Key: "8e03978e-40d5-43e8"`.
 * Parameters are allowed by the Item syntax and ignored; a client MUST NOT send the field more than once.
 */

/** The longest key accepted (printable ASCII characters): every input a client can send has a bound. */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

export class IdempotencyKeyError extends Error {
  override name = 'IdempotencyKeyError';
  readonly code = 'invalid_idempotency_key';
}

/** An sf-string at `s[i]` (RFC 8941 §4.2.5): its value and the index after its closing quote, or undefined. */
function parseString(s: string, i: number): { value: string; end: number } | undefined {
  if (s[i] !== '"') return undefined;
  let value = '';
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 0x5c) {
      const next = s[j + 1];
      if (next !== '"' && next !== '\\') return undefined;
      value += next;
      j++;
    } else if (c === 0x22) {
      return { value, end: j + 1 };
    } else if (c < 0x20 || c > 0x7e) {
      return undefined;
    } else {
      value += s[j];
    }
  }
  return undefined;
}

/** Parameters after the Item's bare item (RFC 8941 §3.1.2): `;key` or `;key=bare-item`, values not needed here. */
const BARE_ITEM = /^(?:-?\d{1,15}(?:\.\d{1,3})?|[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*|:[A-Za-z0-9+/=]*:|\?[01])/;
function parametersEnd(s: string, i: number): number | undefined {
  let at = i;
  while (s[at] === ';') {
    at++;
    while (s[at] === ' ') at++;
    const key = /^[a-z*][a-z0-9_\-.*]*/.exec(s.slice(at));
    if (!key) return undefined;
    at += key[0].length;
    if (s[at] === '=') {
      at++;
      const str = parseString(s, at);
      if (str) {
        at = str.end;
      } else {
        const bare = BARE_ITEM.exec(s.slice(at));
        if (!bare) return undefined;
        at += bare[0].length;
      }
    }
  }
  return at;
}

/**
 * The key of an `Idempotency-Key` request header, undefined when there is none; throws IdempotencyKeyError (a 400)
 * when it is not one sf-string (unquoted, sent twice, empty, non-ASCII) or is longer than
 * {@link IDEMPOTENCY_KEY_MAX_LENGTH}.
 *
 * @example parseIdempotencyKey('"8e03978e-40d5-43e8-bc93-6894a57f9324"') // '8e03978e-40d5-43e8-bc93-6894a57f9324'
 */
export function parseIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const usage = 'send one key as a Structured Field String, e.g. Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"';
  if (Array.isArray(header)) {
    if (header.length !== 1) throw new IdempotencyKeyError(`Idempotency-Key must be sent once: ${usage}`);
    header = header[0]!;
  }
  const s = header.replace(/^ +| +$/g, '');
  const parsed = parseString(s, 0);
  const end = parsed && parametersEnd(s, parsed.end);
  if (!parsed || end !== s.length) throw new IdempotencyKeyError(`Idempotency-Key is malformed: ${usage}`);
  if (parsed.value.length === 0) throw new IdempotencyKeyError(`Idempotency-Key is empty: ${usage}`);
  if (parsed.value.length > IDEMPOTENCY_KEY_MAX_LENGTH) {
    throw new IdempotencyKeyError(`Idempotency-Key is longer than ${IDEMPOTENCY_KEY_MAX_LENGTH} characters`);
  }
  return parsed.value;
}

/** A key as an `Idempotency-Key` field value (an sf-string, RFC 8941 §4.1.6), for response headers. */
export function formatIdempotencyKey(key: string): string {
  return `"${key.replace(/[\\"]/g, '\\$&')}"`;
}
