/**
 * The per-request evaluation context: attribute lookup for AttributeDesignator (§5.29, §7.3.5) and AttributeSelector
 * (§5.30, §7.3.7), the environment's current time (§10.2.5), the variable cache (§5.24), the XPath documents of
 * <Content>, and the applicable-policy list for ReturnPolicyIdList. One per individual decision request.
 */
import { DOMImplementation } from '@xmldom/xmldom';
import { formatValue, parseValue } from './functions/datatypes.js';
import type { RequestAttribute, RequestCategory } from './request.js';
import type { PolicyIdentifier } from './response.js';
import {
  DataType,
  IndeterminateError,
  StatusCode,
  bagOf,
  type AttributeValue,
  type Bag,
  type EvaluationContext,
  type MissingAttributeDetail,
  type Value,
} from './values.js';
import { childElements, xpath, type Document, type Element, type XPathExpression } from './xml.js';

/** A compiled <AttributeSelector> (§5.30). */
export interface CompiledSelector {
  readonly category: string;
  readonly path: string;
  readonly compiled: XPathExpression;
  readonly dataType: string;
  readonly contextSelectorId: string | undefined;
  readonly namespaces: Record<string, string>;
  readonly mustBePresent: boolean;
}

export const ENVIRONMENT = 'urn:oasis:names:tc:xacml:3.0:attribute-category:environment';
const CURRENT_TIME = 'urn:oasis:names:tc:xacml:1.0:environment:current-time';
const CURRENT_DATE = 'urn:oasis:names:tc:xacml:1.0:environment:current-date';
const CURRENT_DATETIME = 'urn:oasis:names:tc:xacml:1.0:environment:current-dateTime';

/** One applicable policy or policy set, for ReturnPolicyIdList (§5.53). */
export interface AppliedPolicy extends PolicyIdentifier {
  kind: 'Policy' | 'PolicySet';
}

interface VariableSlot {
  value?: Value;
  error?: Error;
}

const domImplementation = new DOMImplementation();

/** Designator slots shared by every compiled policy (see RequestContext.designateSlot); bounded. */
const designatorSlots = new Map<string, number>();
const MAX_DESIGNATOR_SLOTS = 100_000;

/** The slot of a designator, or -1 when the table is full (then it is looked up every time, which is only slower). */
export function designatorSlot(category: string, attributeId: string, dataType: string, issuer: string | undefined): number {
  const key = `${category}\u0000${attributeId}\u0000${dataType}\u0000${issuer ?? '\u0001'}`;
  let slot = designatorSlots.get(key);
  if (slot === undefined) {
    if (designatorSlots.size >= MAX_DESIGNATOR_SLOTS) return -1;
    designatorSlots.set(key, (slot = designatorSlots.size));
  }
  return slot;
}

/**
 * One individual decision request being evaluated. Built once per request; everything it computes (attribute
 * indexes, variable values, content documents) is cached here and thrown away with it.
 */
export class RequestContext implements EvaluationContext {
  /** category -> attributeId -> attributes (one per <Attribute> element, issuers kept apart). */
  private readonly attributes = new Map<string, Map<string, RequestAttribute[]>>();
  private readonly contents = new Map<string, unknown>();
  private readonly documents = new Map<string, Document>();
  private readonly variables = new Map<object, VariableSlot>();
  // Sized to the slot table up front: a holey array of known length stays fast, a sparse one would not.
  private readonly bags = new Array<Bag | undefined>(designatorSlots.size);
  private readonly missing: (IndeterminateError | undefined)[] = [];
  /** The applicable policies so far, when ReturnPolicyIdList asks for them (shared by a request's profiles); see Pdp. */
  readonly applied: AppliedPolicy[] | undefined;
  /** Resolved Policy(Set)IdReferences of the Pdp evaluating this request (reference node -> target). */
  readonly references: ReadonlyMap<object, unknown>;
  /** The Pdp's own bookkeeping for this request (its top level's request profiles and results). */
  pdpState: unknown;
  private readonly now: Date | undefined;

  constructor(categories: readonly RequestCategory[], options: { applied: AppliedPolicy[] | undefined; references: ReadonlyMap<object, unknown>; now: Date | undefined }) {
    for (const c of categories) {
      let byId = this.attributes.get(c.category);
      if (!byId) this.attributes.set(c.category, (byId = new Map<string, RequestAttribute[]>()));
      for (const a of c.attributes) {
        const list = byId.get(a.attributeId);
        if (list) list.push(a);
        else byId.set(a.attributeId, [a]);
      }
      if (c.content !== undefined) this.contents.set(c.category, c.content);
    }
    this.applied = options.applied;
    this.references = options.references;
    this.now = options.now;
  }

  /**
   * A compiled designator's bag, computed once per request: designators of the same category, id, data type and
   * issuer share a slot (designatorSlot), so each is looked up once however many policies ask.
   */
  designateSlot(slot: number, category: string, attributeId: string, dataType: string, issuer: string | undefined, mustBePresent: boolean): Bag {
    let bag = this.bags[slot];
    if (bag === undefined) this.bags[slot] = bag = this.designate(category, attributeId, dataType, issuer, false);
    if (bag.values.length === 0 && mustBePresent) {
      // One error per request and slot: every rule that needs the attribute reports the same absence.
      let error = this.missing[slot];
      if (!error) {
        try {
          this.designate(category, attributeId, dataType, issuer, true);
        } catch (err) {
          error = this.missing[slot] = err as IndeterminateError;
        }
      }
      throw error!;
    }
    return bag;
  }

  /** AttributeDesignator (§5.29, §7.3.5): the values of that category, id and data type; any issuer unless given. */
  designate(category: string, attributeId: string, dataType: string, issuer: string | undefined, mustBePresent: boolean): Bag {
    const list = this.attributes.get(category)?.get(attributeId);
    let values: AttributeValue[] | undefined;
    if (list) {
      for (const a of list) {
        if (issuer !== undefined && a.issuer !== issuer) continue;
        for (const v of a.values) if (v.dataType === dataType) (values ??= []).push(v);
      }
    }
    // No value of this id *and data type*: a request may carry current-time as a string (WSO2's provisioning
    // requests do) and still ask the context handler for the xs:time, as Balana's finder answers (§10.2.5).
    // Keep it so: src/rules/wso2-policies.test.ts (WSO2's time templates) fails with `&& !list` here.
    if (!values && category === ENVIRONMENT && issuer === undefined) {
      const v = this.environmentNow(attributeId, dataType);
      if (v) values = [v];
    }
    if (!values) {
      if (mustBePresent) {
        const missing: MissingAttributeDetail = { category, attributeId, dataType, issuer };
        throw new IndeterminateError(StatusCode.missingAttribute, `missing attribute ${attributeId} (${category}, ${dataType}${issuer === undefined ? '' : `, issuer ${issuer}`})`, [missing]);
      }
      return bagOf(dataType, []);
    }
    return bagOf(dataType, values);
  }

  /** §10.2.5: current-time, -date and -dateTime come from the context handler's clock when the request lacks them. */
  private environmentNow(attributeId: string, dataType: string): AttributeValue | undefined {
    if (!this.now) return undefined;
    const iso = this.now.toISOString(); // 2026-12-02T02:35:33.123Z
    if (attributeId === CURRENT_DATETIME && dataType === DataType.dateTime) return parseValue(DataType.dateTime, iso);
    if (attributeId === CURRENT_DATE && dataType === DataType.date) return parseValue(DataType.date, `${iso.slice(0, 10)}Z`);
    if (attributeId === CURRENT_TIME && dataType === DataType.time) return parseValue(DataType.time, iso.slice(11));
    return undefined;
  }

  /**
   * The content of a category as XPath sees it (§7.3.7): a document whose document element is the single child of
   * <Content>. Built once per request and category.
   */
  contentDocument(category: string): Document | undefined {
    const cached = this.documents.get(category);
    if (cached) return cached;
    const content = this.contents.get(category);
    if (content === undefined) return undefined;
    let doc: Document;
    if ((content as { nodeType?: number }).nodeType === 9) doc = content as Document;
    else {
      const child = childElements(content as Element)[0];
      if (!child) return undefined;
      doc = domImplementation.createDocument(null, null as unknown as string);
      doc.appendChild(doc.importNode(child, true));
    }
    this.documents.set(category, doc);
    return doc;
  }

  /** Evaluates an XPath 1.0 node-set expression against a node; throws IndeterminateError on any failure. */
  evaluateXPath(path: string, node: unknown, namespaces: Record<string, string>, compiled?: XPathExpression): unknown[] {
    try {
      return (compiled ?? xpath.parse(path)).select({ node, namespaces: (p: string) => namespaces[p] ?? null });
    } catch (err) {
      throw new IndeterminateError(StatusCode.processingError, `XPath "${path}" cannot be evaluated: ${(err as Error).message}`);
    }
  }

  /** EvaluationContext for the xpath functions (§A.3.15): the nodes an xpathExpression selects in its category. */
  selectNodes(expression: AttributeValue): readonly unknown[] {
    const x = expression.value as { path: string; category: string; namespaces: Record<string, string> };
    const doc = this.contentDocument(x.category);
    if (!doc) throw new IndeterminateError(StatusCode.processingError, `no <Content> in category ${x.category} for XPath "${x.path}"`);
    return this.evaluateXPath(x.path, doc, x.namespaces);
  }

  /** AttributeSelector (§5.30, §7.3.7). */
  select(selector: CompiledSelector): Bag {
    const { category, path, dataType, contextSelectorId, namespaces, mustBePresent } = selector;
    const doc = this.contentDocument(category);
    const missing = (why: string): Bag => {
      if (mustBePresent) {
        throw new IndeterminateError(StatusCode.missingAttribute, `AttributeSelector ${path} in ${category}: ${why}`, [{ category, attributeId: path, dataType }]);
      }
      return bagOf(dataType, []);
    };
    if (!doc) return missing('the request has no <Content> in that category');
    let contexts: unknown[] = [doc];
    if (contextSelectorId !== undefined) {
      // The context node(s): the nodes the xpathExpression attribute of that id selects (§7.3.7 step 2).
      const sel = this.designate(category, contextSelectorId, DataType.xpathExpression, undefined, false);
      if (sel.values.length === 0) return missing(`no ${contextSelectorId} xpathExpression attribute to select the context node`);
      if (sel.values.length > 1) throw new IndeterminateError(StatusCode.syntaxError, `ContextSelectorId ${contextSelectorId} has more than one value`);
      contexts = [...this.selectNodes(sel.values[0]!)];
      if (contexts.length !== 1) throw new IndeterminateError(StatusCode.processingError, `ContextSelectorId ${contextSelectorId} selects ${contexts.length} nodes, not one`);
    }
    const values: AttributeValue[] = [];
    for (const ctxNode of contexts) {
      for (const n of this.evaluateXPath(path, ctxNode, namespaces, selector.compiled)) {
        const node = n as { nodeType: number; nodeValue: string | null; textContent?: string | null };
        // Text, attribute and element nodes become values through their string value (§7.3.7 step 4).
        const text = node.nodeType === 2 || node.nodeType === 3 || node.nodeType === 4 ? (node.nodeValue ?? '') : (node.textContent ?? '');
        try {
          values.push(parseValue(dataType, text));
        } catch (err) {
          throw new IndeterminateError(StatusCode.syntaxError, `AttributeSelector ${path}: "${text}" is not a ${dataType}: ${(err as Error).message}`);
        }
      }
    }
    if (values.length === 0) return missing('the path selects no node');
    return bagOf(dataType, values);
  }

  /** VariableReference (§5.24): each definition is evaluated at most once per request, its error remembered too. */
  variable(definition: object, compute: () => Value): Value {
    let slot = this.variables.get(definition);
    if (!slot) {
      slot = {};
      try {
        slot.value = compute();
      } catch (err) {
        slot.error = err instanceof Error ? err : new Error(String(err));
      }
      this.variables.set(definition, slot);
    }
    if (slot.error !== undefined) throw slot.error;
    return slot.value!;
  }

  /** Calls `visit` with every string value of the request (for the target index), without allocating. */
  forEachStringValue(visit: (category: string, attributeId: string, value: string) => void): void {
    for (const [category, byId] of this.attributes) {
      for (const [id, list] of byId) {
        for (const a of list) {
          for (const v of a.values) {
            if (v.dataType === DataType.string) visit(category, id, typeof v.value === 'string' ? v.value : formatValue(v));
          }
        }
      }
    }
  }

  /** Whether the request has a string value of that category and attribute (any issuer). */
  hasStringValue(category: string, attributeId: string): boolean {
    const list = this.attributes.get(category)?.get(attributeId);
    if (list) for (const a of list) for (const v of a.values) if (v.dataType === DataType.string) return true;
    return false;
  }
}
