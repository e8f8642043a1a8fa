import { SevStatus } from '@snp-ref/psp-firmware';
import { RmpUpdateRet } from '@snp-ref/rmp-core';

/** Where a scenario can make a call fail: the firmware's LAUNCH_UPDATE, or the kernel's rmpupdate(). */
export type FaultSite = 'psp.launch_update' | 'rmpupdate';

/**
 * Injected failures (the scenario step `inject`, packages/scenario/README.md): the nth later call at a site fails with the given code
 * (a firmware status or an RMPUPDATE return code). Deterministic: calls are counted, not sampled.
 */
export class FaultInjector {
  private readonly calls: Record<FaultSite, number> = { 'psp.launch_update': 0, rmpupdate: 0 };
  private readonly planned: { site: FaultSite; call: number; code: number }[] = [];

  /** Makes the `nth` next call (1 = the next one) at `site` fail with `code`. */
  inject(site: FaultSite, nth: number, code: number): void {
    if (!Number.isInteger(nth) || nth < 1)
      throw new RangeError(`inject: nth must be an integer ≥ 1, got ${nth}`);
    const codes: readonly number[] = Object.values(site === 'rmpupdate' ? RmpUpdateRet : SevStatus);
    if (code === 0 || !codes.includes(code)) {
      throw new RangeError(
        `inject: ${code} is not a failure code of ${site === 'rmpupdate' ? 'RMPUPDATE' : 'the firmware'}`,
      );
    }
    this.planned.push({ site, call: this.calls[site] + nth, code });
  }

  /** Counts a call at `site`; the code it must fail with, or undefined to let it run. */
  next(site: FaultSite): number | undefined {
    const call = ++this.calls[site];
    const at = this.planned.findIndex((p) => p.site === site && p.call === call);
    if (at < 0) return undefined;
    const [fault] = this.planned.splice(at, 1);
    return fault?.code;
  }
}
