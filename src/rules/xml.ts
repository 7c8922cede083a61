/**
 * Safe XML parsing for policies and requests: a real XML parser (@xmldom/xmldom, never evaluation as code) with
 * line and column on every element, and bounds on what a client can send.
 *
 * - No DTD at all: a DOCTYPE or ENTITY declaration is refused before parsing (XXE, "billion laughs"); XACML's schema
 *   has no use for one.
 * - The document's size, its element nesting depth and its count of elements are bounded.
 * - Malformed XML (and every parser warning: an unbound prefix, a duplicate attribute) is an error with a position.
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
  const dtd = /<!(DOCTYPE|ENTITY)/i.exec(text);
  if (dtd) {
    const { line, column } = positionOf(text, dtd.index);
    throw new XmlError(`${what} must not contain a <!${dtd[1]!.toUpperCase()}> declaration (DTDs are refused)`, line, column);
  }
  let firstError: XmlError | undefined;
  const parser = new DOMParser({
    locator: true,
    onError: (level, msg, context: { locator?: { lineNumber?: number; columnNumber?: number } }) => {
      const loc = context?.locator;
      // Warnings too: an ill-formed document must not be half-read.
      firstError ??= new XmlError(`malformed XML (${level}): ${String(msg).split('\n')[0]}`, loc?.lineNumber, loc?.columnNumber);
      throw firstError;
    },
  });
  let doc: Document;
  try {
    doc = parser.parseFromString(text, 'text/xml');
  } catch (err) {
    if (firstError) throw firstError;
    throw new XmlError(`malformed XML: ${(err as Error).message.split('\n')[0]}`);
  }
  const root = doc.documentElement;
  if (!root) throw new XmlError(`${what} has no root element`);
  checkShape(root, limits, what);
  return doc;
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
