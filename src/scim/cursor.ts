/**
 * Opaque cursors for cursor-based pagination (RFC 9865). A cursor carries where the previous page ended (a keyset
 * position for the default order, else an offset) and when it was issued, and is signed (HMAC-SHA256 with a key
 * derived from the server's keyring, src/crypto/keyed-digest.ts) together with the query it belongs to. So:
 * - a cursor that was forged, tampered with, malformed, or used with another query (filter or sort order) is
 *   refused with 400 `invalidCursor` (RFC 9865 §2.2), before anything in it is used;
 * - one older than `cursorTimeout` (announced in ServiceProviderConfig, src/scim/service-provider.ts) is 400
 *   `expiredCursor`;
 * - what a valid cursor holds is bounded anyway (offset a safe integer, the keyset position a real date and id).
 */
import { timingSafeEqual } from 'node:crypto';
import type { KeyedDigest } from '../crypto/keyed-digest.js';
import { ScimError } from './errors.js';

export interface CursorPosition {
  /** How many resources earlier pages returned (the next page's startIndex - 1). */
  offset: number;
  /** The last resource of the previous page, for keyset paging in the default (created, id) order. */
  after?: { created: string; id: string } | undefined;
}

interface Signed {
  o: number;
  a?: { c: string; i: string } | undefined;
  /** Issued at, epoch seconds. */
  t: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_CURSOR_LENGTH = 512;

function validDate(v: unknown): v is string {
  if (typeof v !== 'string' || v.length > 40) return false;
  const t = Date.parse(v);
  return Number.isFinite(t) && t >= 0 && t < Date.UTC(10000, 0, 1);
}

export class CursorCodec {
  constructor(
    private readonly digest: KeyedDigest,
    private readonly timeoutSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  private mac(body: string, queryKey: string): string {
    return this.digest.digest(`${body}\n${queryKey}`);
  }

  encode(position: CursorPosition, queryKey: string): string {
    const signed: Signed = {
      o: position.offset,
      ...(position.after && { a: { c: position.after.created, i: position.after.id } }),
      t: Math.floor(this.now() / 1000),
    };
    const body = Buffer.from(JSON.stringify(signed), 'utf8').toString('base64url');
    return `${body}.${this.mac(body, queryKey)}`;
  }

  decode(cursor: string, queryKey: string): CursorPosition {
    const invalid = () => new ScimError(400, 'The cursor is not one this server issued for this query (filter and sort order)', 'invalidCursor');
    if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
    const [body, mac] = cursor.split('.') as [string, string];
    // Any key of the ring may have signed it (a rotation since): try each, in constant time.
    const given = Buffer.from(mac);
    const ok = this.digest
      .candidates(`${body}\n${queryKey}`)
      .some((expected) => expected.length === mac.length && timingSafeEqual(Buffer.from(expected), given));
    if (!ok) throw invalid();
    let parsed: Signed;
    try {
      parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Signed;
    } catch {
      throw invalid();
    }
    const { o, a, t } = parsed;
    if (!Number.isSafeInteger(o) || o < 0 || !Number.isSafeInteger(t)) throw invalid();
    if (a !== undefined && !(validDate(a.c) && typeof a.i === 'string' && UUID.test(a.i))) throw invalid();
    if (this.now() / 1000 - t > this.timeoutSeconds) {
      throw new ScimError(400, `The cursor has expired: cursors are valid ${this.timeoutSeconds} s after the page that returned them`, 'expiredCursor');
    }
    return { offset: o, ...(a && { after: { created: a.c, id: a.i } }) };
  }
}
