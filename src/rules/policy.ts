/**
 * Policy and PolicySet documents (XACML 3.0 §5.1-5.41): parsed from the DOM, validated against the schema's
 * structure and the functions' signatures (every error names the element, its line and column), and compiled into a
 * tree of closures that evaluation walks without looking at XML again.
 *
 * Policy(Set)IdReferences are compiled to placeholders; the Pdp resolves them against the policies it knows
 * (§5.10-5.13), so one loaded policy can serve several decision points.
 */
import { getFunction } from './functions/index.js';
import { RegexSyntaxError, compileRegex } from './functions/regexp.js';
import { isKnownDataType } from './functions/datatypes.js';
import { policyCombiningAlgorithm, ruleCombiningAlgorithm, type Combinable } from './combining.js';
import { designatorSlot, type RequestContext } from './context.js';
import { CompiledPolicy, CompiledRule, PolicyReference, apply, type CompiledEffectItem, type Expr } from './evaluate.js';
import { parseAttributeValueElement } from './request.js';
import type { CompiledMatch, CompiledTarget } from './target.js';
import { DataType, isBag, processingError, type AttributeValue, type ExprType, type FunctionDefinition, type Value } from './values.js';
import {
  POLICY_LIMITS,
  XACML_NS,
  XmlError,
  childElements,
  columnOf,
  lineOf,
  namespacesInScope,
  parseXml,
  textOf,
  xpath,
  type Element,
  type XPathExpression,
} from './xml.js';

export class PolicySyntaxError extends Error {
  line?: number;
  column?: number;
  policyId?: string;
  constructor(message: string, where?: { line?: number | undefined; column?: number | undefined; policyId?: string | undefined }) {
    const at = where?.line === undefined ? '' : `line ${where.line}, column ${where.column ?? 0}: `;
    super(`${at}${message}`);
    this.name = 'PolicySyntaxError';
    if (where?.line !== undefined) this.line = where.line;
    if (where?.column !== undefined) this.column = where.column;
    if (where?.policyId !== undefined) this.policyId = where.policyId;
  }
}

const STRING_EQUAL = 'urn:oasis:names:tc:xacml:1.0:function:string-equal';
const XPATH_1 = 'http://www.w3.org/TR/1999/REC-xpath-19991116';
const VERSION = /^\d+(\.\d+)*$/;
/** §5.13 VersionMatchType. */
const VERSION_MATCH = /^((\d+|\*)\.)*(\d+|\*|\+)$/;

/** What `loadPolicy` returns: one top-level <Policy> or <PolicySet>, compiled. */
export interface LoadedPolicy {
  readonly kind: 'Policy' | 'PolicySet';
  readonly id: string;
  readonly version: string;
  /** The compiled tree. */
  readonly compiled: CompiledPolicy;
  /** Every reference inside it (nested policy sets included), for the Pdp to resolve. */
  readonly references: readonly PolicyReference[];
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing, validation and compilation

interface VariableScope {
  readonly elements: Map<string, Element>;
  readonly compiled: Map<string, Expr>;
  readonly compiling: Set<string>;
}

class Compiler {
  readonly references: PolicyReference[] = [];
  private policyId: string | undefined;

  fail(el: Element, message: string): never {
    throw new PolicySyntaxError(`<${el.localName}>: ${message}`, { line: lineOf(el), column: columnOf(el), policyId: this.policyId });
  }

  private kids(el: Element): Element[] {
    const kids = childElements(el);
    for (const k of kids) if (k.namespaceURI !== XACML_NS) this.fail(k, `unexpected element in <${el.localName}> (namespace "${k.namespaceURI ?? ''}", expected ${XACML_NS})`);
    return kids;
  }

  private required(el: Element, name: string): string {
    if (!el.hasAttribute(name)) this.fail(el, `the required attribute ${name} is missing`);
    return el.getAttribute(name)!;
  }

  private optional(el: Element, name: string): string | undefined {
    return el.hasAttribute(name) ? el.getAttribute(name)! : undefined;
  }

  private booleanAttr(el: Element, name: string, required: boolean): boolean {
    const v = required ? this.required(el, name) : this.optional(el, name);
    if (v === undefined) return false;
    const t = v.trim();
    if (t === 'true' || t === '1') return true;
    if (t === 'false' || t === '0') return false;
    this.fail(el, `${name}="${v}" is not an xs:boolean`);
  }

  /** Checks the order and counts of children against a content model: [name, min, max] in sequence. */
  private sequence(el: Element, model: readonly (readonly [names: readonly string[], min: number, max: number])[]): Element[] {
    const kids = this.kids(el);
    let i = 0;
    for (const [names, min, max] of model) {
      let n = 0;
      while (i < kids.length && names.includes(kids[i]!.localName!) && n < max) {
        i++;
        n++;
      }
      if (n < min) this.fail(kids[i] ?? el, `<${el.localName}> needs ${min === 1 ? 'a' : min} <${names.join('> or <')}> here`);
    }
    if (i < kids.length) this.fail(kids[i]!, `unexpected element in <${el.localName}> (misplaced or unknown)`);
    return kids;
  }

  compileDocument(root: Element): LoadedPolicy {
    if (root.namespaceURI !== XACML_NS) this.fail(root, `the root element must be in namespace ${XACML_NS}`);
    if (root.localName === 'Policy') {
      const p = this.policy(root);
      return { kind: 'Policy', id: p.id, version: p.version, compiled: p, references: this.references };
    }
    if (root.localName === 'PolicySet') {
      const p = this.policySet(root);
      return { kind: 'PolicySet', id: p.id, version: p.version, compiled: p, references: this.references };
    }
    this.fail(root, 'the root element must be <Policy> or <PolicySet>');
  }

  private version(el: Element): string {
    const v = this.optional(el, 'Version') ?? '1.0'; // the schema's default
    if (!VERSION.test(v)) this.fail(el, `Version="${v}" is not a VersionType (digits separated by dots, §5.13)`);
    return v;
  }

  private defaults(el: Element): void {
    for (const k of this.kids(el)) {
      if (k.localName !== 'XPathVersion') this.fail(k, `unexpected element in <${el.localName}>`);
      const v = textOf(k).trim();
      if (v !== XPATH_1) this.fail(k, `unsupported XPathVersion "${v}" (only XPath 1.0, ${XPATH_1})`);
    }
  }

  private policy(el: Element): CompiledPolicy {
    const outer = this.policyId;
    const id = this.required(el, 'PolicyId');
    this.policyId = id;
    const version = this.version(el);
    const algId = this.required(el, 'RuleCombiningAlgId');
    const algorithm = ruleCombiningAlgorithm(algId);
    if (!algorithm) this.fail(el, `unknown rule-combining algorithm "${algId}"`);
    this.optional(el, 'MaxDelegationDepth');
    const kids = this.sequence(el, [
      [['Description'], 0, 1],
      [['PolicyIssuer'], 0, 1],
      [['PolicyDefaults'], 0, 1],
      [['Target'], 1, 1],
      [['CombinerParameters', 'RuleCombinerParameters', 'VariableDefinition', 'Rule'], 0, Infinity],
      [['ObligationExpressions'], 0, 1],
      [['AdviceExpressions'], 0, 1],
    ]);
    const scope: VariableScope = { elements: new Map(), compiled: new Map(), compiling: new Set() };
    for (const k of kids) {
      if (k.localName !== 'VariableDefinition') continue;
      const vid = this.required(k, 'VariableId');
      if (scope.elements.has(vid)) this.fail(k, `VariableId "${vid}" is defined twice in this policy (§5.24)`);
      scope.elements.set(vid, k);
    }
    let target: CompiledTarget = [];
    const rules: CompiledRule[] = [];
    const ruleIds = new Set<string>();
    let obligations: CompiledEffectItem[] = [];
    let advice: CompiledEffectItem[] = [];
    for (const k of kids) {
      switch (k.localName) {
        case 'PolicyDefaults':
          this.defaults(k);
          break;
        case 'Target':
          target = this.target(k, scope);
          break;
        case 'VariableDefinition':
          this.variable(this.required(k, 'VariableId'), scope); // every definition is checked, used or not
          break;
        case 'Rule': {
          const rule = this.rule(k, scope);
          if (ruleIds.has(rule.id)) this.fail(k, `RuleId "${rule.id}" is used twice in this policy`);
          ruleIds.add(rule.id);
          rules.push(rule);
          break;
        }
        case 'CombinerParameters':
        case 'RuleCombinerParameters':
          this.combinerParameters(k, scope);
          break;
        case 'ObligationExpressions':
          obligations = this.effectItems(k, 'Obligation', scope);
          break;
        case 'AdviceExpressions':
          advice = this.effectItems(k, 'Advice', scope);
          break;
        default: // Description, PolicyIssuer
      }
    }
    this.policyId = outer;
    return new CompiledPolicy('Policy', id, version, target, algorithm, rules, obligations, advice);
  }

  private policySet(el: Element): CompiledPolicy {
    const outer = this.policyId;
    const id = this.required(el, 'PolicySetId');
    this.policyId = id;
    const version = this.version(el);
    const algId = this.required(el, 'PolicyCombiningAlgId');
    const algorithm = policyCombiningAlgorithm(algId);
    if (!algorithm) this.fail(el, `unknown policy-combining algorithm "${algId}"`);
    this.optional(el, 'MaxDelegationDepth');
    const kids = this.sequence(el, [
      [['Description'], 0, 1],
      [['PolicyIssuer'], 0, 1],
      [['PolicySetDefaults'], 0, 1],
      [['Target'], 1, 1],
      [['PolicySet', 'Policy', 'PolicySetIdReference', 'PolicyIdReference', 'CombinerParameters', 'PolicyCombinerParameters', 'PolicySetCombinerParameters'], 0, Infinity],
      [['ObligationExpressions'], 0, 1],
      [['AdviceExpressions'], 0, 1],
    ]);
    const scope: VariableScope = { elements: new Map(), compiled: new Map(), compiling: new Set() };
    let target: CompiledTarget = [];
    const children: Combinable[] = [];
    let obligations: CompiledEffectItem[] = [];
    let advice: CompiledEffectItem[] = [];
    for (const k of kids) {
      switch (k.localName) {
        case 'PolicySetDefaults':
          this.defaults(k);
          break;
        case 'Target':
          target = this.target(k, scope);
          break;
        case 'Policy':
          children.push(this.policy(k));
          break;
        case 'PolicySet':
          children.push(this.policySet(k));
          break;
        case 'PolicyIdReference':
        case 'PolicySetIdReference':
          children.push(this.reference(k));
          break;
        case 'CombinerParameters':
        case 'PolicyCombinerParameters':
        case 'PolicySetCombinerParameters':
          this.combinerParameters(k, scope);
          break;
        case 'ObligationExpressions':
          obligations = this.effectItems(k, 'Obligation', scope);
          break;
        case 'AdviceExpressions':
          advice = this.effectItems(k, 'Advice', scope);
          break;
        default:
      }
    }
    this.policyId = outer;
    return new CompiledPolicy('PolicySet', id, version, target, algorithm, children, obligations, advice);
  }

  private reference(el: Element): PolicyReference {
    this.kids(el).forEach((k) => this.fail(k, `unexpected element in <${el.localName}>`));
    const id = textOf(el).trim();
    if (!id) this.fail(el, 'the reference names no policy');
    const constraints: { version?: string; earliest?: string; latest?: string } = {};
    for (const [attr, key] of [['Version', 'version'], ['EarliestVersion', 'earliest'], ['LatestVersion', 'latest']] as const) {
      const v = this.optional(el, attr);
      if (v === undefined) continue;
      if (!VERSION_MATCH.test(v)) this.fail(el, `${attr}="${v}" is not a VersionMatchType (§5.13)`);
      constraints[key] = v;
    }
    const ref = new PolicyReference(el.localName === 'PolicyIdReference' ? 'Policy' : 'PolicySet', id, constraints, lineOf(el), columnOf(el));
    this.references.push(ref);
    return ref;
  }

  /** §5.17-5.20: accepted and checked; no standard combining algorithm takes parameters. */
  private combinerParameters(el: Element, scope: VariableScope): void {
    if (el.localName === 'RuleCombinerParameters') this.required(el, 'RuleIdRef');
    if (el.localName === 'PolicyCombinerParameters') this.required(el, 'PolicyIdRef');
    if (el.localName === 'PolicySetCombinerParameters') this.required(el, 'PolicySetIdRef');
    for (const p of this.kids(el)) {
      if (p.localName !== 'CombinerParameter') this.fail(p, `unexpected element in <${el.localName}>`);
      this.required(p, 'ParameterName');
      const v = this.sequence(p, [[['AttributeValue'], 1, 1]]);
      this.expression(v[0]!, scope);
    }
  }

  private rule(el: Element, scope: VariableScope): CompiledRule {
    const id = this.required(el, 'RuleId');
    const effect = this.required(el, 'Effect');
    if (effect !== 'Permit' && effect !== 'Deny') this.fail(el, `Effect="${effect}" must be Permit or Deny`);
    const kids = this.sequence(el, [
      [['Description'], 0, 1],
      [['Target'], 0, 1],
      [['Condition'], 0, 1],
      [['ObligationExpressions'], 0, 1],
      [['AdviceExpressions'], 0, 1],
    ]);
    let target: CompiledTarget = [];
    let condition: Expr | undefined;
    let obligations: CompiledEffectItem[] = [];
    let advice: CompiledEffectItem[] = [];
    for (const k of kids) {
      if (k.localName === 'Target') target = this.target(k, scope);
      else if (k.localName === 'Condition') {
        const e = this.sequence(k, [[EXPRESSIONS, 1, 1]]);
        condition = this.expression(e[0]!, scope);
        const t = condition.type;
        // §5.25: a Condition is a boolean expression.
        if (t.kind !== 'value' || t.dataType !== DataType.boolean) this.fail(e[0]!, `a <Condition> must evaluate to one boolean, not ${describe(t)}`);
      } else if (k.localName === 'ObligationExpressions') obligations = this.effectItems(k, 'Obligation', scope);
      else if (k.localName === 'AdviceExpressions') advice = this.effectItems(k, 'Advice', scope);
    }
    return new CompiledRule(id, effect, target, condition, obligations, advice);
  }

  private target(el: Element, scope: VariableScope): CompiledTarget {
    return this.sequence(el, [[['AnyOf'], 0, Infinity]]).map((anyOf) =>
      this.sequence(anyOf, [[['AllOf'], 1, Infinity]]).map((allOf) => this.sequence(allOf, [[['Match'], 1, Infinity]]).map((m) => this.match(m, scope))),
    );
  }

  private match(el: Element, scope: VariableScope): CompiledMatch {
    const fnId = this.required(el, 'MatchId');
    const fn = getFunction(fnId);
    if (!fn) this.fail(el, `unknown MatchId function "${fnId}"`);
    const [valueEl, sourceEl] = this.sequence(el, [
      [['AttributeValue'], 1, 1],
      [['AttributeDesignator', 'AttributeSelector'], 1, 1],
    ]) as [Element, Element];
    const literal = this.literal(valueEl);
    const bag = this.expression(sourceEl, scope);
    // §7.6: MatchId takes the literal first and one member of the bag second, and returns a boolean.
    let result: ExprType;
    try {
      result = fn.check([{ kind: 'value', dataType: literal.dataType }, { kind: 'value', dataType: (bag.type as { dataType: string }).dataType }]);
    } catch (err) {
      this.fail(el, `MatchId ${fnId}: ${(err as Error).message}`);
    }
    if (result.kind !== 'value' || result.dataType !== DataType.boolean) this.fail(el, `MatchId ${fnId} must return a boolean, not ${describe(result)}`);
    if (takesPattern(fn)) this.checkPatterns(valueEl, fnId, literal);
    const m: { -readonly [K in keyof CompiledMatch]: CompiledMatch[K] } = { fn, literal, bag };
    if (fnId === STRING_EQUAL && literal.dataType === DataType.string && typeof literal.value === 'string' && bag.type.kind === 'bag' && bag.type.dataType === DataType.string) {
      m.stringEqual = true;
    }
    if (sourceEl.localName === 'AttributeDesignator') {
      m.designator = {
        category: sourceEl.getAttribute('Category')!,
        attributeId: sourceEl.getAttribute('AttributeId')!,
        dataType: sourceEl.getAttribute('DataType')!,
        issuer: this.optional(sourceEl, 'Issuer'),
        mustBePresent: this.booleanAttr(sourceEl, 'MustBePresent', true),
      };
    }
    return m;
  }

  private effectItems(el: Element, kind: 'Obligation' | 'Advice', scope: VariableScope): CompiledEffectItem[] {
    const itemName = `${kind}Expression`;
    const idAttr = `${kind}Id`;
    const onAttr = kind === 'Obligation' ? 'FulfillOn' : 'AppliesTo';
    return this.sequence(el, [[[itemName], 1, Infinity]]).map((item) => {
      const id = this.required(item, idAttr);
      const on = this.required(item, onAttr);
      if (on !== 'Permit' && on !== 'Deny') this.fail(item, `${onAttr}="${on}" must be Permit or Deny`);
      const assignments = this.sequence(item, [[['AttributeAssignmentExpression'], 0, Infinity]]).map((a) => {
        const attributeId = this.required(a, 'AttributeId');
        const e = this.sequence(a, [[EXPRESSIONS, 1, 1]]);
        const expr = this.expression(e[0]!, scope);
        if (expr.type.kind === 'function') this.fail(e[0]!, 'an attribute assignment needs a value or a bag, not a function');
        return { attributeId, category: this.optional(a, 'Category'), issuer: this.optional(a, 'Issuer'), expr };
      });
      return { id, on, assignments };
    });
  }

  private variable(id: string, scope: VariableScope): Expr {
    const done = scope.compiled.get(id);
    if (done) return done;
    const el = scope.elements.get(id)!;
    if (scope.compiling.has(id)) this.fail(el, `VariableDefinition "${id}" refers to itself (directly or through other variables)`);
    scope.compiling.add(id);
    const e = this.sequence(el, [[EXPRESSIONS, 1, 1]]);
    const inner = this.expression(e[0]!, scope);
    scope.compiling.delete(id);
    const key = {};
    const expr: Expr = { type: inner.type, evaluate: (ctx) => ctx.variable(key, () => inner.evaluate(ctx)) };
    scope.compiled.set(id, expr);
    return expr;
  }

  /** §5.25 Expression substitution group. */
  private expression(el: Element, scope: VariableScope): Expr {
    switch (el.localName) {
      case 'AttributeValue': {
        const value = this.literal(el);
        const type: ExprType = { kind: 'value', dataType: value.dataType };
        return { type, constant: true, evaluate: () => value };
      }
      case 'AttributeDesignator': {
        const category = this.required(el, 'Category');
        const attributeId = this.required(el, 'AttributeId');
        const dataType = this.dataType(el);
        const issuer = this.optional(el, 'Issuer');
        const mustBePresent = this.booleanAttr(el, 'MustBePresent', true);
        this.sequence(el, []);
        const slot = designatorSlot(category, attributeId, dataType, issuer);
        if (slot < 0) return { type: { kind: 'bag', dataType }, evaluate: (ctx) => ctx.designate(category, attributeId, dataType, issuer, mustBePresent) };
        return { type: { kind: 'bag', dataType }, evaluate: (ctx) => ctx.designateSlot(slot, category, attributeId, dataType, issuer, mustBePresent) };
      }
      case 'AttributeSelector': {
        const category = this.required(el, 'Category');
        const path = this.required(el, 'Path');
        const dataType = this.dataType(el);
        const contextSelectorId = this.optional(el, 'ContextSelectorId');
        const mustBePresent = this.booleanAttr(el, 'MustBePresent', true);
        const namespaces = namespacesInScope(el);
        delete namespaces[''];
        this.sequence(el, []);
        let compiled: XPathExpression;
        try {
          compiled = xpath.parse(path);
        } catch (err) {
          this.fail(el, `Path "${path}" is not an XPath 1.0 expression: ${(err as Error).message}`);
        }
        const selector = { category, path, compiled, dataType, contextSelectorId, namespaces, mustBePresent };
        return { type: { kind: 'bag', dataType }, evaluate: (ctx) => ctx.select(selector) };
      }
      case 'VariableReference': {
        const id = this.required(el, 'VariableId');
        this.sequence(el, []);
        if (!scope.elements.has(id)) this.fail(el, `no VariableDefinition "${id}" in this policy`);
        return this.variable(id, scope);
      }
      case 'Function': {
        const fn = this.function(el, 'FunctionId');
        this.sequence(el, []);
        return {
          type: { kind: 'function', fn },
          constant: true,
          evaluate: () => {
            throw processingError(`the function ${fn.id} is not a value`);
          },
        };
      }
      case 'Apply': {
        const fn = this.function(el, 'FunctionId');
        const kids = this.sequence(el, [
          [['Description'], 0, 1],
          [EXPRESSIONS, 0, Infinity],
        ]);
        const argEls = kids.filter((k) => k.localName !== 'Description');
        const args = argEls.map((k) => this.expression(k, scope));
        let type: ExprType;
        try {
          type = fn.check(args.map((a) => a.type));
        } catch (err) {
          this.fail(el, `${fn.id}: ${(err as Error).message}`);
        }
        // A constant pattern is compiled now, so a bad one is an error of the policy at its line, not an Indeterminate
        // at every evaluation. The higher-order functions (§A.3.12) pass their second argument (a value or a bag) as
        // the first parameter of the function they apply.
        const [first] = args;
        const patternAt = takesPattern(fn) ? 0 : first?.type.kind === 'function' && takesPattern(first.type.fn) ? 1 : -1;
        const pattern = args[patternAt];
        if (pattern?.constant) this.checkPatterns(argEls[patternAt]!, patternAt === 0 ? fn.id : `${fn.id} of ${(first!.type as { fn: FunctionDefinition }).fn.id}`, pattern.evaluate(FOLDING_CONTEXT));
        if (args.every((a) => a.constant)) {
          // Constant folding: a call on literals alone has one result for every request, so it is computed once
          // here, and a call that can only fail (string-substring with a negative index, a division by zero) is a
          // static error of the policy (conformance tests IIC332, IIC335).
          let value: Value | undefined;
          try {
            value = apply(fn, args, FOLDING_CONTEXT);
          } catch (err) {
            if (err !== NEEDS_REQUEST) this.fail(el, `${fn.id} fails on these constant arguments: ${(err as Error).message}`);
          }
          if (value !== undefined) {
            const folded = value;
            return { type, constant: true, evaluate: () => folded };
          }
        }
        return { type, evaluate: (ctx) => apply(fn, args, ctx) };
      }
      default:
        this.fail(el, 'is not an expression (AttributeValue, AttributeDesignator, AttributeSelector, Apply, Function or VariableReference)');
    }
  }

  private literal(el: Element): AttributeValue {
    try {
      return parseAttributeValueElement(el);
    } catch (err) {
      this.fail(el, (err as Error).message.replace(/^<AttributeValue>:?\s*/, ''));
    }
  }

  /** Compiles each string of a constant pattern argument (§A.3.13: an XML Schema regular expression). */
  private checkPatterns(el: Element, what: string, patterns: Value): void {
    for (const p of isBag(patterns) ? patterns.values : [patterns]) {
      if (typeof p.value !== 'string') continue;
      try {
        compileRegex(p.value);
      } catch (err) {
        if (err instanceof RegexSyntaxError) this.fail(el, `${what}: ${err.message}`);
        throw err;
      }
    }
  }

  private function(el: Element, attr: string): FunctionDefinition {
    const id = this.required(el, attr);
    const fn = getFunction(id);
    if (!fn) this.fail(el, `unknown function "${id}"`);
    return fn;
  }

  private dataType(el: Element): string {
    const dt = this.required(el, 'DataType');
    if (!isKnownDataType(dt)) this.fail(el, `unknown DataType "${dt}"`);
    return dt;
  }
}

/** The functions whose first parameter is a regular expression (§A.3.13 string-regexp-match, §A.3.14 the others). */
function takesPattern(fn: FunctionDefinition): boolean {
  return fn.id.endsWith('-regexp-match');
}

/** Thrown by the folding context: the call needs a request (an xpath function reading <Content>). */
const NEEDS_REQUEST = new Error('needs a request');
const FOLDING_CONTEXT = {
  selectNodes(): never {
    throw NEEDS_REQUEST;
  },
} as unknown as RequestContext;

const EXPRESSIONS = ['AttributeValue', 'AttributeDesignator', 'AttributeSelector', 'Apply', 'Function', 'VariableReference'] as const;

function describe(t: ExprType): string {
  if (t.kind === 'function') return `the function ${t.fn.id}`;
  return t.kind === 'bag' ? `a bag of ${t.dataType}` : `a ${t.dataType}`;
}

/**
 * Parses, validates and compiles one <Policy> or <PolicySet> document. Bounded by POLICY_LIMITS.
 * Throws PolicySyntaxError (with line and column) for anything the schema or a function signature refuses.
 *
 * @example
 *   const p = loadPolicy(xml); // { kind: 'Policy', id: 'urn:example:policy', version: '1.0', ... }
 */
export function loadPolicy(xml: string): LoadedPolicy {
  let root: Element;
  try {
    root = parseXml(xml, POLICY_LIMITS, 'the policy').documentElement!;
  } catch (err) {
    if (err instanceof XmlError) throw new PolicySyntaxError(err.message.replace(/^line \d+, column \d+: /, ''), { line: err.line, column: err.column });
    throw err;
  }
  return new Compiler().compileDocument(root);
}

