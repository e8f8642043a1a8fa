import { SevStatus } from '@snp-ref/psp-firmware';
import { RmpUpdateRet } from '@snp-ref/rmp-core';

/** Sites that fail with a code: the firmware's LAUNCH_UPDATE (a status), the kernel's rmpupdate() (an RMPUPDATE return code). */
export type CodedFaultSite = 'psp.launch_update' | 'rmpupdate';

/**
 * Kernel calls of the launch path that fail the one way the kernel API can: `pin` (pinning one
 * page of the range fails, as get_user_pages does on a page it cannot fault in: mm/gup.c), `alloc`
 * (a kmalloc/kvmalloc-family allocation returns NULL: include/linux/slab.h), `copy_from_user` and
 * `copy_to_user` (bytes left uncopied: include/linux/uaccess.h).
 */
export type KernelFaultSite = 'pin' | 'alloc' | 'copy_from_user' | 'copy_to_user';

/** Where a scenario can make a call fail. */
export type FaultSite = CodedFaultSite | KernelFaultSite;

/** Every site a scenario's `inject` step can name. */
export const FAULT_SITES: readonly FaultSite[] = [
  'psp.launch_update',
  'rmpupdate',
  'pin',
  'alloc',
  'copy_from_user',
  'copy_to_user',
];

/** Whether a failure at `site` carries a code (a firmware status or an RMPUPDATE return code). */
export const isCodedSite = (site: FaultSite): site is CodedFaultSite =>
  site === 'psp.launch_update' || site === 'rmpupdate';

/**
 * Injected failures (the scenario step `inject`, packages/scenario/README.md): the nth later call at
 * a site fails, with the given code at a coded site. Deterministic: calls are counted, not sampled.
 */
export class FaultInjector {
  /** Calls per site (a Map: `take` runs several times per launched page, with the site as a variable key). */
  private readonly counted = new Map<FaultSite, number>(FAULT_SITES.map((s) => [s, 0]));
  private readonly planned: { site: FaultSite; call: number; code: number }[] = [];

  /** Makes the `nth` next call (1 = the next one) at `site` fail; a coded site needs its failure `code`, a kernel site takes none. */
  inject(site: FaultSite, nth: number, code?: number): void {
    if (!Number.isInteger(nth) || nth < 1)
      throw new RangeError(`inject: nth must be an integer ≥ 1, got ${nth}`);
    if (!isCodedSite(site)) {
      if (code !== undefined) throw new RangeError(`inject: ${site} fails without a code`);
      this.planned.push({ site, call: this.calls(site) + nth, code: 0 });
      return;
    }
    const codes: readonly number[] = Object.values(site === 'rmpupdate' ? RmpUpdateRet : SevStatus);
    if (code === undefined || code === 0 || !codes.includes(code)) {
      throw new RangeError(
        `inject: ${code} is not a failure code of ${site === 'rmpupdate' ? 'RMPUPDATE' : 'the firmware'}`,
      );
    }
    this.planned.push({ site, call: this.calls(site) + nth, code });
  }

  /** Counts a call at a coded site; the code it must fail with, or undefined to let it run. */
  next(site: CodedFaultSite): number | undefined {
    return this.take(site)?.code;
  }

  /** Counts a call at a kernel site; true if it must fail. */
  fails(site: KernelFaultSite): boolean {
    return this.take(site) !== undefined;
  }

  /** The calls counted at `site` so far (a clean run's count is where failures can be injected). */
  calls(site: FaultSite): number {
    return this.counted.get(site) ?? 0;
  }

  private take(site: FaultSite) {
    const call = this.calls(site) + 1;
    this.counted.set(site, call);
    if (this.planned.length === 0) return undefined; // every page of a launch asks: no search when nothing is planned
    const at = this.planned.findIndex((p) => p.site === site && p.call === call);
    return at < 0 ? undefined : this.planned.splice(at, 1)[0];
  }
}
