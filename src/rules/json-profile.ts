/**
 * The JSON Profile of XACML 3.0 (OASIS, Version 1.1, 2019; Version 1.0 requests are a subset): a decision request
 * written as JSON, read into the same request model as an XML <Request> (src/rules/request.ts), and a response
 * written as the profile's JSON Response.
 *
 * The request text is read by a small JSON reader of its own rather than JSON.parse, for three reasons: the profile
 * infers integer or double from how a number is written (§3.3.3: "1" is an integer, "1.0" a double), which
 * JSON.parse forgets; integers must stay exact beyond 2^53; and every bound (size, depth, members, string length) is
 * checked while reading, before anything is built. Every error is a {@link JsonProfileError} whose `pointer` (RFC 6901)
 * names the member that is wrong.
 *
 * @example
 *   const request = parseJsonRequest('{"Request":{"AccessSubject":{"Attribute":[{"AttributeId":"urn:oasis:names:tc:xacml:1.0:subject:subject-id","Value":"ada"}]}}}');
 *   const json = responseToJson(pdp.evaluate(request)); // '{"Response":[{"Decision":"Permit"}]}'
 */
import { formatValue, isKnownDataType, parseValue, type XPathExpressionValue } from './functions/datatypes.js';
import type { RequestAttribute, RequestCategory, XacmlRequest } from './request.js';
import type { PolicyEffectItem, PolicyIdentifier, Status, XacmlResponse, XacmlResult } from './response.js';
import { DataType, type AttributeValue } from './values.js';
import { REQUEST_LIMITS, XACML_NS, XmlError, childElements, parseXml } from './xml.js';

/** Bounds on a JSON request. The document size and the values per attribute match the XML request parser's. */
export const JSON_REQUEST_LIMITS = {
  maxBytes: REQUEST_LIMITS.maxBytes,
  maxDepth: 32,
  /** Members of one object. */
  maxMembers: 256,
  /** Items of one array: categories, attributes of a category, values of an attribute. */
  maxArrayItems: 1000,
  /** Characters of one string (a value, an id, a Content document). */
  maxStringLength: 64 * 1024,
  /** Characters of one number as written. */
  maxNumberLength: 400,
} as const;

export type JsonProfileErrorCode = 'syntax' | 'invalid' | 'too_large' | 'unsupported';

/** A JSON request this module refuses. `pointer` is an RFC 6901 JSON pointer to the offending member ("" = root). */
export class JsonProfileError extends Error {
  readonly code: JsonProfileErrorCode;
  readonly pointer: string;
  constructor(code: JsonProfileErrorCode, pointer: string, message: string) {
    super(`${pointer === '' ? '(root)' : pointer}: ${message}`);
    this.name = 'JsonProfileError';
    this.code = code;
    this.pointer = pointer;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The JSON reader
// ---------------------------------------------------------------------------------------------------------------

type JNode =
  | { kind: 'object'; members: Map<string, JNode>; pointer: string }
  | { kind: 'array'; items: JNode[]; pointer: string }
  | { kind: 'string'; value: string; pointer: string }
  /** The number as written (RFC 8259 §6 grammar, checked). */
  | { kind: 'number'; lexeme: string; pointer: string }
  | { kind: 'boolean'; value: boolean; pointer: string }
  | { kind: 'null'; pointer: string };

function pointerTo(parent: string, token: string | number): string {
  return `${parent}/${String(token).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

class JsonReader {
  private pos = 0;
  constructor(private readonly text: string) {}

  read(): JNode {
    this.ws();
    const node = this.value('', 0);
    this.ws();
    if (this.pos < this.text.length) this.fail('', `unexpected ${JSON.stringify(this.text[this.pos])} after the document`);
    return node;
  }

  private fail(pointer: string, message: string, code: JsonProfileErrorCode = 'syntax'): never {
    throw new JsonProfileError(code, pointer, `${message} (at character ${this.pos})`);
  }

  private ws(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.pos++;
      else break;
    }
  }

  private value(pointer: string, depth: number): JNode {
    if (depth > JSON_REQUEST_LIMITS.maxDepth) this.fail(pointer, `nested deeper than ${JSON_REQUEST_LIMITS.maxDepth}`, 'too_large');
    const c = this.text[this.pos];
    if (c === '{') return this.object(pointer, depth);
    if (c === '[') return this.array(pointer, depth);
    if (c === '"') return { kind: 'string', value: this.string(pointer), pointer };
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number(pointer);
    for (const [word, node] of [
      ['true', { kind: 'boolean', value: true, pointer }],
      ['false', { kind: 'boolean', value: false, pointer }],
      ['null', { kind: 'null', pointer }],
    ] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return node;
      }
    }
    return this.fail(pointer, c === undefined ? 'unexpected end of the document' : `unexpected ${JSON.stringify(c)}`);
  }

  private object(pointer: string, depth: number): JNode {
    this.pos++; // {
    const members = new Map<string, JNode>();
    this.ws();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return { kind: 'object', members, pointer };
    }
    for (;;) {
      this.ws();
      if (this.text[this.pos] !== '"') this.fail(pointer, 'expected a member name');
      const name = this.string(pointer);
      const at = pointerTo(pointer, name);
      if (members.has(name)) this.fail(at, 'duplicate member name', 'invalid');
      if (members.size >= JSON_REQUEST_LIMITS.maxMembers) this.fail(pointer, `more than ${JSON_REQUEST_LIMITS.maxMembers} members`, 'too_large');
      this.ws();
      if (this.text[this.pos] !== ':') this.fail(at, 'expected ":"');
      this.pos++;
      this.ws();
      members.set(name, this.value(at, depth + 1));
      this.ws();
      const c = this.text[this.pos];
      this.pos++;
      if (c === '}') return { kind: 'object', members, pointer };
      if (c !== ',') {
        this.pos--;
        this.fail(pointer, 'expected "," or "}"');
      }
    }
  }

  private array(pointer: string, depth: number): JNode {
    this.pos++; // [
    const items: JNode[] = [];
    this.ws();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return { kind: 'array', items, pointer };
    }
    for (;;) {
      this.ws();
      if (items.length >= JSON_REQUEST_LIMITS.maxArrayItems) this.fail(pointer, `more than ${JSON_REQUEST_LIMITS.maxArrayItems} items`, 'too_large');
      items.push(this.value(pointerTo(pointer, items.length), depth + 1));
      this.ws();
      const c = this.text[this.pos];
      this.pos++;
      if (c === ']') return { kind: 'array', items, pointer };
      if (c !== ',') {
        this.pos--;
        this.fail(pointer, 'expected "," or "]"');
      }
    }
  }

  /** RFC 8259 §7. */
  private string(pointer: string): string {
    this.pos++; // "
    let out = '';
    let start = this.pos;
    for (;;) {
      if (this.pos >= this.text.length) this.fail(pointer, 'unterminated string');
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x22) break;
      if (c < 0x20) this.fail(pointer, 'a control character in a string must be escaped');
      if (c === 0x5c) {
        out += this.text.slice(start, this.pos);
        const e = this.text[this.pos + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && e in simple) {
          out += simple[e];
          this.pos += 2;
        } else if (e === 'u') {
          const hex = this.text.slice(this.pos + 2, this.pos + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail(pointer, 'invalid \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 6;
        } else {
          this.fail(pointer, 'invalid escape in a string');
        }
        start = this.pos;
      } else {
        this.pos++;
      }
      if (out.length + (this.pos - start) > JSON_REQUEST_LIMITS.maxStringLength) {
        this.fail(pointer, `a string longer than ${JSON_REQUEST_LIMITS.maxStringLength} characters`, 'too_large');
      }
    }
    out += this.text.slice(start, this.pos);
    this.pos++; // "
    return out;
  }

  /** RFC 8259 §6. */
  private number(pointer: string): JNode {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.text.slice(this.pos, this.pos + JSON_REQUEST_LIMITS.maxNumberLength + 1));
    if (!m) this.fail(pointer, 'invalid number');
    if (m[0].length > JSON_REQUEST_LIMITS.maxNumberLength) this.fail(pointer, `a number longer than ${JSON_REQUEST_LIMITS.maxNumberLength} characters`, 'too_large');
    this.pos += m[0].length;
    return { kind: 'number', lexeme: m[0], pointer };
  }
}

/** A JSON value already parsed (by JSON.parse, or express.json) as a node. Numbers lose how they were written:
 *  an integral number reads as an integer, any other as a double. */
function fromValue(v: unknown, pointer: string, depth: number): JNode {
  if (depth > JSON_REQUEST_LIMITS.maxDepth) throw new JsonProfileError('too_large', pointer, `nested deeper than ${JSON_REQUEST_LIMITS.maxDepth}`);
  if (v === null) return { kind: 'null', pointer };
  if (typeof v === 'boolean') return { kind: 'boolean', value: v, pointer };
  if (typeof v === 'string') {
    if (v.length > JSON_REQUEST_LIMITS.maxStringLength) {
      throw new JsonProfileError('too_large', pointer, `a string longer than ${JSON_REQUEST_LIMITS.maxStringLength} characters`);
    }
    return { kind: 'string', value: v, pointer };
  }
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new JsonProfileError('invalid', pointer, 'not a JSON number');
    return { kind: 'number', lexeme: Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER ? String(v) : v.toExponential(), pointer };
  }
  if (Array.isArray(v)) {
    if (v.length > JSON_REQUEST_LIMITS.maxArrayItems) throw new JsonProfileError('too_large', pointer, `more than ${JSON_REQUEST_LIMITS.maxArrayItems} items`);
    return { kind: 'array', items: v.map((item, i) => fromValue(item, pointerTo(pointer, i), depth + 1)), pointer };
  }
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length > JSON_REQUEST_LIMITS.maxMembers) throw new JsonProfileError('too_large', pointer, `more than ${JSON_REQUEST_LIMITS.maxMembers} members`);
    const members = new Map<string, JNode>();
    for (const [k, item] of entries) members.set(k, fromValue(item, pointerTo(pointer, k), depth + 1));
    return { kind: 'object', members, pointer };
  }
  throw new JsonProfileError('invalid', pointer, `not a JSON value (${typeof v})`);
}

// ---------------------------------------------------------------------------------------------------------------
// The profile's vocabulary
// ---------------------------------------------------------------------------------------------------------------

/** The shorthand category names (§4.2.2.2, Table 2) and the categories they stand for. */
export const CATEGORY_SHORTHANDS: Readonly<Record<string, string>> = {
  AccessSubject: 'urn:oasis:names:tc:xacml:1.0:subject-category:access-subject',
  Action: 'urn:oasis:names:tc:xacml:3.0:attribute-category:action',
  Resource: 'urn:oasis:names:tc:xacml:3.0:attribute-category:resource',
  Environment: 'urn:oasis:names:tc:xacml:3.0:attribute-category:environment',
  RecipientSubject: 'urn:oasis:names:tc:xacml:1.0:subject-category:recipient-subject',
  IntermediarySubject: 'urn:oasis:names:tc:xacml:1.0:subject-category:intermediary-subject',
  Codebase: 'urn:oasis:names:tc:xacml:1.0:subject-category:codebase',
  RequestingMachine: 'urn:oasis:names:tc:xacml:1.0:subject-category:requesting-machine',
};

/** The shorthand data type names (§3.3.1, Table 1). */
export const DATA_TYPE_SHORTHANDS: Readonly<Record<string, string>> = {
  string: DataType.string,
  boolean: DataType.boolean,
  integer: DataType.integer,
  double: DataType.double,
  time: DataType.time,
  date: DataType.date,
  dateTime: DataType.dateTime,
  dayTimeDuration: DataType.dayTimeDuration,
  yearMonthDuration: DataType.yearMonthDuration,
  anyURI: DataType.anyURI,
  hexBinary: DataType.hexBinary,
  base64Binary: DataType.base64Binary,
  rfc822Name: DataType.rfc822Name,
  x500Name: DataType.x500Name,
  ipAddress: DataType.ipAddress,
  dnsName: DataType.dnsName,
  xpathExpression: DataType.xpathExpression,
};

const XPATH_1_0 = 'http://www.w3.org/TR/1999/REC-xpath-19991116';

// ---------------------------------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------------------------------

function kindName(n: JNode): string {
  return n.kind === 'object' ? 'an object' : n.kind === 'array' ? 'an array' : n.kind === 'null' ? 'null' : `a ${n.kind}`;
}

function invalid(n: JNode | string, message: string): never {
  throw new JsonProfileError('invalid', typeof n === 'string' ? n : n.pointer, message);
}

function asObject(n: JNode, what: string): Map<string, JNode> {
  if (n.kind !== 'object') invalid(n, `${what} must be an object, not ${kindName(n)}`);
  return n.members;
}

function asString(n: JNode, what: string): string {
  if (n.kind !== 'string') invalid(n, `${what} must be a string, not ${kindName(n)}`);
  return n.value;
}

function asBoolean(n: JNode, what: string): boolean {
  if (n.kind !== 'boolean') invalid(n, `${what} must be true or false, not ${kindName(n)}`);
  return n.value;
}

function asArray(n: JNode, what: string): JNode[] {
  if (n.kind !== 'array') invalid(n, `${what} must be an array, not ${kindName(n)}`);
  return n.items;
}

function onlyMembers(obj: JNode & { kind: 'object' }, allowed: readonly string[], what: string): void {
  for (const name of obj.members.keys()) {
    if (!allowed.includes(name)) invalid(pointerTo(obj.pointer, name), `${what} has no member "${name}" (allowed: ${allowed.join(', ')})`);
  }
}

function resolveDataType(n: JNode): string {
  const text = asString(n, 'DataType');
  const dt = DATA_TYPE_SHORTHANDS[text] ?? text;
  if (!isKnownDataType(dt)) invalid(n, `unknown DataType "${text}"`);
  return dt;
}

/** §3.3.3: the data type a JSON value implies when DataType is absent; undefined when none can be inferred. */
function inferredType(n: JNode): string | undefined {
  switch (n.kind) {
    case 'string':
      return DataType.string;
    case 'boolean':
      return DataType.boolean;
    case 'number':
      return /[.eE]/.test(n.lexeme) ? DataType.double : DataType.integer;
    default:
      return undefined;
  }
}

/** The data type of an attribute without DataType: all values one type; integers with doubles make doubles. */
function inferAttributeType(values: JNode[], valuePointer: string): string {
  const types = new Set<string>();
  for (const v of values) {
    const t = inferredType(v);
    if (t === undefined) invalid(v, `the data type of ${kindName(v)} cannot be inferred: give DataType`);
    types.add(t);
  }
  if (types.size === 0) return DataType.string; // an empty bag: no value to tell the type
  if (types.size === 1) return [...types][0]!;
  if (types.size === 2 && types.has(DataType.integer) && types.has(DataType.double)) return DataType.double;
  return invalid(valuePointer, `the values have different types (${[...types].map((t) => t.slice(t.lastIndexOf('#') + 1)).join(', ')}): give DataType`);
}

function parseXPathValue(n: JNode): AttributeValue {
  const obj = n as JNode & { kind: 'object' };
  onlyMembers(obj, ['XPathCategory', 'Namespaces', 'XPath'], 'an xpathExpression value');
  const m = obj.members;
  const categoryNode = m.get('XPathCategory');
  const pathNode = m.get('XPath');
  if (!categoryNode) invalid(n, 'an xpathExpression value needs XPathCategory');
  if (!pathNode) invalid(n, 'an xpathExpression value needs XPath');
  const namespaces: Record<string, string> = {};
  const ns = m.get('Namespaces');
  if (ns) {
    for (const decl of asArray(ns, 'Namespaces')) {
      const d = asObject(decl, 'a namespace declaration');
      onlyMembers(decl as JNode & { kind: 'object' }, ['Prefix', 'Namespace'], 'a namespace declaration');
      const uri = d.get('Namespace');
      if (!uri) invalid(decl, 'a namespace declaration needs Namespace');
      const prefix = d.get('Prefix');
      namespaces[prefix ? asString(prefix, 'Prefix') : ''] = asString(uri, 'Namespace');
    }
  }
  try {
    return parseValue(DataType.xpathExpression, asString(pathNode, 'XPath'), {
      attributes: { XPathCategory: asString(categoryNode, 'XPathCategory') },
      namespaces,
    });
  } catch (err) {
    if (err instanceof JsonProfileError) throw err;
    return invalid(n, (err as Error).message);
  }
}

/** One value of a known data type: its native JSON form, or (for any type) a string in the type's lexical form. */
function parseJsonValue(n: JNode, dataType: string): AttributeValue {
  if (dataType === DataType.xpathExpression) {
    if (n.kind !== 'object') invalid(n, `an xpathExpression value must be an object, not ${kindName(n)}`);
    return parseXPathValue(n);
  }
  let text: string;
  if (n.kind === 'string') text = n.value;
  else if (n.kind === 'boolean' && dataType === DataType.boolean) text = String(n.value);
  else if (n.kind === 'number' && (dataType === DataType.integer || dataType === DataType.double)) {
    if (dataType === DataType.integer && /[.eE]/.test(n.lexeme)) invalid(n, `${n.lexeme} is not an integer`);
    text = n.lexeme;
  } else {
    return invalid(n, `${kindName(n)} is not a value of ${dataType}`);
  }
  try {
    return parseValue(dataType, text);
  } catch (err) {
    return invalid(n, (err as Error).message);
  }
}

function parseAttribute(n: JNode): RequestAttribute {
  const obj = n as JNode & { kind: 'object' };
  asObject(n, 'an attribute');
  onlyMembers(obj, ['AttributeId', 'Value', 'Issuer', 'IncludeInResult', 'DataType'], 'an attribute');
  const m = obj.members;
  const idNode = m.get('AttributeId');
  if (!idNode) invalid(n, 'an attribute needs AttributeId');
  const valueNode = m.get('Value');
  if (!valueNode) invalid(n, 'an attribute needs Value');
  const values = valueNode.kind === 'array' ? valueNode.items : [valueNode];
  for (const v of values) if (v.kind === 'null' || v.kind === 'array') invalid(v, `a value cannot be ${kindName(v)}`);
  const dtNode = m.get('DataType');
  const dataType = dtNode ? resolveDataType(dtNode) : inferAttributeType(values, valueNode.pointer);
  const attribute: RequestAttribute = {
    attributeId: asString(idNode, 'AttributeId'),
    includeInResult: m.has('IncludeInResult') ? asBoolean(m.get('IncludeInResult')!, 'IncludeInResult') : false,
    values: values.map((v) => parseJsonValue(v, dataType)),
  };
  if (attribute.attributeId === '') invalid(idNode, 'AttributeId must not be empty');
  const issuer = m.get('Issuer');
  if (issuer) attribute.issuer = asString(issuer, 'Issuer');
  return attribute;
}

/** Content (§4.2.3.3): an XML document as a string, the single element a <Content> would hold. */
function parseContent(n: JNode): unknown {
  const text = asString(n, 'Content').replace(/^\uFEFF?\s*<\?xml[^?]*\?>/, '');
  let doc;
  try {
    // A prefixed wrapper, so that the document's unprefixed elements stay in no namespace, as they were written.
    doc = parseXml(`<xacml-json:Content xmlns:xacml-json="${XACML_NS}">${text}</xacml-json:Content>`, REQUEST_LIMITS, 'the Content');
  } catch (err) {
    if (err instanceof XmlError) invalid(n, `Content is not well-formed XML: ${err.message}`);
    throw err;
  }
  const content = doc.documentElement!;
  if (childElements(content).length !== 1) invalid(n, 'Content must hold exactly one XML element (§5.45)');
  return content;
}

function parseCategory(n: JNode, impliedCategory: string | undefined): RequestCategory {
  const obj = n as JNode & { kind: 'object' };
  asObject(n, 'a category');
  onlyMembers(obj, ['CategoryId', 'Id', 'Content', 'Attribute'], 'a category');
  const m = obj.members;
  const idNode = m.get('CategoryId');
  let category: string;
  if (idNode) {
    category = asString(idNode, 'CategoryId');
    if (impliedCategory !== undefined && category !== impliedCategory) {
      invalid(idNode, `CategoryId "${category}" contradicts the shorthand, which stands for ${impliedCategory}`);
    }
  } else if (impliedCategory !== undefined) {
    category = impliedCategory;
  } else {
    return invalid(n, 'a category in Category needs CategoryId');
  }
  if (category === '') invalid(idNode ?? n, 'CategoryId must not be empty');
  const cat: RequestCategory = { category, attributes: [] };
  const xmlId = m.get('Id');
  if (xmlId) cat.xmlId = asString(xmlId, 'Id');
  const content = m.get('Content');
  if (content) cat.content = parseContent(content);
  const attributes = m.get('Attribute');
  if (attributes) cat.attributes = asArray(attributes, 'Attribute').map(parseAttribute);
  return cat;
}

function requestFromNode(root: JNode): XacmlRequest {
  asObject(root, 'the document');
  onlyMembers(root as JNode & { kind: 'object' }, ['Request'], 'the document');
  const reqNode = (root as JNode & { kind: 'object' }).members.get('Request');
  if (!reqNode) invalid(root, 'the document must have a "Request" member');
  const req = asObject(reqNode, 'Request');
  onlyMembers(
    reqNode as JNode & { kind: 'object' },
    ['ReturnPolicyIdList', 'CombinedDecision', 'XPathVersion', 'Category', 'MultiRequests', ...Object.keys(CATEGORY_SHORTHANDS)],
    'Request'
  );
  const request: XacmlRequest = {
    returnPolicyIdList: req.has('ReturnPolicyIdList') ? asBoolean(req.get('ReturnPolicyIdList')!, 'ReturnPolicyIdList') : false,
    combinedDecision: req.has('CombinedDecision') ? asBoolean(req.get('CombinedDecision')!, 'CombinedDecision') : false,
    categories: [],
  };
  const xpathVersion = req.get('XPathVersion');
  if (xpathVersion && asString(xpathVersion, 'XPathVersion') !== XPATH_1_0) {
    throw new JsonProfileError('unsupported', xpathVersion.pointer, `unsupported XPathVersion (only ${XPATH_1_0})`);
  }
  const multi = req.get('MultiRequests');
  if (multi) throw new JsonProfileError('unsupported', multi.pointer, 'MultiRequests (Multiple Decision Profile) is not supported');
  for (const [shorthand, category] of Object.entries(CATEGORY_SHORTHANDS)) {
    const n = req.get(shorthand);
    if (!n) continue;
    // §4.2.2.2 (v1.1): a shorthand is one category object, or an array of them.
    const items = n.kind === 'array' ? n.items : [n];
    for (const item of items) request.categories.push(parseCategory(item, category));
  }
  const categoryList = req.get('Category');
  if (categoryList) for (const item of asArray(categoryList, 'Category')) request.categories.push(parseCategory(item, undefined));
  if (request.categories.length > JSON_REQUEST_LIMITS.maxArrayItems) {
    throw new JsonProfileError('too_large', reqNode.pointer, `more than ${JSON_REQUEST_LIMITS.maxArrayItems} categories`);
  }
  if (request.categories.length === 0) invalid(reqNode, 'Request must contain at least one category');
  return request;
}

/**
 * Parses a JSON Profile request (`{"Request": {...}}`) from its text. Throws JsonProfileError (with a JSON pointer)
 * for text that is not JSON, a request the profile does not allow, or one beyond {@link JSON_REQUEST_LIMITS}.
 */
export function parseJsonRequest(text: string): XacmlRequest {
  if (typeof text !== 'string') throw new JsonProfileError('invalid', '', 'the request must be JSON text');
  if (Buffer.byteLength(text, 'utf8') > JSON_REQUEST_LIMITS.maxBytes) {
    throw new JsonProfileError('too_large', '', `the request is larger than ${JSON_REQUEST_LIMITS.maxBytes} bytes`);
  }
  return requestFromNode(new JsonReader(text).read());
}

/**
 * Parses a JSON Profile request already parsed by JSON.parse (an express.json body). The same checks as
 * {@link parseJsonRequest}, except that how a number was written is lost: an integral number is an integer, any
 * other a double (a double written "1.0" arrives as 1 and reads as an integer unless DataType says double).
 */
export function parseJsonRequestValue(value: unknown): XacmlRequest {
  return requestFromNode(fromValue(value, '', 0));
}

// ---------------------------------------------------------------------------------------------------------------
// Response (§4.2.4 onwards: Response, Result, Status, Obligations, AssociatedAdvice, Category, PolicyIdentifierList)
// ---------------------------------------------------------------------------------------------------------------

/** JSON text for a value and whether the DataType can be left out (the reader would infer the same type). */
function jsonValue(v: AttributeValue): { json: string; inferable: boolean } {
  if (v.dataType === DataType.xpathExpression) {
    const x = v.value as XPathExpressionValue;
    const namespaces = Object.entries(x.namespaces).map(([prefix, uri]) => (prefix === '' ? { Namespace: uri } : { Prefix: prefix, Namespace: uri }));
    const obj: Record<string, unknown> = { XPathCategory: x.category, XPath: x.path };
    if (namespaces.length > 0) obj.Namespaces = namespaces;
    return { json: JSON.stringify(obj), inferable: false };
  }
  const text = formatValue(v);
  if (v.dataType === DataType.boolean) return { json: text === 'true' || text === '1' ? 'true' : 'false', inferable: true };
  if (v.dataType === DataType.integer && /^-?(?:0|[1-9]\d*)$/.test(text)) return { json: text, inferable: true };
  if (v.dataType === DataType.double && /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(text)) {
    return { json: text, inferable: /[.eE]/.test(text) };
  }
  return { json: JSON.stringify(text), inferable: v.dataType === DataType.string };
}

function shorthandOf(dataType: string): string {
  for (const [short, uri] of Object.entries(DATA_TYPE_SHORTHANDS)) if (uri === dataType) return short;
  return dataType;
}

/** Members in order; undefined ones left out. Values are JSON text already. */
function obj(members: [string, string | undefined][]): string {
  return `{${members
    .filter((m): m is [string, string] => m[1] !== undefined)
    .map(([k, v]) => `${JSON.stringify(k)}:${v}`)
    .join(',')}}`;
}

const q = (s: string | undefined): string | undefined => (s === undefined ? undefined : JSON.stringify(s));

function statusJson(s: Status): string {
  let code: string | undefined;
  const codes = [s.code, ...(s.subCodes ?? [])];
  for (let i = codes.length - 1; i >= 0; i--) code = obj([['Value', q(codes[i])], ['StatusCode', code]]);
  const missing = s.missingAttributes?.length
    ? `[${s.missingAttributes
        .map((d) => obj([['Category', q(d.category)], ['AttributeId', q(d.attributeId)], ['DataType', q(d.dataType)], ['Issuer', q(d.issuer)]]))
        .join(',')}]`
    : undefined;
  return obj([['StatusCode', code], ['StatusMessage', q(s.message)], ['StatusDetail', missing]]);
}

function itemsJson(items: PolicyEffectItem[]): string | undefined {
  if (items.length === 0) return undefined; // the profile's arrays have at least one item
  return `[${items
    .map((item) => {
      const assignments = item.assignments.map((a) => {
        const { json, inferable } = jsonValue(a.value);
        return obj([
          ['AttributeId', q(a.attributeId)],
          ['Value', json],
          ['Category', q(a.category)],
          ['DataType', inferable ? undefined : q(shorthandOf(a.value.dataType))],
          ['Issuer', q(a.issuer)],
        ]);
      });
      return obj([['Id', q(item.id)], ['AttributeAssignment', assignments.length ? `[${assignments.join(',')}]` : undefined]]);
    })
    .join(',')}]`;
}

function categoriesJson(categories: RequestCategory[]): string | undefined {
  if (categories.length === 0) return undefined;
  return `[${categories
    .map((c) =>
      obj([
        ['CategoryId', q(c.category)],
        ['Id', q(c.xmlId)],
        [
          'Attribute',
          `[${c.attributes
            .map((a) => {
              const written = a.values.map(jsonValue);
              const dataType = a.values[0]?.dataType ?? DataType.string;
              const inferable = written.every((w) => w.inferable);
              return obj([
                ['AttributeId', q(a.attributeId)],
                ['Value', written.length === 1 ? written[0]!.json : `[${written.map((w) => w.json).join(',')}]`],
                ['Issuer', q(a.issuer)],
                ['DataType', inferable ? undefined : q(shorthandOf(dataType))],
                ['IncludeInResult', 'true'],
              ]);
            })
            .join(',')}]`,
        ],
      ])
    )
    .join(',')}]`;
}

function idsJson(ids: PolicyIdentifier[]): string | undefined {
  return ids.length === 0 ? undefined : `[${ids.map((i) => obj([['Id', q(i.id)], ['Version', q(i.version)]])).join(',')}]`;
}

function resultJson(r: XacmlResult): string {
  return obj([
    ['Decision', q(r.decision)],
    ['Status', r.status ? statusJson(r.status) : undefined],
    ['Obligations', itemsJson(r.obligations)],
    ['AssociatedAdvice', itemsJson(r.advice)],
    ['Category', categoriesJson(r.attributes)],
    [
      'PolicyIdentifierList',
      r.policyIdentifiers
        ? obj([
            ['PolicyIdReference', idsJson(r.policyIdentifiers.policies)],
            ['PolicySetIdReference', idsJson(r.policyIdentifiers.policySets)],
          ])
        : undefined,
    ],
  ]);
}

/**
 * Writes a response as the JSON Profile's `{"Response": [Result, ...]}` text. Integers are written as JSON numbers
 * exactly (beyond 2^53 too); DataType is written (as its shorthand) only where the reader could not infer it.
 * This server's audit-only `decidedBy` is not part of the profile and is left out.
 */
export function responseToJson(response: XacmlResponse): string {
  return `{"Response":[${response.results.map(resultJson).join(',')}]}`;
}
