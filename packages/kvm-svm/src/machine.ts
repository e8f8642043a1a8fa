import { type FirmwareConfig, PhysicalMemory, SnpFirmware } from '@snp-ref/psp-firmware';
import { HostRmp, RmpTable, type RmpUpdateRet } from '@snp-ref/rmp-core';
import { FaultInjector } from './faults.js';
import { HostPages } from './host/hostPages.js';

/** The host a Machine models: its memory, the seed of its secrets, and the kernel's optional checks. */
export interface MachineOptions {
  /** Host physical memory in 4 KiB pages. */
  readonly hostPages: number;
  /** Derives the platform's secrets and memory keys; default 'snp-ref'. */
  readonly seed?: string;
  /** The review's optional sanity check in the kernel's rmpupdate(); default off. */
  readonly rejectAssignedOnUpdate?: boolean;
  readonly firmware?: Omit<FirmwareConfig, 'seed'>;
}

/**
 * One SNP host: physical memory, its RMP with the kernel's helpers, the firmware, the kernel's page
 * bookkeeping and the fault injector. Created by the caller and passed to everything that runs on it.
 */
export class Machine {
  readonly rmp: RmpTable;
  readonly hostRmp: HostRmp;
  readonly memory: PhysicalMemory;
  readonly firmware: SnpFirmware;
  readonly pages: HostPages;
  readonly faults = new FaultInjector();

  private constructor(options: MachineOptions) {
    const seed = options.seed ?? 'snp-ref';
    this.rmp = RmpTable.create(options.hostPages);
    this.hostRmp = new HostRmp(this.rmp, { rejectAssignedOnUpdate: options.rejectAssignedOnUpdate ?? false });
    this.hostRmp.fault = () => this.faults.next('rmpupdate') as RmpUpdateRet | undefined; // inject() checked the code
    this.memory = PhysicalMemory.create(`${seed}/memory`);
    this.firmware = new SnpFirmware(this.rmp, this.memory, { ...options.firmware, seed });
    this.pages = new HostPages(options.hostPages);
  }

  /**
   * A host with SNP initialised as the ccp driver leaves it (__sev_snp_init_locked in
   * drivers/crypto/ccp/sev-dev.c): SNP_INIT, then SNP_DF_FLUSH so that every ASID is usable.
   */
  static create(options: MachineOptions): Machine {
    const machine = new Machine(options);
    for (const status of [machine.firmware.snpInit(), machine.firmware.dfFlush()]) {
      if (status.name !== 'SUCCESS') throw new Error(`SNP initialisation failed: ${status.name}`);
    }
    return machine;
  }
}
