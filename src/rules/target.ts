/**
 * Targets (XACML 3.0 §5.6-5.9) and their evaluation (§7.7 truth tables, Indeterminate included), plus the index
 * that lets a combining node skip children whose target cannot match a request.
 */
import { formatValue, valueEquals } from './functions/datatypes.js';
import type { RequestContext } from './context.js';
import type { Expr, MatchResult } from './evaluate.js';
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
 * What the target index knows of a child: the child cannot match unless, for one of `allOfs` (the AllOfs of one
 * AnyOf), the request satisfies one of its string-equal Matches. Each Match is `key` (a string value of a category
 * and attribute) and, for a designator with MustBePresent, `absent` (its category and attribute, whose absence makes
 * the Match Indeterminate rather than False, so the child must be evaluated then too).
 */
export interface IndexEntry {
  allOfs: IndexKey[][];
}
interface IndexKey {
  category: string;
  attributeId: string;
  value: string;
  mustBePresent: boolean;
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
    if (anyOf.length === 0) continue;
    const allOfs: IndexEntry['allOfs'] = [];
    for (const allOf of anyOf) {
      // A designator with an Issuer is left out: with MustBePresent, another issuer's value would hide its absence.
      const options = allOf
        .filter((x) => x.fn.id === STRING_EQUAL && x.designator && x.designator.issuer === undefined && x.designator.dataType === DataType.string && x.literal.dataType === DataType.string)
        .map((m) => {
          const d = m.designator!;
          return { category: d.category, attributeId: d.attributeId, value: formatValue(m.literal), mustBePresent: d.mustBePresent };
        });
      if (options.length === 0) break;
      allOfs.push(options);
    }
    if (allOfs.length === anyOf.length && (!best || allOfs.length < best.allOfs.length)) best = { allOfs };
  }
  return best;
}

const keyOf = (k: IndexKey) => `${k.category}\u0000${k.attributeId}\u0000${k.value}`;

/** An index over an ordered list of children; `candidates` keeps their order. */
export class ChildIndex<T> {
  /** category -> attributeId -> value -> children (indices). */
  private readonly byValue = new Map<string, Map<string, Map<string, number[]>>>();
  /** Children that must be evaluated when the request lacks a MustBePresent attribute. */
  private readonly byAbsent: { category: string; attributeId: string; children: number[] }[] = [];
  private readonly always: number[] = [];
  private readonly children: readonly T[];
  readonly indexed: number;

  constructor(children: readonly T[], entryOf: (child: T) => IndexEntry | undefined) {
    this.children = children;
    const entries = children.map(entryOf);
    // Per AllOf, the Match whose value the fewest children share is the one to index by (an AllOf is NoMatch as soon
    // as any one of its Matches is False, so any one will do).
    const frequency = new Map<string, number>();
    for (const e of entries) for (const all of e?.allOfs ?? []) for (const o of all) frequency.set(keyOf(o), (frequency.get(keyOf(o)) ?? 0) + 1);
    const absent = new Map<string, { category: string; attributeId: string; children: number[] }>();
    let indexed = 0;
    entries.forEach((e, i) => {
      if (!e) {
        this.always.push(i);
        return;
      }
      indexed++;
      for (const all of e.allOfs) {
        let chosen = all[0]!;
        for (const o of all) if (frequency.get(keyOf(o))! < frequency.get(keyOf(chosen))!) chosen = o;
        let byId = this.byValue.get(chosen.category);
        if (!byId) this.byValue.set(chosen.category, (byId = new Map<string, Map<string, number[]>>()));
        let byVal = byId.get(chosen.attributeId);
        if (!byVal) byId.set(chosen.attributeId, (byVal = new Map<string, number[]>()));
        push(byVal, chosen.value, i);
        if (chosen.mustBePresent) {
          const k = `${chosen.category}\u0000${chosen.attributeId}`;
          let a = absent.get(k);
          if (!a) absent.set(k, (a = { category: chosen.category, attributeId: chosen.attributeId, children: [] }));
          if (a.children[a.children.length - 1] !== i) a.children.push(i);
        }
      }
    });
    this.byAbsent = [...absent.values()];
    this.indexed = indexed;
  }

  /** The children that may match, in their original order (the others are NotApplicable for this request). */
  candidates(ctx: RequestContext): readonly T[] {
    if (this.indexed === 0) return this.children;
    const picked: number[] = [...this.always];
    const byValue = this.byValue;
    ctx.forEachStringValue((category, attributeId, value) => {
      const list = byValue.get(category)?.get(attributeId)?.get(value);
      if (list) for (const i of list) picked.push(i);
    });
    for (const a of this.byAbsent) if (!ctx.hasStringValue(a.category, a.attributeId)) for (const i of a.children) picked.push(i);
    if (picked.length === 0) return picked as unknown as T[];
    picked.sort((a, b) => a - b);
    const out: T[] = [];
    let last = -1;
    for (const i of picked) {
      if (i === last) continue;
      out.push(this.children[i]!);
      last = i;
    }
    return out;
  }
}

function push(map: Map<string, number[]>, key: string, i: number): void {
  const list = map.get(key);
  if (list) {
    if (list[list.length - 1] !== i) list.push(i);
  } else map.set(key, [i]);
}
