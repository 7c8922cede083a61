import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddress, normalizeAddress } from './client-address.js';

const request = (remoteAddress: string | undefined, forwardedFor?: string) =>
  ({ socket: { remoteAddress }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } }) as unknown as IncomingMessage;

describe('normalizeAddress', () => {
  it('keeps IPv4 and turns IPv4-mapped IPv6 into IPv4', () => {
    expect(normalizeAddress('127.0.0.2')).toBe('127.0.0.2');
    expect(normalizeAddress('::ffff:127.0.0.2')).toBe('127.0.0.2');
    expect(normalizeAddress('::FFFF:7f00:2')).toBe('127.0.0.2');
  });

  it('counts IPv6 per /64 network, however the address is written', () => {
    expect(normalizeAddress('2001:db8:0:1:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:0:1::/64');
    expect(normalizeAddress('2001:0DB8:0000:0001::1')).toBe('2001:db8:0:1::/64');
    expect(normalizeAddress('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(normalizeAddress('::1')).toBe('0:0:0:0::/64');
    expect(normalizeAddress('2001:db8:0:1::/64')).toBe('2001:db8:0:1::/64');
  });

  it('refuses what is not an address', () => {
    for (const bad of ['', 'localhost', '1.2.3', '1.2.3.4.5', 'unknown', '2001:db8::1::2']) expect(normalizeAddress(bad)).toBeUndefined();
  });
});

describe('clientAddress', () => {
  it('is the socket address, X-Forwarded-For ignored, without TRUST_PROXY', () => {
    expect(clientAddress(request('::ffff:10.0.0.5', '203.0.113.9'), 0)).toBe('10.0.0.5');
  });

  it('believes as many X-Forwarded-For entries from the right as there are trusted proxies', () => {
    // The client wrote "1.1.1.1" itself; the one proxy appended the address it saw.
    expect(clientAddress(request('10.0.0.5', '1.1.1.1, 203.0.113.9'), 1)).toBe('203.0.113.9');
    expect(clientAddress(request('10.0.0.5', '1.1.1.1, 203.0.113.9, 10.0.0.4'), 2)).toBe('203.0.113.9');
    expect(clientAddress(request('10.0.0.5', '203.0.113.9:4711'), 1)).toBe('203.0.113.9');
    expect(clientAddress(request('10.0.0.5', '[2001:db8::7]:443'), 1)).toBe('2001:db8:0:0::/64');
  });

  it('falls back to the socket when the trusted entry is missing or not an address', () => {
    expect(clientAddress(request('10.0.0.5'), 1)).toBe('10.0.0.5');
    expect(clientAddress(request('10.0.0.5', 'not-an-ip'), 1)).toBe('10.0.0.5');
    expect(clientAddress(request(undefined), 0)).toBe('unknown');
  });
});
