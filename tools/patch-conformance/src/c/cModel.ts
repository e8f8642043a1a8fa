import { createRequire } from 'node:module';
import { Language, type Node, Parser, type Tree } from 'web-tree-sitter';
import { ConformInputError, type Location } from '../input.js';
import { perNode } from '../rules/memo.js';
import { MAX_SYNTAX_DEPTH, rowTooDeep } from './depth.js';
import type { Flavour, Patch, SourceFile } from './patch.js';
import { forTreeSitter } from './treeSitterText.js';

/** How a C entity came to stand for a model entity. */
export type PairedBy = 'annotation' | 'map file' | 'default map';

/** A C function or struct paired with a model entity. */
export interface CEntity {
  readonly id: string;
  readonly kind: 'function' | 'struct';
  readonly name: string;
  readonly node: Node;
  readonly location: Location;
  readonly by: PairedBy;
}

/** A complete top-level function or struct definition of the patch's C. */
export interface CDefinition {
  readonly node: Node;
  readonly location: Location;
}

/** What the patch's C holds before pairing: definitions, annotations, and what could not be read. */
export interface ParsedC {
  readonly patch: Patch;
  /** Where a node of the C is in the input. */
  readonly locate: (node: Node) => Location;
  /** Every function the C defines, by name, for call graphs. */
  readonly functions: ReadonlyMap<string, CDefinition>;
  /** Every struct the C defines with a body, by tag. */
  readonly structs: ReadonlyMap<string, CDefinition>;
  /** `/* @snp-ref <id> *\/` comments and what they stand before. */
  readonly annotations: readonly Omit<CEntity, 'by'>[];
  /** The C analysed: whole top-level items only, each line with its place in the input. */
  readonly files: readonly SourceFile[];
  /** Pieces of C the input shows only in part (a hunk inside a function it does not show whole): not analysed. */
  readonly partial: readonly { readonly location: Location; readonly names: readonly string[] }[];
  /** Functions analysed although tree-sitter could not parse all of them (kernel constructs src/c/treeSitterText.ts does not rewrite). */
  readonly withErrors: readonly { readonly name: string; readonly location: Location }[];
}

export interface CModel extends ParsedC {
  readonly flavour: Flavour;
  readonly entities: ReadonlyMap<string, CEntity>;
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

/** Top-level nodes a posted patch's C may hold whole; anything else with a parse error is a fragment. */
const ITEMS = new Set([
  'function_definition',
  'struct_specifier',
  'declaration',
  'type_definition',
  'enum_specifier',
  'union_specifier',
  'comment',
  'preproc_include',
  'preproc_def',
  'preproc_function_def',
  'preproc_call',
]);

/** Whether a definition's closing brace is really there (tree-sitter inserts a missing one). */
const closed = (node: Node): boolean => {
  const body = node.childForFieldName('body');
  const last = body?.child(body.childCount - 1);
  return body === null || (last?.type === '}' && !last.isMissing);
};

/**
 * Parses the patch's C (tree-sitter-c). An annotated patch must parse whole (it is written for this
 * tool); a posted one is kept item by item: a fragment of a function the input does not show whole
 * is set aside as `partial`, a whole function with constructs tree-sitter does not know is kept.
 */
export async function parseCSources(patch: Patch): Promise<ParsedC> {
  const functions = new Map<string, CDefinition>();
  const structs = new Map<string, CDefinition>();
  const annotations: Omit<CEntity, 'by'>[] = [];
  const files: SourceFile[] = [];
  const partial: { location: Location; names: string[] }[] = [];
  const withErrors: { name: string; location: Location }[] = [];
  const linesByTree = new Map<unknown, readonly Location[]>();
  const locate = (node: Node): Location =>
    linesByTree.get(node.tree)?.[node.startPosition.row] ?? { file: patch.file, line: 0 };
  for (const file of patch.files) {
    const tree = await parseC(forTreeSitter(file.code));
    if (tree === null) throw new ConformInputError(`${patch.file}: cannot parse the C added to ${file.path}`);
    linesByTree.set(tree, file.lines);
    const deep = rowTooDeep(tree);
    if (deep !== undefined) {
      const at = file.lines[deep] ?? { file: patch.file, line: 0 };
      throw new ConformInputError(
        `${at.file}:${at.line}: the C added to ${file.path} nests more than ${MAX_SYNTAX_DEPTH} syntax levels deep here; snp-conform analyses no deeper (C11 §5.2.4.1 asks compilers for 127 nested blocks; the kernel's SEV code stays under 40 levels)`,
      );
    }
    const root = tree.rootNode;
    if (patch.annotatedFlavour !== undefined && root.hasError) {
      const bad = root.descendantsOfType('ERROR')[0];
      const line = bad === undefined || bad === null ? 0 : locate(bad).line;
      throw new ConformInputError(`${patch.file}:${line}: the C added to ${file.path} does not parse`);
    }
    const kept: Node[] = [];
    for (const node of root.namedChildren) {
      if (node === null) continue;
      const whole = ITEMS.has(node.type) && closed(node);
      if (!whole || (node.hasError && node.type !== 'function_definition')) {
        partial.push({ location: locate(node), names: definedName(node) });
        continue;
      }
      kept.push(node);
      if (node.type === 'function_definition') {
        const name = functionName(node);
        if (name === undefined) continue;
        functions.set(name, { node, location: locate(node) });
        if (node.hasError) withErrors.push({ name, location: locate(node) });
      } else if (node.type === 'struct_specifier' && node.childForFieldName('body') !== null) {
        const name = node.childForFieldName('name')?.text;
        if (name !== undefined) structs.set(name, { node, location: locate(node) });
      }
    }
    files.push(keptLines(file, kept));
    kept.forEach((node, i) => {
      const id = ANNOTATION.exec(node.type === 'comment' ? node.text : '')?.[1];
      if (id === undefined) return;
      const next = kept[i + 1];
      const kind =
        next?.type === 'function_definition'
          ? 'function'
          : next?.type === 'struct_specifier'
            ? 'struct'
            : undefined;
      if (next === undefined || kind === undefined) {
        const at = locate(node);
        throw new ConformInputError(
          `${at.file}:${at.line}: @snp-ref ${id} is not right before a function or a struct`,
        );
      }
      const name =
        kind === 'function' ? (functionName(next) ?? '') : (next.childForFieldName('name')?.text ?? '');
      annotations.push({ id, kind, name, node: next, location: locate(next) });
    });
  }
  return { patch, locate, functions, structs, annotations, files, partial, withErrors };
}

/** The lines of a file that hold kept items (blank elsewhere, so rows and locations stay aligned). */
function keptLines(file: SourceFile, kept: readonly Node[]): SourceFile {
  const rows = new Set<number>();
  for (const node of kept)
    for (let row = node.startPosition.row; row <= node.endPosition.row; row++) rows.add(row);
  const code = file.code
    .split('\n')
    .map((line, row) => (rows.has(row) ? line : ''))
    .join('\n');
  return { ...file, code };
}

/** The function a fragment starts to define, if it starts with a function head (its body cut off by the hunk). */
function definedName(node: Node): string[] {
  const head = /^[\w \t*]*?\b(\w+)\s*\(/.exec(node.text)?.[1];
  return head === undefined || node.text.split('\n')[0]?.startsWith('\t') ? [] : [head];
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

/**
 * Functions of the patch a C node hands on as callbacks: a function's name (or `&name`) as a call's
 * argument, as upstream hands sev_gmem_post_populate() to kvm_gmem_populate(), which calls it.
 */
export const cCallbacks: (node: Node, functions: ReadonlyMap<string, unknown>) => readonly string[] = perNode(
  (node, functions) =>
    node.descendantsOfType('argument_list').flatMap((args) =>
      (args?.namedChildren ?? []).flatMap((arg) => {
        const named = arg?.type === 'pointer_expression' ? arg.childForFieldName('argument') : arg;
        return named?.type === 'identifier' && functions.has(named.text) ? [named.text] : [];
      }),
    ),
);

const callsUnder = perNode((node: Node, _tree: Tree) =>
  node.descendantsOfType('call_expression').flatMap((call) => {
    const callee = call?.childForFieldName('function');
    return callee === null || callee === undefined ? [] : [callee.text];
  }),
);

/** Names of the functions a C function calls, directly. */
export const cCalls = (node: Node): readonly string[] => callsUnder(node, node.tree);
