/**
 * XPath-based functions (XACML 3.0 §A.3.15): xpath-node-count, xpath-node-equal, xpath-node-match, on
 * xpathExpression values evaluated against their category's <Content> by EvaluationContext.selectNodes (which throws
 * IndeterminateError when an expression cannot be evaluated). The 1.0 ids, which took the path as a string, are
 * deprecated (§10.2.8) and not provided: a 1.0 policy's string path has no XPathCategory to evaluate it in.
 *
 * Node identity is object identity of what selectNodes returns. xpath-node-match descends through the DOM-like
 * `childNodes` and `attributes` of the second argument's nodes.
 */
import { DataType } from '../values.js';
import { XACML3, firstOrder, single, v, val, valueType, type FunctionTable } from './define.js';

/** Bound on the nodes visited below the second argument's nodes in xpath-node-match. */
const MAX_VISITED = 100_000;

interface NodeLike {
  childNodes?: ArrayLike<unknown>;
  attributes?: ArrayLike<unknown>;
}

function* selfAndDescendants(node: unknown, budget: { left: number }): Generator<unknown> {
  const stack = [node];
  while (stack.length) {
    if (--budget.left < 0) return;
    const n = stack.pop();
    yield n;
    const like = n as NodeLike | null;
    if (like && typeof like === 'object') {
      for (const list of [like.attributes, like.childNodes]) {
        if (list && typeof list.length === 'number') for (let i = 0; i < list.length; i++) stack.push(list[i]);
      }
    }
  }
}

export function addXPathFunctions(table: FunctionTable): void {
  const X = DataType.xpathExpression;
  const boolean = valueType(DataType.boolean);
  table.add(
    firstOrder(`${XACML3}xpath-node-count`, { params: [v(X)], returns: valueType(DataType.integer) }, ([e], context) =>
      val(DataType.integer, BigInt(context.selectNodes(single(e)).length)),
    ),
  );
  table.add(
    firstOrder(`${XACML3}xpath-node-equal`, { params: [v(X), v(X)], returns: boolean }, ([a, b], context) => {
      const first = new Set(context.selectNodes(single(a)));
      return val(DataType.boolean, context.selectNodes(single(b)).some((n) => first.has(n)));
    }),
  );
  // §A.3.15: true if a node of the first set equals a node of the second or a descendant of one (attributes included).
  table.add(
    firstOrder(`${XACML3}xpath-node-match`, { params: [v(X), v(X)], returns: boolean }, ([a, b], context) => {
      const first = new Set(context.selectNodes(single(a)));
      const budget = { left: MAX_VISITED };
      for (const root of context.selectNodes(single(b))) {
        for (const n of selfAndDescendants(root, budget)) if (first.has(n)) return val(DataType.boolean, true);
      }
      return val(DataType.boolean, false);
    }),
  );
}
