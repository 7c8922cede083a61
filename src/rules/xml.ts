/**
 * Safe XML parsing for policies and requests: real XML parsers (never evaluation as code) with line and column on
 * every fault and element, and bounds on what a client can send.
 *
 * - Two passes. saxes (a strict XML 1.0 + Namespaces parser, the one jsdom uses) decides whether the document is
 *   well-formed and namespace-well-formed and enforces the bounds; only then does @xmldom/xmldom build the DOM the
 *   `xpath` package needs. xmldom alone would not do: it is lenient by design (it keeps a bare `&` as text, turns
 *   `&#0;` into a NUL, reports a mismatched end tag at the start tag it left open), so it never sees a malformed
 *   document; every warning or error it still reports is fatal as well.
 * - No DTD at all: a DOCTYPE is refused (XXE, "billion laughs"); XACML's schema has no use for one. saxes never
 *   expands entities of an internal subset, and the document is refused as soon as its DOCTYPE has been read.
 * - The document's size, its element nesting depth and its count of elements are bounded (checked while saxes
 *   reads, before any DOM exists).
 */
import { DOMParser, type Document, type Element, type Node } from '@xmldom/xmldom';
import { createRequire } from 'node:module';
import { SaxesParser } from 'saxes';

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
  checkWellFormed(s, limits, what);
  let firstError: XmlError | undefined;
  const parser = new DOMParser({
    locator: true,
    onError: (level, msg, context: { locator?: { lineNumber?: number; columnNumber?: number } }) => {
      const loc = context?.locator;
      // Warnings and errors too (xmldom reports what it repairs at those levels): an ill-formed document must not be
      // half-read. saxes has refused every malformed document already; this is the backstop.
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
  return doc;
}

/** saxes's messages for a reference it could not resolve (XML 1.0 §4.1, §4.6; WFC: Legal Character). */
const REFERENCE_ERRORS = new Set(['undefined entity.', 'disallowed character in entity name.', 'malformed character entity.', 'empty entity name.']);

/**
 * The well-formedness pass (XML 1.0 §2-§4, Namespaces in XML 1.0 §3-§6), by saxes, with the bounds; throws XmlError
 * at the first fault. `s` has its line endings normalized already.
 *
 * saxes reports where it noticed a fault, usually at or just after it (the end of the tag, for an attribute or a
 * namespace fault). Three faults it notices far from where they are, so their position is taken from the text:
 * - a reference: saxes reads from `&` to the next `;`, wherever that is (a bare `&` is found at the next `;` of the
 *   document, or at its end). The `&` is the first one after both the last event and the last `;` before saxes
 *   stopped: an earlier `&` in text or an attribute value would have started the reference itself, and one in a
 *   comment, CDATA section or processing instruction is followed by that construct's event.
 * - a mismatched end tag: reported at its `>`; the position is that of its `</`, with the start tag it should close.
 * - an element left open at the end of the document: reported at the end; the position is that of its start tag.
 */
function checkWellFormed(s: string, limits: XmlLimits, what: string): void {
  // XML 1.0 only (as declared or not): a `version="1.1"` declaration must not relax the rules (xmlns:p="" ...).
  const parser = new SaxesParser({ xmlns: true, position: true, defaultXMLVersion: '1.0', forceXMLVersion: true });
  function fail(offset: number, message: string): never {
    const { line, column } = positionOf(s, Math.max(offset, 0));
    throw new XmlError(message, line, column);
  }
  /** Open elements (name and the offset of `<`), for depth and for the faults above. */
  const open: { name: string; offset: number }[] = [];
  let elements = 0;
  /** Offset just past the last construct saxes reported. */
  let mark = 0;
  const advance = (): void => {
    mark = parser.position;
  };
  parser.on('xmldecl', advance);
  parser.on('comment', advance);
  parser.on('cdata', advance);
  parser.on('processinginstruction', advance);
  parser.on('doctype', () => {
    fail(s.indexOf('<!DOCTYPE', mark), `${what} must not contain a <!DOCTYPE> declaration (DTDs are refused)`);
  });
  parser.on('opentagstart', (tag) => {
    // saxes reports a start tag once it has read its name and the character after it.
    const offset = parser.position - tag.name.length - 2;
    open.push({ name: tag.name, offset });
    if (++elements > limits.maxElements) fail(offset, `${what} has more than ${limits.maxElements} elements`);
    if (open.length > limits.maxDepth) fail(offset, `${what} nests elements deeper than ${limits.maxDepth}`);
    advance();
  });
  parser.on('opentag', advance);
  /** saxes pops an element and reports its end before it compares the end tag's name with it. */
  let closed: { name: string; offset: number } | undefined;
  parser.on('closetag', () => {
    closed = open.pop();
    advance();
  });
  parser.on('error', (err) => {
    const at = parser.position; // just past the character where saxes stopped
    const message = err.message.replace(/^\d+:\d+: /, '');
    const ended = at >= s.length; // saxes checks the open elements when the document ends
    if (REFERENCE_ERRORS.has(message) || ended) {
      const amp = s.indexOf('&', Math.max(mark, s.lastIndexOf(';', ended ? at - 1 : at - 2) + 1));
      // No `<` between: an `&` past a construct saxes has not finished (a comment left open) is that construct's.
      if (amp >= 0 && amp < at && s.lastIndexOf('<', amp) < mark) {
        const reference = s.slice(amp, at);
        if (message === 'undefined entity.') fail(amp, `not well-formed XML: undefined entity ${reference} (only &lt; &gt; &amp; &apos; &quot; exist without a DTD)`);
        if (message === 'malformed character entity.') fail(amp, `not well-formed XML: the character reference ${reference} is not a legal XML character`);
        fail(amp, "not well-formed XML: '&' that does not start a reference (write a literal & as &amp;)");
      }
    }
    if (message === 'unexpected close tag.' && closed) {
      // Reported just past the end tag's `>`.
      const endTag = s.lastIndexOf('</', at - 1);
      const name = s.slice(endTag + 2, at - 1).trim();
      const { line, column } = positionOf(s, closed.offset);
      fail(endTag, `not well-formed XML: the end tag </${name}> does not match the start tag <${closed.name}> (line ${line}, column ${column})`);
    }
    const top = open[open.length - 1];
    if (top && message.startsWith('unclosed tag:')) fail(top.offset, `not well-formed XML: the element <${top.name}> is never closed (the document ends first)`);
    const found = message.startsWith('disallowed character') ? s.codePointAt(at - 1) : undefined;
    fail(at - 1, `not well-formed XML: ${message.replace(/\.$/, '')}${found === undefined ? '' : ` at ${JSON.stringify(String.fromCodePoint(found))}`}`);
  });
  parser.write(s).close();
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
