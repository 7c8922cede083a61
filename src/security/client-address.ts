/**
 * The address a sign-in attempt comes from, as the login guard counts it.
 *
 * - The socket's remote address, unless `TRUST_PROXY` says how many reverse proxies stand in front of the api:
 *   then the entry that many places from the right of `X-Forwarded-For` (each proxy appends the address it was
 *   reached from, so the entries further left are whatever the client wrote and cannot be believed). Without
 *   TRUST_PROXY the header is ignored: anybody could send one.
 * - IPv4-mapped IPv6 (`::ffff:192.0.2.1`, what a dual-stack socket reports) is the IPv4 address.
 * - Other IPv6 addresses count per /64 network (`2001:db8:1:2::/64`): a single host is usually given a whole /64,
 *   so counting single addresses would give one attacker 2^64 fresh budgets.
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';
import type { IncomingMessage } from 'node:http';

/** Only the last entries of X-Forwarded-For can matter (TRUST_PROXY is at most 10); the rest is not read. */
const MAX_HEADER_CHARS = 2048;

/** The IPv6 address as eight 16-bit numbers, or undefined. */
function ipv6Groups(address: string): number[] | undefined {
  if (!isIPv6(address)) return undefined;
  let text = address.toLowerCase();
  // A trailing dotted quad (`::ffff:1.2.3.4`, `64:ff9b::1.2.3.4`) is the last two groups.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = 8 - left.length - right.length;
  const groups = [...left, ...(tail !== undefined ? Array<string>(missing).fill('0') : []), ...right].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => g >= 0 && g <= 0xffff) ? groups : undefined;
}

/**
 * The counted form of an address: IPv4 as it is, IPv4-mapped IPv6 as IPv4, other IPv6 as its /64 network;
 * undefined for anything that is not an IP address.
 *
 * @example
 *   normalizeAddress('::ffff:127.0.0.2')          // '127.0.0.2'
 *   normalizeAddress('2001:db8:0:1:aaaa::1')     // '2001:db8:0:1::/64'
 */
export function normalizeAddress(raw: string): string | undefined {
  let address = raw.trim();
  if (address.endsWith('::/64')) address = address.slice(0, -3); // an already counted form
  const zone = address.indexOf('%');
  if (zone >= 0) address = address.slice(0, zone);
  if (isIPv4(address)) return address;
  const groups = ipv6Groups(address);
  if (!groups) return undefined;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/** An X-Forwarded-For entry without the port or brackets some proxies add (`203.0.113.7:4711`, `[2001:db8::1]:443`). */
function stripPort(entry: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(entry);
  if (bracketed) return bracketed[1]!;
  const v4port = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(entry);
  return v4port ? v4port[1]! : entry;
}

/**
 * The counted address of a request (see the module comment). Falls back to the socket's address when a trusted
 * proxy's entry is missing or not an address, and to `unknown` when even that is (a closed socket).
 *
 * @example
 *   const address = clientAddress(req, config.loginSecurity.trustProxyHops);
 */
export function clientAddress(req: IncomingMessage, trustProxyHops: number): string {
  const socket = normalizeAddress(req.socket.remoteAddress ?? '') ?? 'unknown';
  if (trustProxyHops <= 0) return socket;
  const header = req.headers['x-forwarded-for'];
  const text = (Array.isArray(header) ? header.join(',') : (header ?? '')).slice(-MAX_HEADER_CHARS);
  const entries = text.split(',').map((e) => e.trim()).filter((e) => e !== '');
  if (entries.length === 0) return socket;
  // With N trusted proxies the nearest one is the socket; the entry N from the right is the one the furthest
  // trusted proxy wrote: the client as that proxy saw it.
  const entry = stripPort(entries[Math.max(0, entries.length - trustProxyHops)]!);
  return isIP(entry.split('%')[0] ?? '') ? (normalizeAddress(entry) ?? socket) : socket;
}
