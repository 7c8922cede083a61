/**
 * Higher-order bag functions (XACML 3.0 §A.3.12): any-of, all-of, any-of-any, all-of-any, any-of-all, all-of-all
 * and map, in their 3.0 variadic forms. The deprecated 1.0 ids of any-of, all-of, any-of-any and map (§10.2.8) take
 * fixed argument lists that are special cases of the 3.0 forms, so they share the 3.0 definitions.
 *
 * `check` type-checks the <Function> argument against the element types of the other arguments (a bag stands for its
 * members), so a mismatch is found when the policy loads. At evaluation the function is applied as §A.3.12 says and
 * the results combined with `or` (any-) or `and` (all-): an Indeterminate application is remembered, and decides only
 * if no other application decides the result.
 */
import {
  DataType,
  IndeterminateError,
  bagOf,
  constantArgument,
  isBag,
  processingError,
  type Argument,
  type AttributeValue,
  type EvaluationContext,
  type ExprType,
  type FunctionDefinition,
  type Value,
} from '../values.js';
import { XACML1, XACML3, asBag, bagType, describeType, single, val, valueType, type FunctionTable } from './define.js';
import { MAX_BAG_SIZE } from './bag.js';

/** Bound on the applications of the function in one call (bag sizes multiply in any-of-any and the like). */
export const MAX_APPLICATIONS = 1_000_000;

function functionArgument(id: string, args: readonly ExprType[]): FunctionDefinition {
  const first = args[0];
  if (first?.kind !== 'function') throw new Error(`function ${id}: the first argument must be a <Function>, got ${first ? describeType(first) : 'nothing'}`);
  return first.fn;
}

function elementType(id: string, t: ExprType, position: number): ExprType {
  if (t.kind === 'function') throw new Error(`function ${id}: argument ${position} must be a value or a bag, got ${describeType(t)}`);
  return { kind: 'value', dataType: t.dataType };
}

/** The type the applied function returns for these element types; it must be a single value (and boolean unless map). */
function checkApplied(id: string, fn: FunctionDefinition, elementTypes: ExprType[], mustBeBoolean: boolean): { kind: 'value'; dataType: string } {
  let result: ExprType;
  try {
    result = fn.check(elementTypes);
  } catch (e) {
    throw new Error(`function ${id} applies ${fn.id} to ${elementTypes.map(describeType).join(', ')}: ${(e as Error).message}`, { cause: e });
  }
  if (result.kind !== 'value') throw new Error(`function ${id}: ${fn.id} must return a single value, it returns ${describeType(result)}`);
  if (mustBeBoolean && result.dataType !== DataType.boolean) {
    throw new Error(`function ${id}: ${fn.id} must return a boolean, it returns ${describeType(result)}`);
  }
  return { kind: 'value', dataType: result.dataType };
}

function apply(fn: FunctionDefinition, values: readonly AttributeValue[], context: EvaluationContext): Value {
  return fn.call(values.map((x) => constantArgument(x)), context);
}

function applyBoolean(fn: FunctionDefinition, values: readonly AttributeValue[], context: EvaluationContext): boolean {
  const r = apply(fn, values, context);
  if (isBag(r) || r.dataType !== DataType.boolean) throw processingError(`${fn.id} did not return a boolean`);
  return r.value as boolean;
}

/**
 * Combines the applications `tries` yields with or (stopOn = true) or and (stopOn = false). An application that is
 * Indeterminate is remembered; the call is Indeterminate only when nothing else decided it.
 */
function combine(tries: Iterable<() => boolean>, stopOn: boolean): boolean {
  let error: IndeterminateError | undefined;
  for (const attempt of tries) {
    try {
      if (attempt() === stopOn) return stopOn;
    } catch (e) {
      if (!(e instanceof IndeterminateError)) throw e;
      error ??= e;
    }
  }
  if (error) throw error;
  return !stopOn;
}

function checkApplications(id: string, count: number): void {
  if (count > MAX_APPLICATIONS) throw processingError(`${id}: ${count} applications of the function exceed the bound of ${MAX_APPLICATIONS}`);
}

/** Evaluates the arguments after the function: each a value or a bag. */
function evaluateRest(args: readonly Argument[]): Value[] {
  return args.slice(1).map((a) => a.evaluate());
}

/** any-of, all-of (3.0): n-1 values and one bag, in any order; the function applied with each member in the bag's place. */
function oneBag(id: string, stopOn: boolean | 'map'): FunctionDefinition {
  return {
    id,
    check(args) {
      const fn = functionArgument(id, args);
      if (args.length < 2) throw new Error(`function ${id} takes a <Function> and at least one more argument`);
      const rest = args.slice(1);
      const bags = rest.filter((t) => t.kind === 'bag').length;
      if (bags !== 1) throw new Error(`function ${id}: exactly one argument after the <Function> must be a bag, got ${bags}`);
      const result = checkApplied(id, fn, rest.map((t, i) => elementType(id, t, i + 2)), stopOn !== 'map');
      return stopOn === 'map' ? bagType(result.dataType) : valueType(DataType.boolean);
    },
    call(args, context) {
      const fn = (args[0]!.type as { fn: FunctionDefinition }).fn;
      const rest = evaluateRest(args);
      const bagIndex = rest.findIndex(isBag);
      const members = asBag(rest[bagIndex]).values;
      checkApplications(id, members.length);
      const withMember = (x: AttributeValue) => rest.map((r, i) => (i === bagIndex ? x : single(r)));
      if (stopOn === 'map') {
        if (members.length > MAX_BAG_SIZE) throw processingError(`${id}: a bag of more than ${MAX_BAG_SIZE} values`);
        const results = members.map((x) => single(apply(fn, withMember(x), context)));
        const resultType = fn.check(rest.map((r) => valueType(r.dataType)));
        return bagOf((resultType as { dataType: string }).dataType, results);
      }
      return val(DataType.boolean, combine(members.map((x) => () => applyBoolean(fn, withMember(x), context)), stopOn));
    },
  };
}

/** Every combination of one member per bag (values stand alone), lazily. */
function* combinations(lists: readonly (readonly AttributeValue[])[]): Generator<AttributeValue[]> {
  const index = new Array<number>(lists.length).fill(0);
  if (lists.some((l) => l.length === 0)) return;
  for (;;) {
    yield lists.map((l, i) => l[index[i]!]!);
    let k = lists.length - 1;
    while (k >= 0 && ++index[k]! === lists[k]!.length) index[k--] = 0;
    if (k < 0) return;
  }
}

/** any-of-any (3.0): values and bags in any number; true if the function is true for some combination. */
function anyOfAny(id: string): FunctionDefinition {
  return {
    id,
    check(args) {
      const fn = functionArgument(id, args);
      if (args.length < 2) throw new Error(`function ${id} takes a <Function> and at least one more argument`);
      checkApplied(id, fn, args.slice(1).map((t, i) => elementType(id, t, i + 2)), true);
      return valueType(DataType.boolean);
    },
    call(args, context) {
      const fn = (args[0]!.type as { fn: FunctionDefinition }).fn;
      const lists = evaluateRest(args).map((r) => (isBag(r) ? r.values : [r]));
      checkApplications(id, lists.reduce((n, l) => n * l.length, 1));
      const tries = (function* () {
        for (const combo of combinations(lists)) yield () => applyBoolean(fn, combo, context);
      })();
      return val(DataType.boolean, combine(tries, true));
    },
  };
}

/**
 * all-of-any, any-of-all, all-of-all (§A.3.12): a function and two bags. `outer`/`inner` say how the first bag's
 * members (outer) and the second's (inner) combine: all-of-any is "for all x in A, some y in B".
 */
function twoBags(id: string, outer: 'all' | 'any', inner: 'all' | 'any'): FunctionDefinition {
  return {
    id,
    check(args) {
      const fn = functionArgument(id, args);
      if (args.length !== 3 || args[1]!.kind !== 'bag' || args[2]!.kind !== 'bag') {
        throw new Error(`function ${id} takes a <Function> and two bags, got ${args.slice(1).map(describeType).join(', ') || 'nothing'}`);
      }
      checkApplied(id, fn, [elementType(id, args[1]!, 2), elementType(id, args[2]!, 3)], true);
      return valueType(DataType.boolean);
    },
    call(args, context) {
      const fn = (args[0]!.type as { fn: FunctionDefinition }).fn;
      const [a, b] = evaluateRest(args).map((r) => asBag(r).values) as [readonly AttributeValue[], readonly AttributeValue[]];
      checkApplications(id, a.length * b.length);
      const innerStop = inner === 'any';
      const outerStop = outer === 'any';
      const result = combine(
        a.map((x) => () => combine(b.map((y) => () => applyBoolean(fn, [x, y], context)), innerStop)),
        outerStop,
      );
      return val(DataType.boolean, result);
    },
  };
}

export function addHigherOrderFunctions(table: FunctionTable): void {
  const anyOf = oneBag(`${XACML3}any-of`, true);
  const allOf = oneBag(`${XACML3}all-of`, false);
  const anyAny = anyOfAny(`${XACML3}any-of-any`);
  const map = oneBag(`${XACML3}map`, 'map');
  for (const fn of [anyOf, allOf, anyAny, map]) table.add(fn);
  // The 1.0 ids (any-of(f, value, bag), any-of-any(f, bag, bag), map(f, bag)) are special cases of the 3.0 forms.
  table.alias(`${XACML1}any-of`, anyOf);
  table.alias(`${XACML1}all-of`, allOf);
  table.alias(`${XACML1}any-of-any`, anyAny);
  table.alias(`${XACML1}map`, map);
  table.add(twoBags(`${XACML1}all-of-any`, 'all', 'any'));
  table.add(twoBags(`${XACML1}any-of-all`, 'any', 'all'));
  table.add(twoBags(`${XACML1}all-of-all`, 'all', 'all'));
}
