import type { CEntity } from '../c/cModel.js';
import { structLayout } from '../c/layout.js';
import type { Flavour } from '../c/patch.js';
import { tsEntity } from '../rules/reach.js';
import { codecLayout } from '../ts/codec.js';
import type { TsModel } from '../ts/tsModel.js';

export const FLAVOURS: readonly Flavour[] = ['reviewed', 'v4'];

/** The flavour a patch is checked as, and how it was chosen (said in every report). */
export interface FlavourChoice {
  readonly flavour: Flavour;
  readonly why: string;
}

/**
 * Infers the flavour of a patch without a flavour line from its uAPI struct: the flavour whose
 * codec has the struct's size and each of its fields at an offset where the C struct has a field
 * of that size, whatever the fields are called.
 * Upstream's struct (Linux ≥ 6.11) is byte for byte the reviewed one, so it is checked as reviewed.
 */
export function inferFlavour(struct: CEntity | undefined, ts: TsModel): FlavourChoice {
  const assumed = (why: string): FlavourChoice => ({
    flavour: 'reviewed',
    why: `assumed reviewed: ${why}; give --flavour v4 to check it as the RFC v4 flow`,
  });
  if (struct === undefined) return assumed('the input defines no launch-update uAPI struct');
  const c = structLayout(struct.node);
  if (typeof c === 'string') return assumed(`struct ${struct.name} cannot be laid out (${c})`);
  // Every field of the codec is a C field at its offset and of its size; padding the codec leaves
  // out may be named in C, but the sizes must agree.
  const match = FLAVOURS.find((flavour) => {
    const codec = tsEntity(ts, struct.id, flavour);
    const layout = codec === undefined ? 'none' : codecLayout(codec.node);
    return (
      typeof layout !== 'string' &&
      layout.size === c.size &&
      layout.fields.every((f) => c.fields.some((mine) => mine.offset === f.offset && mine.size === f.size))
    );
  });
  return match === undefined
    ? assumed(`struct ${struct.name} (${c.size} bytes) is laid out as neither flavour's uAPI`)
    : {
        flavour: match,
        why: `inferred: struct ${struct.name} is laid out as the ${match} uAPI (${c.size} bytes, each of its fields at the same offset and of the same size)`,
      };
}
