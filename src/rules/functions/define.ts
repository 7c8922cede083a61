/**
 * Building blocks for the function library: first-order functions from a signature (arity and argument types checked
 * when a policy is compiled, §7.3 / Appendix A.3's signatures) and the runtime helpers they share.
 */
import {
  StatusCode,
  IndeterminateError,
  isBag,
  processingError,
  type Argument,
  type AttributeValue,
  type Bag,
  type EvaluationContext,
  type ExprType,
  type FunctionDefinition,
  type Value,
} from '../values.js';
import { shortTypeName } from './datatypes.js';

/** A parameter: one data type, or several alternatives (deprecated ids accept the old and the new duration types). */
export interface Param {
  readonly kind: 'value' | 'bag';
  readonly dataTypes: readonly string[];
}

export const v = (...dataTypes: string[]): Param => ({ kind: 'value', dataTypes });
export const bag = (...dataTypes: string[]): Param => ({ kind: 'bag', dataTypes });

export const XACML1 = 'urn:oasis:names:tc:xacml:1.0:function:';
export const XACML2 = 'urn:oasis:names:tc:xacml:2.0:function:';
export const XACML3 = 'urn:oasis:names:tc:xacml:3.0:function:';

export function describeType(t: ExprType): string {
  if (t.kind === 'function') return `function ${t.fn.id}`;
  return t.kind === 'bag' ? `bag of ${shortTypeName(t.dataType)}` : shortTypeName(t.dataType);
}

function describeParam(p: Param): string {
  const names = p.dataTypes.map(shortTypeName).join(' or ');
  return p.kind === 'bag' ? `bag of ${names}` : names;
}

function matches(p: Param, t: ExprType): boolean {
  return t.kind === p.kind && p.dataTypes.includes(t.dataType);
}

export interface Signature {
  readonly params: readonly Param[];
  /** Further arguments of this type (any number, including none) after `params`. */
  readonly rest?: Param;
  /** The least number of arguments, when `rest` is set (default: params.length). */
  readonly minArgs?: number;
  /** The result type, or a function of the argument types (when it follows an argument's alternative type). */
  readonly returns: ExprType | ((args: readonly ExprType[]) => ExprType);
  /** All arguments must have one data type (when parameters allow alternatives). */
  readonly sameDataType?: boolean;
}

/** Checks `args` against `sig`; throws an Error naming the first mismatch. */
export function checkSignature(id: string, sig: Signature, args: readonly ExprType[]): ExprType {
  const min = sig.minArgs ?? sig.params.length;
  if (sig.rest ? args.length < min : args.length !== sig.params.length) {
    const expected = sig.rest ? `at least ${min}` : String(sig.params.length);
    throw new Error(`function ${id} takes ${expected} argument${expected === '1' ? '' : 's'}, got ${args.length}`);
  }
  args.forEach((t, i) => {
    const p = sig.params[i] ?? sig.rest!;
    if (!matches(p, t)) {
      throw new Error(`function ${id}: argument ${i + 1} must be ${describeParam(p)}, got ${describeType(t)}`);
    }
  });
  if (sig.sameDataType && args.some((t) => t.kind !== 'function' && t.dataType !== (args[0] as { dataType: string }).dataType)) {
    throw new Error(`function ${id}: the arguments must all have one data type, got ${args.map(describeType).join(', ')}`);
  }
  return typeof sig.returns === 'function' ? sig.returns(args) : sig.returns;
}

/**
 * A first-order function: every argument is evaluated, left to right (an Indeterminate argument makes the call
 * Indeterminate, Appendix A.3), then `impl` runs on the values. `impl` reports runtime errors as IndeterminateError;
 * a RangeError (an integer beyond its bound, a BigInt too large for the engine) becomes a processing error too. Any
 * other error passes through untouched: it is either the evaluator's own signal (thrown by its EvaluationContext)
 * or a bug.
 */
export function firstOrder(id: string, sig: Signature, impl: (args: Value[], context: EvaluationContext) => Value): FunctionDefinition {
  return {
    id,
    check: (args) => checkSignature(id, sig, args),
    call: (args: readonly Argument[], context: EvaluationContext) => {
      const values = args.map((a) => a.evaluate());
      try {
        return impl(values, context);
      } catch (e) {
        if (e instanceof RangeError) throw processingError(`${id}: ${e.message}`);
        throw e;
      }
    },
  };
}

// Runtime accessors. The compiler has checked the types, so a mismatch here is the evaluator's bug, reported as a
// processing error rather than a crash.

function wrongType(expected: string, got: Value): IndeterminateError {
  return new IndeterminateError(StatusCode.processingError, `expected ${expected}, got ${isBag(got) ? 'a bag' : got.dataType}`);
}

export function single(value: Value | undefined): AttributeValue {
  if (value === undefined || isBag(value)) throw wrongType('a single value', value ?? { kind: 'bag', dataType: '', values: [] });
  return value;
}

export function asBag(value: Value | undefined): Bag {
  if (value === undefined || !isBag(value)) throw wrongType('a bag', value ?? { dataType: 'nothing', value: undefined });
  return value;
}

export function str(value: Value | undefined): string {
  return single(value).value as string;
}

export function int(value: Value | undefined): bigint {
  return single(value).value as bigint;
}

export function dbl(value: Value | undefined): number {
  return single(value).value as number;
}

export function bool(value: Value | undefined): boolean {
  return single(value).value as boolean;
}

export function val(dataType: string, value: unknown): AttributeValue {
  return { dataType, value };
}

export const valueType = (dataType: string): ExprType => ({ kind: 'value', dataType });
export const bagType = (dataType: string): ExprType => ({ kind: 'bag', dataType });

/** A registry under construction: each family module adds its functions; duplicate ids are a programming error. */
export class FunctionTable {
  readonly #byId = new Map<string, FunctionDefinition>();

  add(fn: FunctionDefinition): void {
    if (this.#byId.has(fn.id)) throw new Error(`function ${fn.id} defined twice`);
    this.#byId.set(fn.id, fn);
  }

  /** Registers `fn` under another id too (the deprecated ids of §10.2.8 that behave the same). */
  alias(id: string, fn: FunctionDefinition): void {
    this.add({ id, check: (args) => fn.check(args), call: (args, context) => fn.call(args, context) });
  }

  get(id: string): FunctionDefinition | undefined {
    return this.#byId.get(id);
  }

  ids(): string[] {
    return [...this.#byId.keys()];
  }
}
