import { createRequire } from 'node:module';
import { Language, type Node, Parser, type Tree } from 'web-tree-sitter';
import { ConformInputError, type Location } from '../input.js';
import type { Patch } from './patch.js';

/** A C entity the patch annotates with `@snp-ref <id>`. */
export interface CEntity {
  readonly id: string;
  readonly kind: 'function' | 'struct';
  readonly name: string;
  readonly node: Node;
  readonly location: Location;
}

export interface CModel {
  readonly patch: Patch;
  /** Where a node of the added C is in the .patch file. */
  readonly locate: (node: Node) => Location;
  readonly entities: ReadonlyMap<string, CEntity>;
  /** Every function the patch defines, by name, for call graphs. */
  readonly functions: ReadonlyMap<string, { node: Node; location: Location }>;
}

let parser: Parser | undefined;

async function cParser(): Promise<Parser> {
  if (parser === undefined) {
    await Parser.init();
    const wasm = createRequire(import.meta.url).resolve('tree-sitter-c/tree-sitter-c.wasm');
    parser = new Parser();
    parser.setLanguage(await Language.load(wasm));
  }
  return parser;
}

const ANNOTATION = /^\/\*\s*@snp-ref\s+([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)\s*\*\/$/;

/** Parses C with tree-sitter-c; null if the parser gives up. */
export async function parseC(code: string): Promise<Tree | null> {
  return (await cParser()).parse(code);
}

/** Parses the C a patch adds (tree-sitter-c) and finds its annotated entities and functions. */
export async function loadCModel(patch: Patch): Promise<CModel> {
  const entities = new Map<string, CEntity>();
  const functions = new Map<string, { node: Node; location: Location }>();
  const linesByTree = new Map<unknown, readonly number[]>();
  const locate = (node: Node): Location => ({
    file: patch.file,
    line: linesByTree.get(node.tree)?.[node.startPosition.row] ?? 0,
  });
  for (const file of patch.files) {
    const tree = await parseC(file.code);
    if (tree === null) throw new ConformInputError(`${patch.file}: cannot parse the C added to ${file.path}`);
    linesByTree.set(tree, file.patchLines);
    const root = tree.rootNode;
    if (root.hasError) {
      const bad = root.descendantsOfType('ERROR')[0];
      const line = bad === undefined || bad === null ? 0 : locate(bad).line;
      throw new ConformInputError(`${patch.file}:${line}: the C added to ${file.path} does not parse`);
    }
    root.namedChildren.forEach((node, i) => {
      if (node === null) return;
      if (node.type === 'function_definition') {
        const name = functionName(node);
        if (name !== undefined) functions.set(name, { node, location: locate(node) });
      }
      const annotation = ANNOTATION.exec(node.type === 'comment' ? node.text : '')?.[1];
      if (annotation === undefined) return;
      const next = root.namedChildren[i + 1];
      const kind =
        next?.type === 'function_definition'
          ? 'function'
          : next?.type === 'struct_specifier'
            ? 'struct'
            : undefined;
      if (next === null || next === undefined || kind === undefined) {
        const at = locate(node);
        throw new ConformInputError(
          `${at.file}:${at.line}: @snp-ref ${annotation} is not right before a function or a struct`,
        );
      }
      const name =
        kind === 'function' ? (functionName(next) ?? '') : (next.childForFieldName('name')?.text ?? '');
      entities.set(annotation, { id: annotation, kind, name, node: next, location: locate(next) });
    });
  }
  return { patch, locate, entities, functions };
}

/** The declarator holding a function's name and parameters, below any pointer declarators of its return type. */
export function functionDeclarator(fn: Node): Node | undefined {
  let declarator = fn.childForFieldName('declarator');
  while (declarator !== null && declarator.type !== 'function_declarator')
    declarator = declarator.childForFieldName('declarator');
  return declarator ?? undefined;
}

function functionName(node: Node): string | undefined {
  let declarator = node.childForFieldName('declarator');
  while (declarator !== null && declarator.type !== 'identifier')
    declarator = declarator.childForFieldName('declarator');
  return declarator?.text;
}

/** Names of the functions a C function calls, directly. */
export function cCalls(node: Node): string[] {
  return node.descendantsOfType('call_expression').flatMap((call) => {
    const callee = call?.childForFieldName('function');
    return callee === null || callee === undefined ? [] : [callee.text];
  });
}
