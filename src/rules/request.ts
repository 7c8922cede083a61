/**
 * The request context (XACML 3.0 §5.42-5.47) as the decision point reads it, and its XML form's parser.
 *
 * The parser checks what the schema requires (required attributes, known data types, each value's lexical form) so
 * that an invalid request is refused with a RequestSyntaxError before any evaluation, never half-evaluated.
 */
import { isKnownDataType, parseValue } from './functions/datatypes.js';
import { DataType, type AttributeValue } from './values.js';
import {
  REQUEST_LIMITS,
  XACML_NS,
  XmlError,
  attributesOf,
  childElements,
  columnOf,
  lineOf,
  namespacesInScope,
  parseXml,
  textOf,
  type Element,
} from './xml.js';

export interface RequestAttribute {
  attributeId: string;
  issuer?: string;
  includeInResult: boolean;
  values: AttributeValue[];
}
export interface RequestCategory {
  category: string;
  xmlId?: string;
  /** The DOM Element of <Content> (§5.45), read by AttributeSelector and the xpath functions. */
  content?: unknown;
  attributes: RequestAttribute[];
}
export interface XacmlRequest {
  returnPolicyIdList: boolean;
  combinedDecision: boolean;
  categories: RequestCategory[];
}

export class RequestSyntaxError extends Error {
  line?: number;
  column?: number;
  constructor(message: string, line?: number, column?: number) {
    super(line === undefined ? message : `line ${line}, column ${column ?? 0}: ${message}`);
    this.name = 'RequestSyntaxError';
    if (line !== undefined) this.line = line;
    if (column !== undefined) this.column = column;
  }
}

/** Values per attribute a request may carry (a bag is bounded like the document). */
export const MAX_VALUES_PER_ATTRIBUTE = 1000;

function fail(el: Element, message: string): never {
  throw new RequestSyntaxError(message, lineOf(el), columnOf(el));
}

function xacmlChildren(el: Element): Element[] {
  const kids = childElements(el);
  for (const k of kids) if (k.namespaceURI !== XACML_NS) fail(k, `unexpected element <${k.tagName}> in <${el.localName}>`);
  return kids;
}

function requiredAttr(el: Element, name: string): string {
  const v = el.getAttribute(name);
  if (v === null || !el.hasAttribute(name)) fail(el, `<${el.localName}> lacks the required attribute ${name}`);
  return v;
}

function booleanAttr(el: Element, name: string, required: boolean): boolean {
  if (!el.hasAttribute(name)) {
    if (required) fail(el, `<${el.localName}> lacks the required attribute ${name}`);
    return false;
  }
  const v = el.getAttribute(name)!.trim();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  fail(el, `<${el.localName}> ${name}="${v}" is not an xs:boolean`);
}

/** Parses an <AttributeValue> (in a request or a policy) with its data type's lexical rules; throws a message. */
export function parseAttributeValueElement(el: Element): AttributeValue {
  const dataType = el.getAttribute('DataType');
  if (!dataType) throw new Error(`<AttributeValue> lacks the required attribute DataType`);
  if (!isKnownDataType(dataType)) throw new Error(`<AttributeValue> has an unknown DataType "${dataType}"`);
  for (const k of childElements(el)) {
    // XACML allows mixed content in AttributeValue, but no standard data type has element content.
    throw new Error(`<AttributeValue DataType="${dataType}"> must not contain the element <${k.tagName}>`);
  }
  try {
    // Only xpathExpression reads the element's attributes (XPathCategory) and namespace prefixes.
    const xml = dataType === DataType.xpathExpression ? { attributes: attributesOf(el), namespaces: namespacesInScope(el) } : undefined;
    return parseValue(dataType, textOf(el), xml);
  } catch (err) {
    throw new Error(`<AttributeValue DataType="${dataType}">: ${(err as Error).message}`, { cause: err });
  }
}

/** Parses an XML <Request> (§5.42). Bounded by REQUEST_LIMITS; throws RequestSyntaxError. */
export function parseRequestXml(xml: string): XacmlRequest {
  let root: Element;
  try {
    root = parseXml(xml, REQUEST_LIMITS, 'the request').documentElement!;
  } catch (err) {
    if (err instanceof XmlError) throw new RequestSyntaxError(err.message.replace(/^line \d+, column \d+: /, ''), err.line, err.column);
    throw err;
  }
  if (root.namespaceURI !== XACML_NS || root.localName !== 'Request') {
    fail(root, `the root element must be <Request> in namespace ${XACML_NS}, not <${root.tagName}>`);
  }
  const request: XacmlRequest = {
    returnPolicyIdList: booleanAttr(root, 'ReturnPolicyIdList', true),
    combinedDecision: booleanAttr(root, 'CombinedDecision', true),
    categories: [],
  };
  const kids = xacmlChildren(root);
  let i = 0;
  if (kids[i]?.localName === 'RequestDefaults') {
    // §5.43: only XPathVersion, which must be XPath 1.0 here (the only version this PDP evaluates).
    const rd = kids[i]!;
    for (const k of xacmlChildren(rd)) {
      if (k.localName !== 'XPathVersion') fail(k, `unexpected element <${k.localName}> in <RequestDefaults>`);
      const v = textOf(k).trim();
      if (v !== 'http://www.w3.org/TR/1999/REC-xpath-19991116') fail(k, `unsupported XPathVersion "${v}"`);
    }
    i++;
  }
  for (; i < kids.length; i++) {
    const k = kids[i]!;
    if (k.localName === 'Attributes') request.categories.push(parseAttributes(k));
    else if (k.localName === 'MultiRequests') fail(k, '<MultiRequests> (Multiple Decision Profile §2.4) is not supported');
    else fail(k, `unexpected element <${k.localName}> in <Request>`);
  }
  if (request.categories.length === 0) fail(root, '<Request> must contain at least one <Attributes>');
  return request;
}

function parseAttributes(el: Element): RequestCategory {
  const category = requiredAttr(el, 'Category');
  const cat: RequestCategory = { category, attributes: [] };
  const xmlId = el.getAttributeNS('http://www.w3.org/XML/1998/namespace', 'id');
  if (xmlId) cat.xmlId = xmlId;
  const kids = xacmlChildren(el);
  let i = 0;
  if (kids[0]?.localName === 'Content') {
    const content = kids[0];
    const elements = childElements(content);
    if (elements.length !== 1) fail(content, '<Content> must contain exactly one element (§5.45)');
    cat.content = content;
    i = 1;
  }
  for (; i < kids.length; i++) {
    const a = kids[i]!;
    if (a.localName !== 'Attribute') fail(a, `unexpected element <${a.localName}> in <Attributes>`);
    const attribute: RequestAttribute = {
      attributeId: requiredAttr(a, 'AttributeId'),
      includeInResult: booleanAttr(a, 'IncludeInResult', true),
      values: [],
    };
    if (a.hasAttribute('Issuer')) attribute.issuer = a.getAttribute('Issuer')!;
    const values = xacmlChildren(a);
    if (values.length === 0) fail(a, `<Attribute AttributeId="${attribute.attributeId}"> must contain at least one <AttributeValue>`);
    if (values.length > MAX_VALUES_PER_ATTRIBUTE) fail(a, `<Attribute> has more than ${MAX_VALUES_PER_ATTRIBUTE} values`);
    for (const v of values) {
      if (v.localName !== 'AttributeValue') fail(v, `unexpected element <${v.localName}> in <Attribute>`);
      try {
        attribute.values.push(parseAttributeValueElement(v));
      } catch (err) {
        fail(v, (err as Error).message);
      }
    }
    cat.attributes.push(attribute);
  }
  return cat;
}
