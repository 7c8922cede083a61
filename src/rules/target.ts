/**
 * Targets (XACML 3.0 §5.6-5.9) and their evaluation (§7.7 truth tables, Indeterminate included), plus the index
 * that lets a combining node skip children whose target cannot match a request.
 */
import { formatValue, valueEquals } from './functions/datatypes.js';
import type { Expr, MatchResult, RequestContext } from './evaluate.js';
import { IndeterminateError, constantArgument, isBag, processingError, type AttributeValue, type FunctionDefinition } from './values.js';
import { DataType } from './values.js';

const STRING_EQUAL = 'urn:oasis:names:tc:xacml:1.0:function:string-equal';

/** A compiled <Match> (§5.9): MatchId applied to the literal and each member of the designator's (selector's) bag. */
export interface CompiledMatch {
  readonly fn: FunctionDefinition;
  readonly literal: AttributeValue;
  readonly bag: Expr;
  /** string-equal of an xs:string literal and a bag of xs:string: compared directly. */
  readonly stringEqual?: boolean;
  /** For a string-equal over an AttributeDesignator: what the index needs. */
  readonly designator?: { category: string; attributeId: string; dataType: string; issuer: string | undefined; mustBePresent: boolean };
}

/** AnyOf[] of AllOf[] of Match[]; an empty array is the empty target, which matches everything. */
export type CompiledTarget = readonly (readonly (readonly CompiledMatch[])[])[];

/** §7.6: True if any member matches, Indeterminate if none does and one could not be evaluated, else False. */
export function evaluateMatch(m: CompiledMatch, ctx: RequestContext): MatchResult {
  let bag;
  try {
    bag = m.bag.evaluate(ctx);
  } catch (err) {
    return err instanceof IndeterminateError ? err : processingError((err as Error).message);
  }
  if (!isBag(bag)) return processingError('a Match needs a bag');
  if (m.stringEqual) {
    // string-equal on xs:string: the values are the strings as written (functions/datatypes.ts).
    const s = m.literal.value;
    for (const v of bag.values) if (v.value === s) return true;
    return false;
  }
  if (m.fn.id === STRING_EQUAL) {
    for (const v of bag.values) if (valueEquals(m.literal, v)) return true;
    return false;
  }
  let error: IndeterminateError | undefined;
  const literal = constantArgument(m.literal);
  for (const v of bag.values) {
    try {
      const r = m.fn.call([literal, constantArgument(v)], ctx);
      if (!isBag(r) && r.value === true) return true;
    } catch (err) {
      error ??= err instanceof IndeterminateError ? err : processingError((err as Error).message);
    }
  }
  return error ?? false;
}

/** §7.7: AllOf is a conjunction of Matches, AnyOf a disjunction of AllOfs, Target a conjunction of AnyOfs. */
export function evaluateTarget(target: CompiledTarget, ctx: RequestContext): MatchResult {
  let targetError: IndeterminateError | undefined;
  for (const anyOf of target) {
    let anyError: IndeterminateError | undefined;
    let anyMatched = false;
    for (const allOf of anyOf) {
      let allError: IndeterminateError | undefined;
      let allFalse = false;
      for (const m of allOf) {
        const r = evaluateMatch(m, ctx);
        if (r === true) continue;
        if (r === false) {
          allFalse = true;
          break;
        }
        allError ??= r;
      }
      if (allFalse) continue;
      if (allError) {
        anyError ??= allError;
        continue;
      }
      anyMatched = true;
      break;
    }
    if (anyMatched) continue;
    if (!anyError) return false; // one AnyOf that does not match: the Target does not (whatever the others)
    targetError ??= anyError;
  }
  return targetError ?? true;
}

/**
 * What the target index knows of a child: the child cannot match unless the request has one of `keys` (a string
 * value of a category and attribute) or lacks one of `absent` (a designator with MustBePresent, whose absence makes
 * the Match Indeterminate rather than False).
 */
export interface IndexEntry {
  keys: string[];
  absent: string[];
}

/**
 * A target is indexable when one of its AnyOfs has, in every AllOf, a string-equal Match on an AttributeDesignator:
 * when none of those Matches is True, each AllOf is NoMatch, so that AnyOf and the whole Target are NoMatch (§7.7),
 * and a rule, policy or policy set with a NoMatch target is NotApplicable (§7.11-7.13). The index only has to give a
 * superset of the children that can match.
 */
export function indexEntryOf(target: CompiledTarget): IndexEntry | undefined {
  let best: IndexEntry | undefined;
  for (const anyOf of target) {
    const entry: IndexEntry = { keys: [], absent: [] };
    let ok = anyOf.length > 0;
    for (const allOf of anyOf) {
      // A designator with an Issuer is left out: with MustBePresent, another issuer's value would hide its absence.
      const m = allOf.find(
        (x) => x.fn.id === STRING_EQUAL && x.designator && x.designator.issuer === undefined && x.designator.dataType === DataType.string && x.literal.dataType === DataType.string,
      );
      if (!m) {
        ok = false;
        break;
      }
      const d = m.designator!;
      entry.keys.push(`${d.category}\u0000${d.attributeId}\u0000${formatValue(m.literal)}`);
      if (d.mustBePresent) entry.absent.push(`${d.category}\u0000${d.attributeId}`);
    }
    if (ok && (!best || entry.keys.length < best.keys.length)) best = entry;
  }
  return best;
}

/** An index over an ordered list of children; `candidates` keeps their order. */
export class ChildIndex<T> {
  private readonly byKey = new Map<string, number[]>();
  private readonly byAbsent = new Map<string, number[]>();
  private readonly always: number[] = [];
  private readonly children: readonly T[];
  readonly indexed: number;

  constructor(children: readonly T[], entryOf: (child: T) => IndexEntry | undefined) {
    this.children = children;
    let indexed = 0;
    children.forEach((child, i) => {
      const e = entryOf(child);
      if (!e) {
        this.always.push(i);
        return;
      }
      indexed++;
      for (const k of new Set(e.keys)) push(this.byKey, k, i);
      for (const k of new Set(e.absent)) push(this.byAbsent, k, i);
    });
    this.indexed = indexed;
  }

  /** The children that may match, in their original order (the others are NotApplicable for this request). */
  candidates(ctx: RequestContext): readonly T[] {
    if (this.indexed === 0) return this.children;
    const keys = ctx.stringValueKeys();
    const picked = new Set<number>(this.always);
    for (const k of keys) {
      const list = this.byKey.get(k);
      if (list) for (const i of list) picked.add(i);
    }
    for (const [k, list] of this.byAbsent) if (!keys.has(k)) for (const i of list) picked.add(i);
    return [...picked].sort((a, b) => a - b).map((i) => this.children[i]!);
  }
}

function push(map: Map<string, number[]>, key: string, i: number): void {
  const list = map.get(key);
  if (list) list.push(i);
  else map.set(key, [i]);
}

