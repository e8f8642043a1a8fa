import { type Node, SyntaxKind } from 'ts-morph';

/** A field of a TS PackedStruct codec: `name: [offset, kind]`. */
export interface TsField {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly line: number;
}

const SIZES: Readonly<Record<string, number>> = { u8: 1, u16: 2, u32: 4, u64: 8 };

/**
 * The layout of a `new PackedStruct(name, size, { field: [offset, kind] })` declaration, read from
 * its source (the codec itself, not a copy of it), or a reason when it is not one.
 */
export function codecLayout(statement: Node): { fields: TsField[]; size: number } | string {
  const call = statement.getFirstDescendantByKind(SyntaxKind.NewExpression);
  const [, sizeArg, layoutArg] = call?.getArguments() ?? [];
  const size = Number(sizeArg?.getText());
  const layout = layoutArg?.asKind(SyntaxKind.ObjectLiteralExpression);
  if (call?.getExpression().getText() !== 'PackedStruct' || layout === undefined || !Number.isInteger(size)) {
    return 'not a new PackedStruct(name, size, { … }) declaration';
  }
  const fields: TsField[] = [];
  for (const property of layout.getProperties()) {
    const assignment = property.asKind(SyntaxKind.PropertyAssignment);
    const tuple = assignment?.getInitializer()?.asKind(SyntaxKind.ArrayLiteralExpression);
    const [offsetNode, kindNode] = tuple?.getElements() ?? [];
    const kind = kindNode?.getText().replace(/['"]/g, '') ?? '';
    const bytes = /bytes:\s*(\d+)/.exec(kind)?.[1];
    const fieldSize = SIZES[kind] ?? (bytes === undefined ? Number.NaN : Number(bytes));
    if (assignment === undefined || offsetNode === undefined || !Number.isInteger(fieldSize))
      return `cannot read field ${property.getText()}`;
    fields.push({
      name: assignment.getName(),
      offset: Number(offsetNode.getText()),
      size: fieldSize,
      line: property.getStartLineNumber(),
    });
  }
  return { fields, size };
}
