/**
 * The name data types of XACML 3.0 Appendix A.2: x500Name (RFC 2253 distinguished names), rfc822Name (e-mail
 * addresses), ipAddress and dnsName (XACML 2.0 additions, with their optional masks and port ranges).
 *
 * Representations (immutable objects, owned by this module):
 * - x500Name: {@link X500Name}, the text as written plus the RDNs, most significant last as RFC 2253 writes them, each
 *   RDN its attribute type/value pairs in a canonical form (type lower case, value unescaped, spaces collapsed, lower
 *   case: the caseIgnoreMatch X.520 gives the common naming attributes) sorted so multi-valued RDNs compare as sets.
 * - rfc822Name: {@link Rfc822Name}, the local part as written (case-sensitive) and the domain as written; equality
 *   ignores the domain's case (XACML 3.0 §A.3.1 rfc822Name-equal).
 * - ipAddress: {@link IpAddress}, the address bytes, the optional mask bytes and port range, and the text.
 * - dnsName: {@link DnsName}, the host name (a leading "*." wildcard allowed), the optional port range and the text.
 */

export interface X500Name {
  readonly text: string;
  /** Each RDN as its sorted canonical "type=value" parts; the list in the written order (most specific first). */
  readonly rdns: readonly (readonly string[])[];
}

export interface Rfc822Name {
  readonly local: string;
  readonly domain: string;
}

export interface PortRange {
  /** Undefined: no lower bound ("-80"). */
  readonly low?: number | undefined;
  /** Undefined: no upper bound ("80-"). */
  readonly high?: number | undefined;
}

export interface IpAddress {
  readonly text: string;
  readonly version: 4 | 6;
  readonly address: readonly number[];
  readonly mask?: readonly number[] | undefined;
  readonly ports?: PortRange | undefined;
}

export interface DnsName {
  readonly text: string;
  /** Lower case. */
  readonly host: string;
  readonly ports?: PortRange | undefined;
}

const MAX_NAME_LENGTH = 4096;

function checkLength(text: string, what: string): void {
  if (text.length > MAX_NAME_LENGTH) throw new Error(`${what} longer than ${MAX_NAME_LENGTH} characters`);
}

// ---------------------------------------------------------------------------------------------------------------
// x500Name (RFC 2253 §2-§3; RFC 4514 is its successor with the same grammar)

function canonicalAttributeValue(raw: string, text: string): string {
  const value = raw.trim();
  if (value.startsWith('#')) {
    // A BER-encoded value in hex (RFC 2253 §2.4): compared as bytes.
    if (!/^#(?:[0-9a-fA-F]{2})+$/.test(value)) throw new Error(`invalid x500Name "${text}": bad hex value ${value}`);
    return value.toLowerCase();
  }
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = value[i + 1];
    if (next === undefined) throw new Error(`invalid x500Name "${text}": a trailing backslash`);
    if (/[0-9a-fA-F]/.test(next)) {
      const hex = value.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new Error(`invalid x500Name "${text}": bad escape \\${hex}`);
      // A run of hex pairs is UTF-8 (RFC 2253 §2.4).
      const bytes: number[] = [];
      while (value[i] === '\\' && /^[0-9a-fA-F]{2}$/.test(value.slice(i + 1, i + 3))) {
        bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
        i += 3;
      }
      i -= 1;
      out += new TextDecoder().decode(new Uint8Array(bytes));
    } else {
      out += next;
      i += 1;
    }
  }
  return out.replace(/\s+/g, ' ').toLowerCase();
}

/** The attribute types RFC 2253 §2.3 names, by OID, so "2.5.4.3=x" and "cn=x" are one RDN. */
const ATTRIBUTE_TYPE_NAMES: Record<string, string> = {
  '2.5.4.3': 'cn',
  '2.5.4.7': 'l',
  '2.5.4.8': 'st',
  '2.5.4.10': 'o',
  '2.5.4.11': 'ou',
  '2.5.4.6': 'c',
  '2.5.4.9': 'street',
  '0.9.2342.19200300.100.1.25': 'dc',
  '0.9.2342.19200300.100.1.1': 'uid',
};

export function parseX500Name(text: string): X500Name {
  checkLength(text, 'x500Name');
  const rdns: string[][] = [];
  let current: string[] = [];
  let part = '';
  let quoted = false;
  const flushPart = (): void => {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`invalid x500Name "${text}": "${part.trim()}" is not type=value`);
    const type = part.slice(0, eq).trim().toLowerCase();
    if (!/^(?:[a-z][a-z0-9-]*|(?:oid\.)?\d+(?:\.\d+)*)$/.test(type)) throw new Error(`invalid x500Name "${text}": bad attribute type "${type}"`);
    let rawValue = part.slice(eq + 1).trim();
    if (rawValue.startsWith('"') && rawValue.endsWith('"') && rawValue.length >= 2) rawValue = rawValue.slice(1, -1);
    const oid = type.replace(/^oid\./, '');
    current.push(`${ATTRIBUTE_TYPE_NAMES[oid] ?? oid}=${canonicalAttributeValue(rawValue, text)}`);
    part = '';
  };
  if (text.trim() === '') return { text, rdns: [] };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && !quoted) {
      part += c + (text[i + 1] ?? '');
      i += 1;
    } else if (c === '"') {
      quoted = !quoted;
      part += c;
    } else if (!quoted && c === '+') {
      flushPart();
    } else if (!quoted && (c === ',' || c === ';')) {
      flushPart();
      rdns.push(current.sort());
      current = [];
    } else {
      part += c;
    }
  }
  if (quoted) throw new Error(`invalid x500Name "${text}": an unterminated quote`);
  flushPart();
  rdns.push(current.sort());
  return { text, rdns };
}

export function x500NameKey(v: X500Name): string {
  return v.rdns.map((rdn) => rdn.join('+')).join(',');
}

/** §A.3.14 x500Name-match: `a` matches a terminal sequence of `b`'s RDNs (so "o=Medico, c=US" matches every name in it). */
export function x500NameMatches(a: X500Name, b: X500Name): boolean {
  if (a.rdns.length > b.rdns.length) return false;
  const offset = b.rdns.length - a.rdns.length;
  return a.rdns.every((rdn, i) => rdn.join('+') === b.rdns[offset + i]!.join('+'));
}

// ---------------------------------------------------------------------------------------------------------------
// rfc822Name (RFC 822 addr-spec as XACML uses it: local-part "@" domain)

const DOMAIN_RE = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function parseRfc822Name(text: string): Rfc822Name {
  checkLength(text, 'rfc822Name');
  const at = text.lastIndexOf('@');
  const local = text.slice(0, at);
  const domain = text.slice(at + 1);
  if (at <= 0 || /[\s@]/.test(local) || !/^[\x21-\x7e]+$/.test(local)) {
    throw new Error(`invalid rfc822Name "${text}" (expected local-part@domain)`);
  }
  if (!DOMAIN_RE.test(domain) && !/^\[[^\]\s]+\]$/.test(domain)) {
    throw new Error(`invalid rfc822Name "${text}": "${domain}" is not a domain name`);
  }
  return { local, domain };
}

export function rfc822NameKey(v: Rfc822Name): string {
  return `${v.local}@${v.domain.toLowerCase()}`;
}

/**
 * §A.3.14 rfc822Name-match. The pattern is a full address (local part compared with case, domain without), a domain
 * ("sun.com": addresses at that host), or a domain with a leading "." (".sun.com": addresses in any sub-domain of it,
 * not at the domain itself).
 */
export function rfc822NameMatches(pattern: string, name: Rfc822Name): boolean {
  const domain = name.domain.toLowerCase();
  if (pattern.includes('@')) {
    const at = pattern.lastIndexOf('@');
    return pattern.slice(0, at) === name.local && pattern.slice(at + 1).toLowerCase() === domain;
  }
  const p = pattern.toLowerCase();
  if (p.startsWith('.')) return domain.endsWith(p) && domain.length > p.length;
  return domain === p;
}

// ---------------------------------------------------------------------------------------------------------------
// ipAddress and dnsName (XACML 3.0 Appendix A.2: "ipv4address [ "/" mask ] [ ":" portrange ]" and
// "[ipv6reference] [ "/" "[" ipv6mask "]" ] [ ":" portrange ]"; "hostname [ ":" portrange ]", RFC 2396 §3.2.2)

function parsePort(text: string, whole: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new Error(`invalid port "${text}" in "${whole}"`);
  return Number(text);
}

/** "80", "-80", "80-", "80-90" (XACML 3.0 Appendix A.2, portrange). */
export function parsePortRange(text: string, whole: string): PortRange {
  const dash = text.indexOf('-');
  if (dash < 0) {
    const port = parsePort(text, whole);
    return { low: port, high: port };
  }
  const low = text.slice(0, dash);
  const high = text.slice(dash + 1);
  if (low === '' && high === '') throw new Error(`invalid port range "${text}" in "${whole}"`);
  const range = { low: low === '' ? undefined : parsePort(low, whole), high: high === '' ? undefined : parsePort(high, whole) };
  if (range.low !== undefined && range.high !== undefined && range.low > range.high) {
    throw new Error(`invalid port range "${text}" in "${whole}": the low port is above the high one`);
  }
  return range;
}

function parseIpv4(text: string, whole: string): number[] {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) {
    throw new Error(`invalid ipAddress "${whole}": "${text}" is not an IPv4 address`);
  }
  return parts.map(Number);
}

function parseIpv6(text: string, whole: string): number[] {
  const fail = (): never => {
    throw new Error(`invalid ipAddress "${whole}": "${text}" is not an IPv6 address`);
  };
  // An embedded IPv4 tail ("::ffff:10.0.0.1", RFC 4291 §2.2) becomes its two 16-bit groups.
  let head = text;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    const v4 = parseIpv4(text.slice(lastColon + 1), whole);
    head = `${text.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = head.split('::');
  if (halves.length > 2) fail();
  const group = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : fail())));
  const left = group(halves[0]!);
  const right = halves.length === 2 ? group(halves[1]!) : [];
  let words = left;
  if (halves.length === 2) {
    const missing = 8 - left.length - right.length;
    if (missing < 1) fail();
    words = [...left, ...new Array<number>(missing).fill(0), ...right];
  }
  if (words.length !== 8) fail();
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

export function parseIpAddress(text: string): IpAddress {
  checkLength(text, 'ipAddress');
  if (text.startsWith('[')) {
    const m = /^\[([^\]]+)\](?:\/\[([^\]]+)\])?(?::(.+))?$/.exec(text);
    if (!m) throw new Error(`invalid ipAddress "${text}" (expected [ipv6][/[mask]][:portrange])`);
    return {
      text,
      version: 6,
      address: parseIpv6(m[1]!, text),
      mask: m[2] === undefined ? undefined : parseIpv6(m[2], text),
      ports: m[3] === undefined ? undefined : parsePortRange(m[3], text),
    };
  }
  const m = /^([0-9.]+)(?:\/([0-9.]+))?(?::(.+))?$/.exec(text);
  if (!m) throw new Error(`invalid ipAddress "${text}" (expected ipv4[/mask][:portrange])`);
  return {
    text,
    version: 4,
    address: parseIpv4(m[1]!, text),
    mask: m[2] === undefined ? undefined : parseIpv4(m[2], text),
    ports: m[3] === undefined ? undefined : parsePortRange(m[3], text),
  };
}

function portKey(p: PortRange | undefined): string {
  return p === undefined ? '' : `:${p.low ?? ''}-${p.high ?? ''}`;
}

export function ipAddressKey(v: IpAddress): string {
  return `${v.version}/${v.address.join('.')}/${v.mask?.join('.') ?? ''}${portKey(v.ports)}`;
}

const HOST_RE = /^(?:\*\.)?(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$/;

export function parseDnsName(text: string): DnsName {
  checkLength(text, 'dnsName');
  const colon = text.indexOf(':');
  const host = colon < 0 ? text : text.slice(0, colon);
  if (!HOST_RE.test(host)) throw new Error(`invalid dnsName "${text}": "${host}" is not a host name`);
  return { text, host: host.toLowerCase(), ports: colon < 0 ? undefined : parsePortRange(text.slice(colon + 1), text) };
}

export function dnsNameKey(v: DnsName): string {
  return `${v.host}${portKey(v.ports)}`;
}
