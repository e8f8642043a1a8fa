import type { Node } from 'web-tree-sitter';

/** A field of a C struct as this machine's ABI (x86-64 SysV) lays it out. */
export interface CField {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly node: Node;
}

const SCALARS: Readonly<Record<string, number>> = {
  __u8: 1,
  u8: 1,
  __u16: 2,
  u16: 2,
  __u32: 4,
  u32: 4,
  __u64: 8,
  u64: 8,
};

/**
 * Offsets and sizes of a struct of fixed-width integer fields and arrays of them, with natural
 * alignment and tail padding (what gcc and clang do for these uAPI structs), or undefined with the
 * reason when a field has another type.
 */
export function structLayout(struct: Node): { fields: CField[]; size: number } | string {
  const fields: CField[] = [];
  let offset = 0;
  let align = 1;
  for (const decl of struct.childForFieldName('body')?.namedChildren ?? []) {
    if (decl === null || decl.type !== 'field_declaration') continue;
    const type = decl.childForFieldName('type')?.text ?? '';
    const scalar = SCALARS[type];
    if (scalar === undefined) return `field type ${type} is not a fixed-width integer`;
    let declarator = decl.childForFieldName('declarator');
    let count = 1;
    while (declarator?.type === 'array_declarator') {
      count *= Number(declarator.childForFieldName('size')?.text ?? 'NaN');
      declarator = declarator.childForFieldName('declarator');
    }
    if (declarator === null || !Number.isInteger(count)) return `cannot read the declarator of ${decl.text}`;
    offset = Math.ceil(offset / scalar) * scalar;
    fields.push({ name: declarator.text, offset, size: scalar * count, node: decl });
    offset += scalar * count;
    align = Math.max(align, scalar);
  }
  return { fields, size: Math.ceil(offset / align) * align };
}
