/**
 * Safe XML parsing for policies and requests: a real XML parser (@xmldom/xmldom, never evaluation as code) with
 * line and column on every element, and bounds on what a client can send.
 *
 * - No DTD at all: a DOCTYPE or ENTITY declaration is refused before parsing (XXE, "billion laughs"); XACML's schema
 *   has no use for one.
 * - The document's size, its element nesting depth and its count of elements are bounded.
 * - A document that is not well-formed XML 1.0 with namespaces is an error at the position of the fault: a lexical
 *   pass (checkWellFormed) runs first, because xmldom repairs much of what it reads (a bare `&`, `&#0;`), and every
 *   warning or error xmldom still reports is fatal as well.
 */
import { DOMParser, type Document, type Element, type Node } from '@xmldom/xmldom';
import { createRequire } from 'node:module';

export const XACML_NS = 'urn:oasis:names:tc:xacml:3.0:core:schema:wd-17';

export interface XmlLimits {
  /** Bytes of UTF-8 text. */
  maxBytes: number;
  maxDepth: number;
  maxElements: number;
}

export const POLICY_LIMITS: XmlLimits = { maxBytes: 1024 * 1024, maxDepth: 64, maxElements: 50_000 };
export const REQUEST_LIMITS: XmlLimits = { maxBytes: 256 * 1024, maxDepth: 64, maxElements: 10_000 };

export class XmlError extends Error {
  readonly line: number | undefined;
  readonly column: number | undefined;
  constructor(message: string, line?: number, column?: number) {
    super(line === undefined ? message : `line ${line}, column ${column ?? 0}: ${message}`);
    this.name = 'XmlError';
    this.line = line;
    this.column = column;
  }
}

/** Position of `offset` in `text` (1-based line and column). */
function positionOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, column: offset - last };
}

/** Parses `text` into a DOM document within `limits`; throws XmlError. */
export function parseXml(text: string, limits: XmlLimits, what: string): Document {
  if (typeof text !== 'string') throw new XmlError(`${what} must be a string`);
  // Cheap bound first (a UTF-16 unit is at most 3 UTF-8 bytes), exact one only when near the limit.
  if (text.length * 3 > limits.maxBytes && Buffer.byteLength(text, 'utf8') > limits.maxBytes) {
    throw new XmlError(`${what} is larger than ${limits.maxBytes} bytes`);
  }
  // XML 1.0 §2.11: a parser passes every line break on as \n; positions below are in the normalized text (the same
  // line numbers as the original). A byte order mark is an encoding signature, not content (Appendix F.1).
  let s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (s.includes('\r')) s = s.replace(/\r\n?/g, '\n');
  const dtd = /<!(DOCTYPE|ENTITY)/i.exec(s);
  if (dtd) {
    const { line, column } = positionOf(s, dtd.index);
    throw new XmlError(`${what} must not contain a <!${dtd[1]!.toUpperCase()}> declaration (DTDs are refused)`, line, column);
  }
  checkWellFormed(s);
  let firstError: XmlError | undefined;
  const parser = new DOMParser({
    locator: true,
    onError: (level, msg, context: { locator?: { lineNumber?: number; columnNumber?: number } }) => {
      const loc = context?.locator;
      // Warnings and errors too (xmldom reports what it repairs at those levels): an ill-formed document must not be
      // half-read. checkWellFormed refuses what this build of xmldom is known to repair; this is the backstop.
      firstError ??= new XmlError(`malformed XML (${level}): ${String(msg).split('\n')[0]}`, loc?.lineNumber, loc?.columnNumber);
      throw firstError;
    },
  });
  let doc: Document;
  try {
    doc = parser.parseFromString(s, 'text/xml');
  } catch (err) {
    if (firstError) throw firstError;
    throw new XmlError(`malformed XML: ${(err as Error).message.split('\n')[0]}`);
  }
  const root = doc.documentElement;
  if (!root) throw new XmlError(`${what} has no root element`);
  checkShape(root, limits, what);
  return doc;
}
// ---- Well-formedness (XML 1.0 §2, Namespaces in XML 1.0 §3-§6), checked before xmldom builds the DOM ----
//
// xmldom is lenient by design: it keeps a bare `&` as text, turns `&#0;` into a NUL, accepts `]]>` in text and
// reports a mismatched end tag at the start tag it left open. A policy that is not well-formed XML must be refused,
// with the position of the fault, so this single pass over the text checks the lexical rules first. It never builds
// anything; the DOM still comes from xmldom (whose own warnings and errors stay fatal too).

/** XML 1.0 §2.2 Char, negated: the first character a document must not contain (lone surrogates included). */
const NOT_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
/** XML 1.0 §2.3 NameStartChar and NameChar. */
const NAME_START = 'A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NAME_REST = `${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F\\u2040`;
// eslint-disable-next-line no-misleading-character-class -- §2.3 lists joiners (U+200C/D) and combining marks on purpose
const NAME = new RegExp(`[:${NAME_START}][:${NAME_REST}]*`, 'uy');
/** XML 1.0 §4.1 Reference: an entity or a character reference (sticky, tried at each `&`). */
// eslint-disable-next-line no-misleading-character-class -- §2.3 lists joiners (U+200C/D) and combining marks on purpose
const REFERENCE = new RegExp(`&(?:#([0-9]+)|#x([0-9a-fA-F]+)|([:${NAME_START}][:${NAME_REST}]*));`, 'uy');
/** XML 1.0 §4.6: the only entities a document without a DTD may reference. */
const PREDEFINED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

function isXmlChar(cp: number): boolean {
  return cp === 9 || cp === 10 || cp === 13 || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

/** Throws XmlError at the first well-formedness fault of `s` (line endings already normalized to \n). */
export function checkWellFormed(s: string): void {
  function fail(offset: number, message: string): never {
    const { line, column } = positionOf(s, offset);
    throw new XmlError(`not well-formed XML: ${message}`, line, column);
  }
  const at = (offset: number): string => {
    const cp = s.codePointAt(offset);
    return cp === undefined ? 'the end of the document' : JSON.stringify(String.fromCodePoint(cp));
  };
  const nameAt = (offset: number): string | undefined => {
    NAME.lastIndex = offset;
    return NAME.exec(s)?.[0];
  };
  const skipSpace = (offset: number): number => {
    while (offset < s.length && isSpace(s.charCodeAt(offset))) offset++;
    return offset;
  };
  /** §4.1 and §4.6: every `&` in text and attribute values starts a reference to a legal character or a predefined entity. */
  const checkReferences = (from: number, to: number): void => {
    // Searches stay inside [from, to) (a slice): a search to the end of the document at every text node would make
    // this pass quadratic in the document's size.
    const segment = s.slice(from, to);
    for (let a = segment.indexOf('&'); a >= 0; a = segment.indexOf('&', a + 1)) {
      const amp = from + a;
      REFERENCE.lastIndex = amp;
      const m = REFERENCE.exec(s);
      if (!m || amp + m[0].length > to) fail(amp, "'&' that does not start a reference (write a literal & as &amp;)");
      if (m[3] !== undefined) {
        if (!Object.hasOwn(PREDEFINED_ENTITIES, m[3])) fail(amp, `undefined entity ${m[0]} (only &lt; &gt; &amp; &apos; &quot; exist without a DTD)`);
      } else {
        const digits = m[1] ?? m[2]!;
        const cp = digits.length > 8 ? -1 : parseInt(digits, m[1] !== undefined ? 10 : 16);
        if (!isXmlChar(cp)) fail(amp, `the character reference ${m[0]} is not a legal XML character`);
      }
    }
  };
  /** The value of a namespace declaration, its references resolved (a namespace name is compared as a string). */
  const attributeValue = (from: number, to: number): string =>
    s.slice(from, to).replace(/&(?:#([0-9]+)|#x([0-9a-fA-F]+)|(\w+));/g, (_, d: string | undefined, x: string | undefined, e: string | undefined) =>
      e !== undefined ? PREDEFINED_ENTITIES[e]! : String.fromCodePoint(parseInt((d ?? x)!, d !== undefined ? 10 : 16)),
    );
  /** Namespaces in XML §3: at most one colon, neither first nor last. */
  const checkQName = (name: string, offset: number): void => {
    const colon = name.indexOf(':');
    if (colon === 0 || colon === name.length - 1 || (colon > 0 && name.indexOf(':', colon + 1) >= 0)) fail(offset, `"${name}" is not a qualified name (prefix:local)`);
  };

  const bad = NOT_CHAR.exec(s);
  if (bad) fail(bad.index, `the character U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`);

  interface Open {
    name: string;
    offset: number;
    namespaces: Map<string, string>;
  }
  const open: Open[] = [];
  const rootNamespaces = new Map([['xml', XML_NS]]);
  let rootSeen = false;
  let i = 0;
  while (i < s.length) {
    const lt = s.indexOf('<', i);
    const textEnd = lt < 0 ? s.length : lt;
    if (textEnd > i) {
      if (open.length === 0) {
        // §2.1 document: only whitespace, comments and processing instructions around the root element.
        const nonSpace = skipSpace(i);
        if (nonSpace < textEnd) fail(nonSpace, rootSeen ? 'text after the root element' : 'text before the root element');
      } else {
        checkReferences(i, textEnd);
        const cdataEnd = s.slice(i, textEnd).indexOf(']]>');
        if (cdataEnd >= 0) fail(i + cdataEnd, "']]>' in text (write > as &gt;)"); // §2.4
      }
    }
    if (lt < 0) break;
    if (s.startsWith('<!--', lt)) {
      const end = s.indexOf('-->', lt + 4);
      if (end < 0) fail(lt, 'a comment that is never closed');
      const dashes = s.slice(lt + 4, end + 1).indexOf('--');
      if (dashes >= 0) fail(lt + 4 + dashes, "'--' inside a comment"); // §2.5
      i = end + 3;
    } else if (s.startsWith('<![CDATA[', lt)) {
      if (open.length === 0) fail(lt, 'a CDATA section outside the root element');
      const end = s.indexOf(']]>', lt + 9);
      if (end < 0) fail(lt, 'a CDATA section that is never closed');
      i = end + 3;
    } else if (s.startsWith('<?', lt)) {
      // §2.6 processing instruction, §2.8 the XML declaration (only at the very start: the BOM is already removed).
      const target = nameAt(lt + 2);
      if (target === undefined) fail(lt + 2, `a processing instruction needs a target name, not ${at(lt + 2)}`);
      if (target.toLowerCase() === 'xml' && (lt !== 0 || target !== 'xml')) fail(lt, 'the XML declaration is allowed only at the very start of the document');
      const after = lt + 2 + target.length;
      if (!s.startsWith('?>', after) && !isSpace(s.charCodeAt(after))) fail(after, `unexpected ${at(after)} after the processing instruction target`);
      const end = s.indexOf('?>', after);
      if (end < 0) fail(lt, 'a processing instruction that is never closed');
      i = end + 2;
    } else if (s.startsWith('<!', lt)) {
      fail(lt, 'markup declarations (<!DOCTYPE, <!ENTITY ...) are not allowed');
    } else if (s.charCodeAt(lt + 1) === 0x2f /* / */) {
      // §3.1 end tag: it must close the element opened last.
      const name = nameAt(lt + 2);
      if (name === undefined) fail(lt + 2, `an end tag needs a name, not ${at(lt + 2)}`);
      const close = skipSpace(lt + 2 + name.length);
      if (s.charCodeAt(close) !== 0x3e /* > */) fail(close, `unexpected ${at(close)} in the end tag </${name}>`);
      const top = open.pop();
      if (!top) fail(lt, `the end tag </${name}> has no start tag`);
      if (top.name !== name) {
        const { line, column } = positionOf(s, top.offset);
        fail(lt, `the end tag </${name}> does not match the start tag <${top.name}> (line ${line}, column ${column})`);
      }
      i = close + 1;
    } else {
      // §3.1 start tag or empty-element tag.
      if (rootSeen && open.length === 0) fail(lt, 'a second root element (a document has exactly one)');
      const name = nameAt(lt + 1);
      if (name === undefined) fail(lt, "'<' that does not start a tag (write a literal < as &lt;)");
      checkQName(name, lt);
      const attributes: { name: string; offset: number; from: number; to: number }[] = [];
      const names = new Set<string>();
      let j = lt + 1 + name.length;
      let empty: boolean;
      for (;;) {
        const k = skipSpace(j);
        const c = s.charCodeAt(k);
        if (c === 0x3e /* > */) {
          empty = false;
          j = k + 1;
          break;
        }
        if (c === 0x2f /* / */) {
          if (s.charCodeAt(k + 1) !== 0x3e) fail(k + 1, `expected '>' after '/' in the tag <${name}>, not ${at(k + 1)}`);
          empty = true;
          j = k + 2;
          break;
        }
        if (k >= s.length) fail(lt, `the start tag <${name}> is never closed with '>'`);
        const attr = nameAt(k);
        if (attr === undefined) fail(k, `unexpected ${at(k)} in the start tag <${name}>`);
        if (k === j) fail(k, `whitespace is required before the attribute ${attr}`);
        checkQName(attr, k);
        if (names.has(attr)) fail(k, `the attribute ${attr} appears twice in <${name}>`); // §3.1 Unique Att Spec
        let v = skipSpace(k + attr.length);
        if (s.charCodeAt(v) !== 0x3d /* = */) fail(v, `the attribute ${attr} needs a value (${attr}="...")`);
        v = skipSpace(v + 1);
        const quote = s[v];
        if (quote !== '"' && quote !== "'") fail(v, `the value of the attribute ${attr} must be in quotes`);
        const end = s.indexOf(quote, v + 1);
        if (end < 0) fail(v, `the value of the attribute ${attr} is never closed`);
        const ltInValue = s.slice(v + 1, end).indexOf('<');
        if (ltInValue >= 0) fail(v + 1 + ltInValue, `'<' in the value of the attribute ${attr} (write it as &lt;)`);
        checkReferences(v + 1, end);
        attributes.push({ name: attr, offset: k, from: v + 1, to: end });
        names.add(attr);
        j = end + 1;
      }
      // Namespaces in XML §3 (declarations, NSC: Reserved Prefixes and Namespace Names) and §5 (prefixes in scope).
      const parentNs = open.length > 0 ? open[open.length - 1]!.namespaces : rootNamespaces;
      let namespaces = parentNs;
      for (const a of attributes) {
        if (!a.name.startsWith('xmlns:')) {
          if (a.name === 'xmlns') {
            const uri = attributeValue(a.from, a.to);
            if (uri === XML_NS || uri === XMLNS_NS) fail(a.offset, `${uri} cannot be the default namespace`);
          }
          continue;
        }
        const prefix = a.name.slice(6);
        const uri = attributeValue(a.from, a.to);
        if (prefix === 'xmlns') fail(a.offset, 'the prefix xmlns cannot be declared');
        if ((prefix === 'xml') !== (uri === XML_NS)) fail(a.offset, `the prefix xml is bound to ${XML_NS} and no other prefix may be`);
        if (uri === XMLNS_NS) fail(a.offset, `${XMLNS_NS} cannot be bound to a prefix`);
        if (uri === '') fail(a.offset, `the prefix ${prefix} cannot be undeclared (xmlns:${prefix}="" is not allowed in XML 1.0)`);
        if (namespaces === parentNs) namespaces = new Map(parentNs);
        namespaces.set(prefix, uri);
      }
      const colon = name.indexOf(':');
      if (colon > 0 && !namespaces.has(name.slice(0, colon))) fail(lt, `the prefix ${name.slice(0, colon)} of <${name}> is not declared`);
      const expanded = new Set<string>();
      for (const a of attributes) {
        const ac = a.name.indexOf(':');
        if (ac < 0 || a.name.startsWith('xmlns:')) continue;
        const uri = namespaces.get(a.name.slice(0, ac));
        if (uri === undefined) fail(a.offset, `the prefix ${a.name.slice(0, ac)} of the attribute ${a.name} is not declared`);
        const key = `{${uri}}${a.name.slice(ac + 1)}`;
        if (expanded.has(key)) fail(a.offset, `the attribute ${a.name} repeats another attribute's namespace and local name`); // Namespaces §6.3
        expanded.add(key);
      }
      rootSeen = true;
      if (!empty) open.push({ name, offset: lt, namespaces });
      i = j;
    }
  }
  const unclosed = open.pop();
  if (unclosed) fail(unclosed.offset, `the element <${unclosed.name}> is never closed (the document ends first)`);
  if (!rootSeen) fail(s.length, 'no root element');
}

/** Iterative walk (a deep document must not overflow the stack): depth and element count. */
function checkShape(root: Element, limits: XmlLimits, what: string): void {
  let count = 0;
  const stack: { el: Element; depth: number }[] = [{ el: root, depth: 1 }];
  while (stack.length > 0) {
    const { el, depth } = stack.pop()!;
    if (++count > limits.maxElements) throw new XmlError(`${what} has more than ${limits.maxElements} elements`, lineOf(el), columnOf(el));
    if (depth > limits.maxDepth) throw new XmlError(`${what} nests elements deeper than ${limits.maxDepth}`, lineOf(el), columnOf(el));
    for (let c = el.firstChild; c; c = c.nextSibling) if (c.nodeType === 1) stack.push({ el: c as Element, depth: depth + 1 });
  }
}

export function lineOf(node: Node): number | undefined {
  return (node as { lineNumber?: number }).lineNumber;
}
export function columnOf(node: Node): number | undefined {
  return (node as { columnNumber?: number }).columnNumber;
}

/** The element children of `el` (text, comments and processing instructions skipped). */
export function childElements(el: Element): Element[] {
  const out: Element[] = [];
  for (let c = el.firstChild; c; c = c.nextSibling) if (c.nodeType === 1) out.push(c as Element);
  return out;
}

/** The text content of an element (concatenated text and CDATA children; XML Schema simple content). */
export function textOf(el: Element): string {
  let s = '';
  for (let c = el.firstChild; c; c = c.nextSibling) {
    if (c.nodeType === 3 || c.nodeType === 4) s += c.nodeValue ?? '';
    else if (c.nodeType === 1) s += textOf(c as Element);
  }
  return s;
}

/** The attributes of an element without namespace declarations, by qualified name. */
export function attributesOf(el: Element): Record<string, string> {
  const out: Record<string, string> = {};
  const attrs = el.attributes;
  for (let i = 0; i < attrs.length; i++) {
    const a = attrs.item(i)!;
    if (a.name === 'xmlns' || a.name.startsWith('xmlns:')) continue;
    out[a.name] = a.value;
  }
  return out;
}

/** The namespace prefixes in scope at `el` (innermost wins); the default namespace under the key ''. */
export function namespacesInScope(el: Element): Record<string, string> {
  const out: Record<string, string> = {};
  for (let n: Node | null = el; n && n.nodeType === 1; n = n.parentNode) {
    const attrs = (n as Element).attributes;
    for (let i = 0; i < attrs.length; i++) {
      const a = attrs.item(i)!;
      if (a.name === 'xmlns') out[''] ??= a.value;
      else if (a.name.startsWith('xmlns:')) out[a.name.slice(6)] ??= a.value;
    }
  }
  return out;
}

/** XPath 1.0 (the `xpath` package) without its DOM typings, which would pull the browser's lib into the project. */
export interface XPathExpression {
  select(options: { node: unknown; namespaces?: Record<string, string> | ((prefix: string) => string | null) }): unknown[];
}
export interface XPathLib {
  parse(expression: string): XPathExpression;
}
export const xpath = createRequire(import.meta.url)('xpath') as XPathLib;

export { type Document, type Element, type Node };
