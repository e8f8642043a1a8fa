import type { Node as TsNode } from 'ts-morph';
import type { Node as CNode } from 'web-tree-sitter';
import { type CModel, cCallbacks, cCalls } from '../c/cModel.js';
import type { Flavour } from '../c/patch.js';
import type { TsEntity, TsModel } from '../ts/tsModel.js';

/**
 * The C functions reachable from a paired entity through calls to functions the patch defines,
 * and the functions it hands on as callbacks (taken as called).
 */
export function cReachable(c: CModel, id: string): { name: string; node: CNode; line: number }[] {
  const start = c.entities.get(id);
  if (start === undefined || start.kind !== 'function') return [];
  const seen = new Map<string, { name: string; node: CNode; line: number }>([
    [start.name, { name: start.name, node: start.node, line: start.location.line }],
  ]);
  const queue = [start.node];
  while (queue.length > 0) {
    const node = queue.pop() as CNode;
    for (const callee of [...cCalls(node), ...cCallbacks(node, c.functions)]) {
      const fn = c.functions.get(callee);
      if (fn !== undefined && !seen.has(callee)) {
        seen.set(callee, { name: callee, node: fn.node, line: fn.location.line });
        queue.push(fn.node);
      }
    }
  }
  return [...seen.values()];
}

/** The TS entity of a flavour tagged with `id`. */
export function tsEntity(ts: TsModel, id: string, flavour: Flavour): TsEntity | undefined {
  return ts.entities.find((e) => e.id === id && e.flavour === flavour);
}

export function tsLocation(node: TsNode, root: string): { file: string; line: number } {
  return {
    file: node
      .getSourceFile()
      .getFilePath()
      .slice(root.length + 1),
    line: node.getStartLineNumber(),
  };
}

/** Whether a TS node is on the KVM side of an entity: in the entity's own package, not the firmware's or the hardware's model. */
export function kvmSideOf(entity: TsEntity, root: string): (node: TsNode) => boolean {
  const pkg = `${entity.location.file.split('/src/')[0] ?? ''}/`;
  return (node) => tsLocation(node, root).file.startsWith(pkg);
}
