export interface Memslot {
  readonly slot: number;
  readonly gpa: number;
  readonly hva: number;
  readonly size: number;
}

/**
 * KVM memslots of one VM (KVM_SET_USER_MEMORY_REGION): gpa ranges backed by hva ranges, created,
 * moved and deleted at any time. Only the v4 flavour of LAUNCH_UPDATE consults them.
 */
export class Memslots {
  private readonly slots = new Map<number, Memslot>();
  /** Bumped on every change, like kvm->memslots generation. */
  generation = 0;

  /** Creates or moves slot `slot`; size 0 deletes it. */
  set(slot: number, gpa: number, hva: number, size: number): void {
    if (size === 0) this.slots.delete(slot);
    else this.slots.set(slot, { slot, gpa, hva, size });
    this.generation++;
  }

  /** The slot whose hva range contains `hva`: how v4 finds a page's gpa from the userspace address. */
  byHva(hva: number): Memslot | undefined {
    for (const s of this.slots.values()) if (hva >= s.hva && hva < s.hva + s.size) return s;
    return undefined;
  }

  /** The gpa `hva` is mapped at, through its slot (hva_to_gfn_memslot in include/linux/kvm_host.h). */
  gpaOf(hva: number): number | undefined {
    const slot = this.byHva(hva);
    return slot === undefined ? undefined : slot.gpa + (hva - slot.hva);
  }

  all(): Memslot[] {
    return [...this.slots.values()];
  }
}
