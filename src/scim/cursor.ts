/**
 * Opaque cursors for cursor-based pagination (RFC 9865). A cursor carries where the previous page ended (a
 * keyset position for the default order, else an offset) and a hash of the query it belongs to; a cursor
 * that was tampered with, is malformed, or is used with another query is refused with 400 `invalidCursor`
 * (RFC 9865 §2.2). Cursors do not expire: a keyset position stays meaningful.
 */
import { createHash } from 'node:crypto';
import { ScimError } from './errors.js';

export interface CursorPosition {
  /** How many resources earlier pages returned (the next page's startIndex - 1). */
  offset: number;
  /** The last resource of the previous page, for keyset paging in the default (created, id) order. */
  after?: { created: string; id: string } | undefined;
}

const digest = (queryKey: string) => createHash('sha256').update(queryKey).digest('base64url').slice(0, 16);

export function encodeCursor(position: CursorPosition, queryKey: string): string {
  return Buffer.from(JSON.stringify({ ...position, q: digest(queryKey) }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, queryKey: string): CursorPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const c = parsed as { offset?: unknown; after?: { created?: unknown; id?: unknown }; q?: unknown } | undefined;
  const validAfter =
    c?.after === undefined || (typeof c.after.created === 'string' && !Number.isNaN(Date.parse(c.after.created)) && typeof c.after.id === 'string');
  if (!c || typeof c.offset !== 'number' || !Number.isInteger(c.offset) || c.offset < 0 || !validAfter) {
    throw new ScimError(400, `The cursor '${cursor.slice(0, 40)}' is not one this server issued`, 'invalidCursor');
  }
  if (c.q !== digest(queryKey)) throw new ScimError(400, 'The cursor belongs to a different query (filter or sort order)', 'invalidCursor');
  return {
    offset: c.offset,
    ...(c.after && { after: { created: c.after.created as string, id: c.after.id as string } }),
  };
}
