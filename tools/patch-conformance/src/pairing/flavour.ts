import type { CEntity } from '../c/cModel.js';
import { structLayout } from '../c/layout.js';
import { FLAVOURS, type Flavour } from '../c/patch.js';
import { tsEntity } from '../rules/reach.js';
import { codecLayout } from '../ts/codec.js';
import type { TsModel } from '../ts/tsModel.js';

/** The flavour a patch is checked as, and how it was chosen (said in every report). */
export interface FlavourChoice {
  readonly flavour: Flavour;
  readonly why: string;
}

/**
 * Infers the flavour of a patch without a flavour line from its uAPI struct: the flavours whose
 * codec has the struct's size and each of its fields at an offset where the C struct has a field
 * of that size, whatever the fields are called. Upstream's struct (Linux ≥ 6.11) is byte for byte
 * the reviewed one; what tells them apart is the mechanism: upstream's launch update hands its
 * pages to guest_memfd (`viaGuestMemfd`, kvm_gmem_populate() reached).
 */
export function inferFlavour(
  struct: CEntity | undefined,
  ts: TsModel,
  viaGuestMemfd: boolean,
): FlavourChoice {
  const byMechanism = viaGuestMemfd ? 'upstream' : 'reviewed';
  const assumed = (why: string): FlavourChoice => ({
    flavour: byMechanism,
    why: `assumed ${byMechanism}: ${why}; give --flavour to check it as another flow`,
  });
  if (struct === undefined) return assumed('the input defines no launch-update uAPI struct');
  const c = structLayout(struct.node);
  if (typeof c === 'string') return assumed(`struct ${struct.name} cannot be laid out (${c})`);
  // Every field of the codec is a C field at its offset and of its size; padding the codec leaves
  // out may be named in C, but the sizes must agree.
  const matches = FLAVOURS.filter((flavour) => {
    const codec = tsEntity(ts, struct.id, flavour);
    const layout = codec === undefined ? 'none' : codecLayout(codec.node);
    return (
      typeof layout !== 'string' &&
      layout.size === c.size &&
      layout.fields.every((f) => c.fields.some((mine) => mine.offset === f.offset && mine.size === f.size))
    );
  });
  if (matches.length === 0)
    return assumed(`struct ${struct.name} (${c.size} bytes) is laid out as no flavour's uAPI`);
  const flavour =
    matches.length === 1
      ? (matches[0] as Flavour)
      : matches.includes(byMechanism)
        ? byMechanism
        : (matches[0] as Flavour);
  const layout = `struct ${struct.name} is laid out as the ${matches.join(' and ')} uAPI (${c.size} bytes, each of its fields at the same offset and of the same size)`;
  return {
    flavour,
    why:
      matches.length === 1
        ? `inferred: ${layout}`
        : `inferred: ${layout}, and launch update ${viaGuestMemfd ? 'hands its pages to guest_memfd (kvm_gmem_populate())' : 'does not use guest_memfd'}`,
  };
}
