import type { KvmAbi } from './checks.js';
import type { Machine } from './machine.js';
import { SnpVm } from './snp/snpVm.js';
import type { VmsaProfile } from './snp/vmsaProfile.js';

/** What {@link Kvm.createVm} creates: the VM's name, and optionally its ASID, KVM ABI and vCPU count. */
export interface CreateVmOptions {
  readonly name: string;
  /** The VM's ASID; default the lowest one no VM of this KVM uses, from 1. */
  readonly asid?: number;
  readonly abi?: KvmAbi;
  /** vCPUs whose VMSAs LAUNCH_FINISH measures; default 0. */
  readonly vcpus?: number;
  /** The vCPU state their VMSAs are built from; zero VMSAs without it. */
  readonly vmsa?: VmsaProfile;
}

/** KVM on one machine: its SNP VMs and their ASIDs (sev_asid_new in arch/x86/kvm/svm/sev.c). */
export class Kvm {
  private readonly vms = new Map<string, SnpVm>();

  constructor(
    readonly machine: Machine,
    readonly defaultAbi: KvmAbi = 'reviewed',
  ) {}

  /**
   * KVM_CREATE_VM(KVM_X86_SNP_VM, type 4) + KVM_SEV_INIT2 (docs/spec-notes.md §3.1): a VM with its
   * ASID. Throws on a taken name or ASID.
   */
  createVm(options: CreateVmOptions): SnpVm {
    if (this.vms.has(options.name)) throw new RangeError(`a VM named "${options.name}" exists`);
    const used = new Set([...this.vms.values()].map((vm) => vm.asid));
    const max = this.machine.firmware.config.maxSnpAsid;
    let asid = options.asid;
    if (asid === undefined) for (asid = 1; used.has(asid); asid++);
    if (!Number.isInteger(asid) || asid < 1 || asid > max)
      throw new RangeError(`ASID ${asid} is not in 1..${max}`);
    if (used.has(asid)) throw new RangeError(`ASID ${asid} is used by another VM`);
    const vm = new SnpVm(
      this.machine,
      options.name,
      asid,
      options.abi ?? this.defaultAbi,
      options.vcpus ?? 0,
      options.vmsa,
    );
    this.vms.set(options.name, vm);
    return vm;
  }

  /** The VM named `name`, or undefined. */
  vm(name: string): SnpVm | undefined {
    return this.vms.get(name);
  }

  /** Every VM, in the order they were created. */
  all(): SnpVm[] {
    return [...this.vms.values()];
  }
}
