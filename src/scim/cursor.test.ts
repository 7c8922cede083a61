import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyedDigest } from '../crypto/keyed-digest.js';
import { CursorCodec } from './cursor.js';

const k1 = { id: 'k1', key: crypto.randomBytes(32) };
const k2 = { id: 'k2', key: crypto.randomBytes(32) };
const after = { created: '2026-12-01T10:00:00.000Z', id: '8a2b6c1e-5f44-4c1a-9d3e-0b1c2d3e4f50' };

function codec(keys = [k1], now = () => Date.now()) {
  return new CursorCodec(new KeyedDigest(keys, 'scim-cursor'), 3600, now);
}

describe('cursors (RFC 9865), signed (issue #8: the digest in a cursor was computable)', () => {
  it('round-trips a position for the query it was issued for', () => {
    const c = codec();
    expect(c.decode(c.encode({ offset: 100, after }, 'q1'), 'q1')).toEqual({ offset: 100, after });
    expect(c.decode(c.encode({ offset: 7 }, 'q1'), 'q1')).toEqual({ offset: 7 });
  });

  it('refuses another query, a tampered body, a forged signature and garbage, as invalidCursor', () => {
    const c = codec();
    const cursor = c.encode({ offset: 100, after }, 'q1');
    expect(() => c.decode(cursor, 'q2')).toThrow(expect.objectContaining({ status: 400, scimType: 'invalidCursor' }));
    const [body, mac] = cursor.split('.') as [string, string];
    const forgedBody = Buffer.from(JSON.stringify({ o: 1e20, t: Math.floor(Date.now() / 1000) })).toString('base64url');
    for (const bad of [`${forgedBody}.${mac}`, `${body}.${'A'.repeat(mac.length)}`, 'x', `${body}`, 'a.b.c', '%%%.%%%', 'A'.repeat(600)]) {
      expect(() => c.decode(bad, 'q1'), bad.slice(0, 20)).toThrow(expect.objectContaining({ status: 400, scimType: 'invalidCursor' }));
    }
    // Signed by another server (another keyring): not this server's.
    expect(() => c.decode(codec([k2]).encode({ offset: 1 }, 'q1'), 'q1')).toThrow(expect.objectContaining({ scimType: 'invalidCursor' }));
  });

  it('accepts cursors signed before a key rotation, and expires them after cursorTimeout', () => {
    const old = codec([k1]).encode({ offset: 5 }, 'q');
    expect(codec([k2, k1]).decode(old, 'q')).toEqual({ offset: 5 });
    let now = Date.now();
    const c = codec([k1], () => now);
    const cursor = c.encode({ offset: 5 }, 'q');
    now += 3601_000;
    expect(() => c.decode(cursor, 'q')).toThrow(expect.objectContaining({ status: 400, scimType: 'expiredCursor' }));
  });
});
