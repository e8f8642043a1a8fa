import type { Node } from 'ts-morph';
import { declarationKey } from '../ts/resolve.js';
import type { Concern, Release } from './catalogue.js';

/**
 * The model's declarations behind each concern, the TypeScript side of catalogue.ts: a rule
 * resolves a call (ts-morph's type checker) and looks its declaration up here, so how a caller
 * names its variables does not matter. `name` is `Class` (any member), `Class.member` or a
 * function; `kernel` is the counterpart the model implements.
 */
export interface ModelApi {
  readonly file: string;
  readonly name: string;
  readonly concern: Concern | 'trace' | 'page-size' | 'make-private';
  readonly releases?: readonly Release[];
  readonly kernel: string;
}

export const MODEL_APIS: readonly ModelApi[] = [
  {
    file: 'packages/kvm-svm/src/host/memslots.ts',
    name: 'Memslots',
    concern: 'memslot',
    kernel: 'include/linux/kvm_host.h (struct kvm_memslots, hva_to_gfn_memslot)',
  },
  {
    file: 'packages/kvm-svm/src/host/hostPages.ts',
    name: 'HostPages.releaseDirty',
    concern: 'release',
    releases: ['dirty', 'accessed', 'unpin'],
    kernel:
      'mm/page-writeback.c (set_page_dirty_lock), mm/folio-compat.c (mark_page_accessed), mm/gup.c (unpin_user_page)',
  },
  {
    file: 'packages/kvm-svm/src/host/hostPages.ts',
    name: 'HostPages.unpin',
    concern: 'release',
    releases: ['unpin'],
    kernel: 'mm/gup.c (unpin_user_page)',
  },
  {
    file: 'packages/kvm-svm/src/host/addressSpace.ts',
    name: 'AddressSpace.pinRange',
    concern: 'pin',
    kernel: 'arch/x86/kvm/svm/sev.c (sev_pin_memory: pins the range, unpins its partial pin on failure)',
  },
  {
    file: 'packages/rmp-core/src/instructions/rmpupdate.ts',
    name: 'rmpupdate',
    concern: 'rmp-write',
    kernel: 'the RMPUPDATE instruction (arch/x86/virt/svm/sev.c rmpupdate(), its inline asm)',
  },
  {
    file: 'packages/rmp-core/src/hostRmp.ts',
    name: 'HostRmp.makePrivate',
    concern: 'make-private',
    kernel: 'arch/x86/virt/svm/sev.c (rmp_make_private)',
  },
  {
    file: 'packages/rmp-core/src/trace/traceChange.ts',
    name: 'traceChange',
    concern: 'trace',
    kernel: "the review's tracepoint (docs/review.md point 4)",
  },
  {
    file: 'packages/rmp-core/src/layout.ts',
    name: 'PAGES_PER_2M',
    concern: 'huge-page',
    kernel: 'arch/x86/include/asm/pgtable_types.h (PTRS_PER_PMD 4 KiB pages in a 2 MiB page)',
  },
  {
    file: 'packages/rmp-core/src/layout.ts',
    name: 'PAGE_SIZE',
    concern: 'page-size',
    kernel: 'arch/x86/include/asm/page_types.h (PAGE_SIZE)',
  },
];

/** The firmware model: any of its code is the PSP's, behind an SEV command. */
export const FIRMWARE_PACKAGE = 'packages/psp-firmware/';

/** The catalogue entry a declaration is, or is a member of. */
export function modelApi(declaration: Node, root: string): ModelApi | undefined {
  const { file, name } = declarationKey(declaration, root);
  return MODEL_APIS.find(
    (api) => api.file === file && (api.name === name || name.startsWith(`${api.name}.`)),
  );
}
