/**
 * Bag functions (XACML 3.0 §A.3.10) and set functions (§A.3.11), for every type of types.ts. Membership uses the
 * type's equality (valueEquals), through a hash on valueKey so large bags cost linear time.
 */
import { DataType, bagOf, processingError, type AttributeValue, type Bag, type ExprType } from '../values.js';
import { LegacyDataType, valueEquals, valueKey } from './datatypes.js';
import { XACML1, asBag, bag, bagType, firstOrder, single, v, val, valueType, type FunctionTable } from './define.js';
import { BAG_ONLY_TYPES, EQUALITY_TYPES, type TypeEntry } from './types.js';

/** Bound on a bag a function builds (the -bag function, union, map): beyond it the call is a processing error. */
export const MAX_BAG_SIZE = 100_000;

/** The distinct members of a bag, under the type's equality. */
class ValueSet {
  readonly #buckets = new Map<string, AttributeValue[]>();
  readonly members: AttributeValue[] = [];

  has(x: AttributeValue): boolean {
    return this.#buckets.get(valueKey(x))?.some((y) => valueEquals(x, y)) ?? false;
  }

  add(x: AttributeValue): void {
    if (this.has(x)) return;
    const key = valueKey(x);
    const bucket = this.#buckets.get(key);
    if (bucket) bucket.push(x);
    else this.#buckets.set(key, [x]);
    this.members.push(x);
  }

  static of(values: Iterable<AttributeValue>): ValueSet {
    const set = new ValueSet();
    for (const x of values) set.add(x);
    return set;
  }
}

export function checkBagSize(size: number, id: string): void {
  if (size > MAX_BAG_SIZE) throw processingError(`${id}: a bag of more than ${MAX_BAG_SIZE} values`);
}

export function bagContains(b: Bag, x: AttributeValue): boolean {
  return b.values.some((y) => valueEquals(x, y));
}

function addBagFunctions(table: FunctionTable, t: TypeEntry): void {
  const one = `${t.prefix}${t.name}-one-and-only`;
  table.add(
    firstOrder(one, { params: [bag(t.dataType)], returns: valueType(t.dataType) }, ([b]) => {
      const values = asBag(b).values;
      if (values.length !== 1) throw processingError(`${one}: the bag has ${values.length} values, not one`);
      return values[0]!;
    }),
  );
  table.add(
    firstOrder(`${t.prefix}${t.name}-bag-size`, { params: [bag(t.dataType)], returns: valueType(DataType.integer) }, ([b]) =>
      val(DataType.integer, BigInt(asBag(b).values.length)),
    ),
  );
  table.add(
    firstOrder(`${t.prefix}${t.name}-is-in`, { params: [v(t.dataType), bag(t.dataType)], returns: valueType(DataType.boolean) }, ([x, b]) =>
      val(DataType.boolean, bagContains(asBag(b), single(x))),
    ),
  );
  const bagId = `${t.prefix}${t.name}-bag`;
  table.add(
    firstOrder(bagId, { params: [], rest: v(t.dataType), minArgs: 0, returns: bagType(t.dataType) }, (args) => {
      checkBagSize(args.length, bagId);
      return bagOf(t.dataType, args.map(single));
    }),
  );
}

function addSetFunctions(table: FunctionTable, t: TypeEntry): void {
  const B = bag(t.dataType);
  const boolean = valueType(DataType.boolean);
  const id = (name: string) => `${t.prefix}${t.name}-${name}`;
  table.add(
    firstOrder(id('intersection'), { params: [B, B], returns: bagType(t.dataType) }, ([a, b]) => {
      const other = ValueSet.of(asBag(b).values);
      return bagOf(t.dataType, ValueSet.of(asBag(a).values.filter((x) => other.has(x))).members);
    }),
  );
  table.add(
    firstOrder(id('at-least-one-member-of'), { params: [B, B], returns: boolean }, ([a, b]) => {
      const other = ValueSet.of(asBag(b).values);
      return val(DataType.boolean, asBag(a).values.some((x) => other.has(x)));
    }),
  );
  // XACML 3.0 §A.3.11: union takes two or more bags.
  table.add(
    firstOrder(id('union'), { params: [B, B], rest: B, minArgs: 2, returns: bagType(t.dataType) }, (args) => {
      const all = ValueSet.of(args.flatMap((b) => asBag(b).values));
      checkBagSize(all.members.length, id('union'));
      return bagOf(t.dataType, all.members);
    }),
  );
  const subset = (a: Bag, b: Bag): boolean => {
    const other = ValueSet.of(b.values);
    return a.values.every((x) => other.has(x));
  };
  table.add(firstOrder(id('subset'), { params: [B, B], returns: boolean }, ([a, b]) => val(DataType.boolean, subset(asBag(a), asBag(b)))));
  table.add(
    firstOrder(id('set-equals'), { params: [B, B], returns: boolean }, ([a, b]) =>
      val(DataType.boolean, subset(asBag(a), asBag(b)) && subset(asBag(b), asBag(a))),
    ),
  );
}

export function addBagAndSetFunctions(table: FunctionTable): void {
  for (const t of EQUALITY_TYPES) {
    addBagFunctions(table, t);
    addSetFunctions(table, t);
  }
  for (const t of BAG_ONLY_TYPES) addBagFunctions(table, t);
  addLegacyDurationBagFunctions(table);
}

/**
 * The XACML 1.0/2.0 ids of the duration bag functions (XACML 3.0 gave them 3.0 ids; engines from the 2.0 era, WSO2's
 * Balana among them, still accept the old ones), on either the 2002 working-draft duration types or the XML Schema
 * ones. The result has the argument's type.
 */
function addLegacyDurationBagFunctions(table: FunctionTable): void {
  for (const name of ['dayTimeDuration', 'yearMonthDuration'] as const) {
    const types = [DataType[name], LegacyDataType[name]];
    const id = (op: string) => `${XACML1}${name}-${op}`;
    const elementOf = (args: readonly ExprType[]): string => (args[0] && args[0].kind !== 'function' ? args[0].dataType : DataType[name]);
    table.add(
      firstOrder(id('one-and-only'), { params: [bag(...types)], returns: (args) => valueType(elementOf(args)) }, ([b]) => {
        const values = asBag(b).values;
        if (values.length !== 1) throw processingError(`${id('one-and-only')}: the bag has ${values.length} values, not one`);
        return values[0]!;
      }),
    );
    table.add(
      firstOrder(id('bag-size'), { params: [bag(...types)], returns: valueType(DataType.integer) }, ([b]) => val(DataType.integer, BigInt(asBag(b).values.length))),
    );
    table.add(
      firstOrder(id('is-in'), { params: [v(...types), bag(...types)], returns: valueType(DataType.boolean), sameDataType: true }, ([x, b]) =>
        val(DataType.boolean, bagContains(asBag(b), single(x))),
      ),
    );
    table.add(
      firstOrder(
        id('bag'),
        { params: [], rest: v(...types), minArgs: 0, sameDataType: true, returns: (args) => bagType(elementOf(args)) },
        (args) => {
          checkBagSize(args.length, id('bag'));
          return bagOf(args[0]?.dataType ?? DataType[name], args.map(single));
        },
      ),
    );
  }
}
