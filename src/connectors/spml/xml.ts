/**
 * A namespace-aware element model over fast-xml-parser, for SPML 2.0 over SOAP 1.1: documents are built from
 * XmlElement trees and serialised by XMLBuilder, and parsed by XMLParser into the same trees with every element
 * name resolved to (namespace URI, local name) through the xmlns declarations in scope, so a peer may use any
 * prefixes (or default namespaces) it likes. User data only ever enters a document as text or attribute values,
 * escaped by the value processors below; nothing is spliced into markup.
 */
import { XMLBuilder, XMLParser } from 'fast-xml-parser';

export const NS = {
  soap: 'http://schemas.xmlsoap.org/soap/envelope/',
  spml: 'urn:oasis:names:tc:SPML:2:0',
  search: 'urn:oasis:names:tc:SPML:2:0:search',
  dsml: 'urn:oasis:names:tc:DSML:2:0:core',
} as const;

/** The prefixes this side writes (readers resolve whatever prefixes the peer chose). */
const PREFIX: Record<string, string> = { [NS.soap]: 'soap', [NS.spml]: 'spml', [NS.search]: 'spmlsearch', [NS.dsml]: 'dsml' };

export interface XmlElement {
  /** Namespace URI ('' for none). */
  ns: string;
  /** Local name. */
  name: string;
  /** Attributes by their name as written (unprefixed attributes are in no namespace, XML Namespaces §6.3). */
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The element's character content (text and CDATA, concatenated). */
  text: string;
}

export class XmlError extends Error {
  override name = 'XmlError';
}

/** Builds an element; `content` is child elements or a text value. */
export function el(ns: string, name: string, attrs: Record<string, string | undefined> = {}, content: XmlElement[] | string = []): XmlElement {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) clean[k] = v;
  return typeof content === 'string'
    ? { ns, name, attrs: clean, children: [], text: content }
    : { ns, name, attrs: clean, children: content, text: '' };
}

export function child(parent: XmlElement | undefined, ns: string, name: string): XmlElement | undefined {
  return parent?.children.find((c) => c.ns === ns && c.name === name);
}

export function childrenOf(parent: XmlElement | undefined, ns: string, name: string): XmlElement[] {
  return parent?.children.filter((c) => c.ns === ns && c.name === name) ?? [];
}

// XML 1.0 §2.2 Char: values outside it cannot be carried by any XML 1.0 document, escaped or not.
// eslint-disable-next-line no-control-regex
const NOT_XML_CHAR = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/**
 * Escapes a text or attribute value. CR is written as a character reference because parsers normalise a
 * literal CR (XML 1.0 §2.11), and TAB/LF in attributes likewise (§3.3.3), so values round-trip exactly.
 */
function escapeValue(value: string, inAttribute: boolean): string {
  if (NOT_XML_CHAR.test(value)) throw new XmlError('a value contains a character that XML 1.0 cannot carry');
  let out = value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\r/g, '&#13;');
  if (inAttribute) out = out.replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');
  return out;
}

const builder = new XMLBuilder({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  suppressEmptyNode: true,
  // Escaping is done here rather than by processEntities, to also write CR/TAB/LF as character references.
  processEntities: false,
  tagValueProcessor: (_name: string, value: unknown) => escapeValue(String(value), false),
  attributeValueProcessor: (_name: string, value: unknown) => escapeValue(String(value), true),
});

type OrderedNode = Record<string, unknown>;

function collectNamespaces(e: XmlElement, into: Set<string>): void {
  if (e.ns) into.add(e.ns);
  for (const c of e.children) collectNamespaces(c, into);
}

function toOrdered(e: XmlElement, declare: Record<string, string>): OrderedNode {
  const prefix = e.ns ? PREFIX[e.ns] : undefined;
  if (e.ns && !prefix) throw new XmlError(`no prefix for namespace ${e.ns}`);
  const qname = prefix ? `${prefix}:${e.name}` : e.name;
  const body: OrderedNode[] = e.children.map((c) => toOrdered(c, {}));
  if (e.text !== '') body.unshift({ '#text': e.text });
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(declare)) attrs[`@_${k}`] = v;
  for (const [k, v] of Object.entries(e.attrs)) attrs[`@_${k}`] = v;
  return Object.keys(attrs).length > 0 ? { [qname]: body, ':@': attrs } : { [qname]: body };
}

/** Serialises a document; every namespace used is declared once, on the root. */
export function toXml(root: XmlElement): string {
  const used = new Set<string>();
  collectNamespaces(root, used);
  const declare: Record<string, string> = {};
  for (const ns of used) declare[`xmlns:${PREFIX[ns] ?? ''}`] = ns;
  const built = builder.build([toOrdered(root, declare)]);
  return `<?xml version="1.0" encoding="UTF-8"?>${built}`;
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: true,
  // Needed for numeric character references (&#13;, &#x1F600;), which fast-xml-parser ties to this flag.
  htmlEntities: true,
});

function fromOrdered(node: OrderedNode, scope: Map<string, string>): XmlElement | undefined {
  const key = Object.keys(node).find((k) => k !== ':@');
  if (key === undefined || key.startsWith('?') || key === '#text' || key === '#comment') return undefined;
  const rawAttrs = (node[':@'] ?? {}) as Record<string, string>;
  let inner = scope;
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(rawAttrs)) {
    const name = k.slice('@_'.length);
    if (name === 'xmlns' || name.startsWith('xmlns:')) {
      if (inner === scope) inner = new Map(scope);
      inner.set(name === 'xmlns' ? '' : name.slice('xmlns:'.length), String(v));
    } else {
      attrs[name] = String(v);
    }
  }
  const colon = key.indexOf(':');
  const prefix = colon >= 0 ? key.slice(0, colon) : '';
  const ns = inner.get(prefix);
  if (ns === undefined && prefix !== '') throw new XmlError(`undeclared namespace prefix '${prefix}'`);
  const element: XmlElement = { ns: ns ?? '', name: colon >= 0 ? key.slice(colon + 1) : key, attrs, children: [], text: '' };
  const content = node[key];
  if (Array.isArray(content)) {
    for (const c of content as OrderedNode[]) {
      if ('#text' in c) element.text += String(c['#text']);
      else {
        const e = fromOrdered(c, inner);
        if (e) element.children.push(e);
      }
    }
  }
  return element;
}

/** Parses a document into its root element. SOAP 1.1 §3 forbids a DTD in a message, so one is refused. */
export function parseXml(text: string): XmlElement {
  if (/<!DOCTYPE/i.test(text)) throw new XmlError('a document type declaration is not allowed in a SOAP message');
  let nodes: OrderedNode[];
  try {
    nodes = parser.parse(text) as OrderedNode[];
  } catch (err) {
    throw new XmlError(`not well-formed XML: ${err instanceof Error ? err.message : String(err)}`);
  }
  const roots = nodes.map((n) => fromOrdered(n, new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]))).filter((e) => e !== undefined);
  if (roots.length !== 1) throw new XmlError('expected exactly one root element');
  return roots[0]!;
}

/** Wraps an SPML request or response in a SOAP 1.1 envelope. */
export function soapEnvelope(body: XmlElement): string {
  return toXml(el(NS.soap, 'Envelope', {}, [el(NS.soap, 'Body', {}, [body])]));
}

/** The first element of the SOAP Body of an envelope. */
export function soapBodyContent(envelope: XmlElement): XmlElement {
  if (envelope.ns !== NS.soap || envelope.name !== 'Envelope') throw new XmlError('not a SOAP 1.1 envelope');
  const body = child(envelope, NS.soap, 'Body');
  const first = body?.children[0];
  if (!first) throw new XmlError('the SOAP Body is empty');
  return first;
}

/** DSMLv2 `<dsml:attr name="...">` with its values (the SPML 2.0 DSMLv2 profile's data form). */
export function dsmlAttr(name: string, values: readonly string[]): XmlElement {
  return el(NS.dsml, 'attr', { name }, values.map((v) => el(NS.dsml, 'value', {}, v)));
}

/** The `<dsml:attr>` elements of a `<data>` element, as name -> values. */
export function readDsmlAttrs(data: XmlElement | undefined): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const a of childrenOf(data, NS.dsml, 'attr')) {
    const name = a.attrs.name;
    if (name === undefined) continue;
    out.set(name, [...(out.get(name) ?? []), ...childrenOf(a, NS.dsml, 'value').map((v) => v.text)]);
  }
  return out;
}
