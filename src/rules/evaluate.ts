/**
 * Evaluation (XACML 3.0 §7): compiled expressions (Expr), the outcome of a rule, policy or policy set (decision,
 * extended Indeterminate §7.10, status, obligations and advice §7.18), and the compiled tree's nodes: CompiledRule
 * (§7.11), CompiledPolicy for Policy and PolicySet (§7.12, §7.13) and PolicyReference. policy.ts builds the tree;
 * context.ts holds what one request provides.
 */
import type { Combinable, CombiningAlgorithm } from './combining.js';
import type { RequestContext } from './context.js';
import type { AttributeAssignment, PolicyEffectItem, Status } from './response.js';
import { ChildIndex, evaluateTarget, indexEntryOf, type CompiledTarget, type IndexEntry } from './target.js';
import { IndeterminateError, StatusCode, isBag, processingError, type Argument, type ExprType, type FunctionDefinition, type Value } from './values.js';

/** A compiled expression (§5.25): its static type, and its evaluation against one request. Throws IndeterminateError. */
export interface Expr {
  readonly type: ExprType;
  /** The same value for every request (a literal, a <Function>, a call on constants), known at compile time. */
  readonly constant?: boolean;
  evaluate(ctx: RequestContext): Value;
}

export type Indeterminacy = 'D' | 'P' | 'DP';

/** What a rule, policy or policy set evaluates to (§7.11-7.14), with what it carries up. */
export interface Outcome {
  readonly decision: 'Permit' | 'Deny' | 'NotApplicable' | 'Indeterminate';
  /** Extended Indeterminate (§7.10), for Indeterminate only. */
  readonly ext?: Indeterminacy;
  readonly status?: Status;
  readonly obligations: readonly PolicyEffectItem[];
  readonly advice: readonly PolicyEffectItem[];
}

const NONE: readonly PolicyEffectItem[] = Object.freeze([]);
export const NOT_APPLICABLE: Outcome = Object.freeze({ decision: 'NotApplicable', obligations: NONE, advice: NONE });
export const EMPTY_ITEMS = NONE;

export function indeterminate(ext: Indeterminacy, status: Status): Outcome {
  return { decision: 'Indeterminate', ext, status, obligations: NONE, advice: NONE };
}

export function statusOf(err: unknown): Status {
  if (err instanceof IndeterminateError) {
    const s: Status = { code: err.statusCode, message: err.message };
    if (err.missing.length > 0) s.missingAttributes = [...err.missing];
    return s;
  }
  return { code: StatusCode.processingError, message: (err as Error)?.message ?? String(err) };
}

/** A match of a Target (§7.7): Match, NoMatch, or Indeterminate with its reason. */
export type MatchResult = true | false | IndeterminateError;


type Effect = 'Permit' | 'Deny';

export interface CompiledAssignment {
  readonly attributeId: string;
  readonly category: string | undefined;
  readonly issuer: string | undefined;
  readonly expr: Expr;
}
/** An ObligationExpression or AdviceExpression (§5.39, §5.40). */
export interface CompiledEffectItem {
  readonly id: string;
  readonly on: Effect;
  readonly assignments: readonly CompiledAssignment[];
}

/** Evaluates the obligations and advice that apply to `decision` (§7.18); throws IndeterminateError. */
function effectItems(items: readonly CompiledEffectItem[], decision: Effect, ctx: RequestContext): PolicyEffectItem[] {
  const out: PolicyEffectItem[] = [];
  for (const item of items) {
    if (item.on !== decision) continue;
    const assignments: AttributeAssignment[] = [];
    for (const a of item.assignments) {
      const v = a.expr.evaluate(ctx);
      // §5.41: a bag gives one AttributeAssignment per member (none for an empty bag).
      for (const value of isBag(v) ? v.values : [v]) {
        const assignment: AttributeAssignment = { attributeId: a.attributeId, value };
        if (a.category !== undefined) assignment.category = a.category;
        if (a.issuer !== undefined) assignment.issuer = a.issuer;
        assignments.push(assignment);
      }
    }
    out.push({ id: item.id, assignments });
  }
  return out;
}

/** Adds a node's own obligations and advice to a Permit or Deny outcome (§7.18); an error makes it Indeterminate. */
function withEffects(o: Outcome, obligations: readonly CompiledEffectItem[], advice: readonly CompiledEffectItem[], ctx: RequestContext): Outcome {
  if (obligations.length === 0 && advice.length === 0) return o;
  const decision = o.decision as Effect;
  try {
    const ob = effectItems(obligations, decision, ctx);
    const ad = effectItems(advice, decision, ctx);
    if (ob.length === 0 && ad.length === 0) return o;
    return {
      decision,
      obligations: ob.length === 0 ? o.obligations : [...o.obligations, ...ob],
      advice: ad.length === 0 ? o.advice : [...o.advice, ...ad],
    };
  } catch (err) {
    return indeterminate(decision === 'Permit' ? 'P' : 'D', statusOf(err));
  }
}

/** A <Rule> (§5.21), evaluated per §7.11. */
export class CompiledRule implements Combinable {
  private readonly plain: Outcome;
  constructor(
    readonly id: string,
    readonly effect: Effect,
    readonly target: CompiledTarget,
    readonly condition: Expr | undefined,
    readonly obligations: readonly CompiledEffectItem[],
    readonly advice: readonly CompiledEffectItem[],
  ) {
    this.plain = Object.freeze({ decision: effect, obligations: EMPTY_ITEMS, advice: EMPTY_ITEMS });
  }

  matchTarget(ctx: RequestContext): MatchResult {
    return evaluateTarget(this.target, ctx);
  }

  evaluate(ctx: RequestContext): Outcome {
    const ext = this.effect === 'Permit' ? 'P' : 'D';
    const t = this.target.length === 0 ? true : evaluateTarget(this.target, ctx);
    if (t === false) return NOT_APPLICABLE;
    if (t !== true) return indeterminate(ext, statusOf(t));
    if (this.condition) {
      let v: Value;
      try {
        v = this.condition.evaluate(ctx);
      } catch (err) {
        return indeterminate(ext, statusOf(err));
      }
      if (isBag(v) || v.value !== true) return NOT_APPLICABLE;
    }
    return withEffects(this.plain, this.obligations, this.advice, ctx);
  }
}

/** A <Policy> (§5.14, evaluated per §7.12) or a <PolicySet> (§5.1, §7.13). */
export class CompiledPolicy implements Combinable {
  /** The children's target index, per Pdp (references index through what that Pdp bound them to). */
  private readonly indexes = new WeakMap<ReadonlyMap<object, unknown>, ChildIndex<Combinable> | null>();
  constructor(
    readonly kind: 'Policy' | 'PolicySet',
    readonly id: string,
    readonly version: string,
    readonly target: CompiledTarget,
    readonly algorithm: CombiningAlgorithm,
    readonly children: readonly Combinable[],
    readonly obligations: readonly CompiledEffectItem[],
    readonly advice: readonly CompiledEffectItem[],
  ) {}

  private index(references: ReadonlyMap<object, unknown>): ChildIndex<Combinable> | null {
    let index = this.indexes.get(references);
    if (index === undefined) {
      const built = new ChildIndex(this.children, (child) => childIndexEntry(child, references));
      index = built.indexed > 0 ? built : null;
      this.indexes.set(references, index);
    }
    return index;
  }

  matchTarget(ctx: RequestContext): MatchResult {
    return this.target.length === 0 ? true : evaluateTarget(this.target, ctx);
  }

  evaluate(ctx: RequestContext): Outcome {
    const applied = ctx.applied;
    const mark = applied ? applied.length : 0;
    applied?.push({ kind: this.kind, id: this.id, version: this.version });
    const o = this.decide(ctx);
    // Only a policy that applies lists itself and what applied beneath it (the conformance README's definition).
    if (applied && o.decision === 'NotApplicable') applied.length = mark;
    return o;
  }

  private decide(ctx: RequestContext): Outcome {
    const t = this.matchTarget(ctx);
    if (t === false) return NOT_APPLICABLE;
    const index = this.children.length > 1 ? this.index(ctx.references) : null;
    const combined = this.algorithm(index ? index.candidates(ctx) : this.children, ctx);
    if (t !== true) {
      // §7.12 / §7.13: an Indeterminate target turns a decision into the Indeterminate of that decision.
      if (combined.decision === 'NotApplicable') return NOT_APPLICABLE;
      if (combined.decision === 'Permit') return indeterminate('P', statusOf(t));
      if (combined.decision === 'Deny') return indeterminate('D', statusOf(t));
      return indeterminate(combined.ext ?? 'DP', statusOf(t));
    }
    if (combined.decision === 'Permit' || combined.decision === 'Deny') return withEffects(combined, this.obligations, this.advice, ctx);
    return combined;
  }
}

/** A Policy(Set)IdReference (§5.10, §5.11); the Pdp binds it to a policy in `RequestContext.references`. */
export class PolicyReference implements Combinable {
  constructor(
    readonly kind: 'Policy' | 'PolicySet',
    readonly id: string,
    readonly constraints: { version?: string; earliest?: string; latest?: string },
    readonly line: number | undefined,
    readonly column: number | undefined,
  ) {}

  private target(ctx: RequestContext): Combinable {
    const t = ctx.references.get(this) as Combinable | undefined;
    if (!t) throw processingError(`unresolved ${this.kind}IdReference ${this.id}`);
    return t;
  }
  matchTarget(ctx: RequestContext): MatchResult {
    try {
      return this.target(ctx).matchTarget(ctx);
    } catch (err) {
      return err as IndeterminateError;
    }
  }
  evaluate(ctx: RequestContext): Outcome {
    try {
      return this.target(ctx).evaluate(ctx);
    } catch (err) {
      return indeterminate('DP', statusOf(err));
    }
  }
}

function childIndexEntry(child: Combinable, references: ReadonlyMap<object, unknown>): IndexEntry | undefined {
  if (child instanceof CompiledRule || child instanceof CompiledPolicy) return indexEntryOf(child.target);
  if (child instanceof PolicyReference) {
    const target = references.get(child);
    if (target instanceof CompiledPolicy) return indexEntryOf(target.target);
  }
  return undefined;
}

/** An argument evaluated only when the function asks (§A.3.5: and, or, n-of evaluate only what they need). */
class LazyArgument implements Argument {
  readonly type: ExprType;
  constructor(
    private readonly expr: Expr,
    private readonly ctx: RequestContext,
  ) {
    this.type = expr.type;
  }
  evaluate(): Value {
    return this.expr.evaluate(this.ctx);
  }
}

export function apply(fn: FunctionDefinition, args: readonly Expr[], ctx: RequestContext): Value {
  const lazy = new Array<Argument>(args.length);
  for (let i = 0; i < args.length; i++) lazy[i] = new LazyArgument(args[i]!, ctx);
  // No catch here: rethrowing at every level of a nested call costs more than the call itself when an attribute is
  // missing. Whoever turns the error into an Indeterminate (rule, target, obligation) maps an unexpected Error to
  // processing-error (evaluate.ts statusOf).
  return fn.call(lazy, ctx);
}

