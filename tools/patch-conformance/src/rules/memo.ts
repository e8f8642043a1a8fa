import type { Node, Tree } from 'web-tree-sitter';

/** `fact` computed once per object (the patch's functions, a tree): the result is shared, callers must not change it. */
export function perObject<K extends object, T>(fact: (key: K) => T): (key: K) => T {
  const known = new WeakMap<K, T>();
  return (key) => {
    if (!known.has(key)) known.set(key, fact(key));
    return known.get(key) as T;
  };
}

/**
 * `fact` computed once per C node and `scope` (what else it depends on: the patch's functions, or
 * the node's own tree when nothing). The rules ask the same facts of a node again and again (for
 * each loop, each caller …), and each descendantsOfType() walks the subtree again in WASM; keyed
 * by node id, since web-tree-sitter hands out a new Node object on each access and the id is
 * stable within a tree.
 */
export function perNode<S extends object, T>(fact: (node: Node, scope: S) => T): (node: Node, scope: S) => T {
  const byId = perObject((_scope: S) => perObject((_tree: Tree) => new Map<number, T>()));
  return (node, scope) => {
    const known = byId(scope)(node.tree);
    if (!known.has(node.id)) known.set(node.id, fact(node, scope));
    return known.get(node.id) as T;
  };
}
