import type { GuestMemfd } from './guestMemfd.js';

/**
 * A KVM memory slot: `size` bytes of guest physical memory from `gpa`, backed by the VMM's memory at `hva`.
 */
export interface Memslot {
  readonly slot: number;
  readonly gpa: number;
  readonly hva: number;
  readonly size: number;
  /** KVM_MEM_GUEST_MEMFD: the guest_memfd behind its private pages and the byte offset into it. */
  readonly gmem?: { readonly file: GuestMemfd; readonly offset: number };
}

/**
 * KVM memslots of one VM (KVM_SET_USER_MEMORY_REGION): gpa ranges backed by hva ranges, created,
 * moved and deleted at any time. The v4 flavour of LAUNCH_UPDATE finds gpas through them, the
 * upstream one its guest_memfd; the reviewed one never consults them.
 */
export class Memslots {
  private readonly slots = new Map<number, Memslot>();
  /** Bumped on every change, like kvm->memslots generation. */
  generation = 0;

  /** Creates or moves slot `slot`; size 0 deletes it. */
  set(slot: number, gpa: number, hva: number, size: number, gmem?: Memslot['gmem']): void {
    if (size === 0) this.slots.delete(slot);
    else this.slots.set(slot, { slot, gpa, hva, size, ...(gmem && { gmem }) });
    this.generation++;
  }

  /** The memslot with id `slot`, if it exists. */
  get(slot: number): Memslot | undefined {
    return this.slots.get(slot);
  }

  /** The slot whose gpa range contains `gpa` (gfn_to_memslot in virt/kvm/kvm_main.c). */
  byGpa(gpa: number): Memslot | undefined {
    for (const s of this.slots.values()) if (gpa >= s.gpa && gpa < s.gpa + s.size) return s;
    return undefined;
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

  /** Every slot, as a new array. */
  all(): Memslot[] {
    return [...this.slots.values()];
  }
}
