import { ConformInputError } from '../input.js';

/** The largest map file read: a map names a handful of functions. */
const MAX_BYTES = 64 * 1024;

/** One line of a map file: this entity is the C function or struct of this name. */
export interface MapEntry {
  readonly entity: string;
  readonly name: string;
  readonly line: number;
}

const ENTITY = /^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+$/;
const C_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A map file (`--map FILE`, format in the README): one `<entity> <C name>` pair per line, `struct`
 * allowed before a struct's name, `#` comments and blank lines ignored. `known` are the entity ids
 * the model has; anything else is named with its line.
 */
export function parseMapFile(text: string, file: string, known: ReadonlySet<string>): MapEntry[] {
  if (text.length > MAX_BYTES)
    throw new ConformInputError(`${file}: a map file is at most ${MAX_BYTES} bytes`);
  const entries: MapEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const words = (raw.split('#')[0] ?? '')
      .trim()
      .split(/\s+/)
      .filter((w) => w !== '');
    if (words.length === 0) return;
    const [entity = '', ...rest] = words;
    const name = rest[0] === 'struct' ? rest.slice(1) : rest;
    const bad = (why: string) => new ConformInputError(`${file}:${line}: ${why}`);
    if (!ENTITY.test(entity) || !known.has(entity))
      throw bad(`unknown entity "${entity}"; the model has ${[...known].sort().join(', ')}`);
    if (name.length !== 1 || !C_NAME.test(name[0] ?? ''))
      throw bad(`expected "${entity} <C function or struct name>", got "${raw.trim()}"`);
    if (entries.some((e) => e.entity === entity)) throw bad(`${entity} is mapped twice`);
    entries.push({ entity, name: name[0] ?? '', line });
  });
  return entries;
}
