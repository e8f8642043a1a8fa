import type { CDefinition, CEntity, ParsedC } from '../c/cModel.js';
import { ConformInputError } from '../input.js';
import { CHECKED_THROUGH, DEFAULT_MAP } from './defaultMap.js';
import type { MapEntry } from './mapFile.js';

/** A model entity a rule checks the C through that the C holds nothing for: what is left unchecked, and what the user can do. */
export interface Unpaired {
  readonly entity: string;
  readonly why: string;
}

export interface Pairing {
  readonly entities: ReadonlyMap<string, CEntity>;
  readonly unpaired: readonly Unpaired[];
  readonly notes: readonly string[];
}

/** The uAPI entities are structs, every other a function (the model's tags, docs in the README). */
const kindOf = (entity: string): CEntity['kind'] => (entity.startsWith('uapi.') ? 'struct' : 'function');

/**
 * Pairs the model's entities (`known`) with the C: a patch's own annotation first, then the map
 * file (`mapFile` names it in reasons), then the kernel's usual names (DEFAULT_MAP). An annotation
 * naming an entity the model does not have is an error of the input.
 */
export function pairEntities(
  parsed: ParsedC,
  known: ReadonlySet<string>,
  map: { readonly file: string; readonly entries: readonly MapEntry[] } | undefined,
): Pairing {
  const entities = new Map<string, CEntity>();
  const notes: string[] = [];
  for (const annotation of parsed.annotations) {
    if (!known.has(annotation.id)) {
      const at = annotation.location;
      throw new ConformInputError(
        `${at.file}:${at.line}: @snp-ref ${annotation.id} has no TypeScript entity tagged @conforms ${annotation.id}`,
      );
    }
    entities.set(annotation.id, { ...annotation, by: 'annotation' });
  }
  const definition = (entity: string, name: string): CDefinition | undefined =>
    (kindOf(entity) === 'struct' ? parsed.structs : parsed.functions).get(name);
  const unpaired: Unpaired[] = [];
  for (const entity of [...known].sort()) {
    const mapped = map?.entries.find((e) => e.entity === entity);
    const annotated = entities.get(entity);
    if (annotated !== undefined) {
      if (mapped !== undefined && mapped.name !== annotated.name)
        notes.push(
          `${map?.file}:${mapped.line} maps ${entity} to ${mapped.name}; the patch's annotation pairs it with ${annotated.name}, and annotations win`,
        );
      continue;
    }
    const candidates = mapped === undefined ? (DEFAULT_MAP[entity] ?? []).map((k) => k.name) : [mapped.name];
    const name = candidates.find((n) => definition(entity, n) !== undefined);
    const found = name === undefined ? undefined : definition(entity, name);
    if (name !== undefined && found !== undefined) {
      entities.set(entity, {
        id: entity,
        kind: kindOf(entity),
        name,
        node: found.node,
        location: found.location,
        by: mapped === undefined ? 'default map' : 'map file',
      });
      continue;
    }
    const checked = CHECKED_THROUGH[entity];
    if (checked !== undefined)
      unpaired.push({
        entity,
        why: `${checked}: ${whyUnpaired(parsed, entity, candidates, mapped, map?.file)}`,
      });
  }
  return { entities, unpaired, notes };
}

function whyUnpaired(
  parsed: ParsedC,
  entity: string,
  candidates: readonly string[],
  mapped: MapEntry | undefined,
  mapFile: string | undefined,
): string {
  const kind = kindOf(entity);
  const named = candidates.map((n) => (kind === 'struct' ? `struct ${n}` : `${n}()`)).join(' or ');
  const cut = parsed.partial.find((p) => p.names.some((n) => candidates.includes(n)));
  if (cut !== undefined)
    return `${named} is in the input only in part (from ${cut.location.file}:${cut.location.line}): not analysed`;
  if (mapped !== undefined)
    return `${mapFile}:${mapped.line} maps it to ${named}, which the input does not define whole`;
  return `the input defines no ${named} (if another patch of the series does, give it too; if it has another name, add "${entity} <name>" to a map file given with --map FILE)`;
}
