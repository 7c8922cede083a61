/** Helpers for the function library's unit tests: literal arguments and calls by short id. */
import { DataType, IndeterminateError, bagOf, constantArgument, isBag, type Argument, type AttributeValue, type EvaluationContext, type ExprType, type FunctionDefinition, type Value } from '../values.js';
import { parseValue } from './datatypes.js';
import { getFunction } from './index.js';

export type TypeName = keyof typeof DataType;

export const noContext: EvaluationContext = {
  selectNodes: () => {
    throw new Error('no request content in this test');
  },
};

/** A value from its type's short name and lexical form: a('integer', '5'). */
export function a(type: TypeName, text: string): AttributeValue {
  return parseValue(DataType[type], text);
}

export function bagOfValues(type: TypeName, ...texts: string[]): Value {
  return bagOf(DataType[type], texts.map((t) => a(type, t)));
}

/** The function with this id; a short id ("integer-add") is looked up under the 3.0, 2.0 and 1.0 prefixes. */
export function fn(id: string): FunctionDefinition {
  const found = id.startsWith('urn:')
    ? getFunction(id)
    : ['3.0', '2.0', '1.0'].map((v) => getFunction(`urn:oasis:names:tc:xacml:${v}:function:${id}`)).find((f) => f !== undefined);
  if (!found) throw new Error(`no function ${id}`);
  return found;
}

export function functionArgument(id: string): Argument {
  return { type: { kind: 'function', fn: fn(id) }, evaluate: () => { throw new Error('a function argument is never evaluated'); } };
}

export function typeOf(x: Value | Argument): ExprType {
  if ('evaluate' in x) return x.type;
  return isBag(x) ? { kind: 'bag', dataType: x.dataType } : { kind: 'value', dataType: x.dataType };
}

/** Checks the call's types as the compiler would, then calls it. */
export function call(id: string, ...args: (Value | Argument)[]): Value {
  const f = fn(id);
  const argsAsArguments = args.map((x) => ('evaluate' in x ? x : constantArgument(x)));
  f.check(argsAsArguments.map((x) => x.type));
  return f.call(argsAsArguments, noContext);
}

/** The call's plain result: a boolean, bigint, number, string... */
export function result(id: string, ...args: (Value | Argument)[]): unknown {
  const r = call(id, ...args);
  return isBag(r) ? r.values.map((x) => x.value) : r.value;
}

/** The IndeterminateError the call throws (fails the test if it returns). */
export function indeterminate(id: string, ...args: (Value | Argument)[]): IndeterminateError {
  try {
    call(id, ...args);
  } catch (e) {
    if (e instanceof IndeterminateError) return e;
    throw e;
  }
  throw new Error(`${id} returned instead of being Indeterminate`);
}

/** An argument that fails the test if evaluated (for short-circuit tests). */
export function unevaluated(type: TypeName): Argument {
  return { type: { kind: 'value', dataType: DataType[type] }, evaluate: () => { throw new Error('evaluated an argument that should not be'); } };
}

/** An argument that evaluates to Indeterminate. */
export function failing(type: TypeName): Argument {
  return {
    type: { kind: 'value', dataType: DataType[type] },
    evaluate: () => {
      throw new IndeterminateError('urn:oasis:names:tc:xacml:1.0:status:processing-error', 'test failure');
    },
  };
}
