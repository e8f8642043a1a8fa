import { Kvm, launchUpdateReviewed, Machine, type SnpVm } from '@snp-ref/kvm-svm';
import { PAGE_SIZE } from '@snp-ref/rmp-core';
import type { Figure } from '../figure.js';
import { opensslSha384 } from '../references.js';
import { bytesPerSecond } from '../throughput.js';

const GUEST_PAGES = 262_144; // a 1 GiB guest
const GUEST_BYTES = GUEST_PAGES * PAGE_SIZE;
const HVA = 0x7f00_0000_0000;

/** A host with the guest's memory filled (deterministic contents) and a VM at LAUNCH, ready for LAUNCH_UPDATE. */
function launchingVm(rejectAssignedOnUpdate: boolean): SnpVm {
  const machine = Machine.create({ hostPages: GUEST_PAGES + 4096, seed: 'bench', rejectAssignedOnUpdate });
  const page = new Uint8Array(PAGE_SIZE);
  const words = new Uint32Array(page.buffer);
  let x = 0x5eed;
  for (let pfn = 0; pfn < GUEST_PAGES; pfn++) {
    for (let i = 0; i < words.length; i++) words[i] = x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
    machine.memory.write(pfn, page);
  }
  const vm = new Kvm(machine).createVm({ name: 'bench' });
  vm.addressSpace.map(HVA, 0, GUEST_PAGES);
  if (!vm.launchStart({ policy: 0x3_0000n }).ok) throw new Error('LAUNCH_START failed');
  return vm;
}

/** kvm-svm's figures: a 1 GiB guest launched through the reviewed LAUNCH_UPDATE, and the sanity check's cost. */
export async function kvmSvmFigures(): Promise<Figure[]> {
  const vms: Record<string, SnpVm> = {};
  const task = (name: string, check: boolean) => ({
    beforeEach: () => {
      vms[name] = launchingVm(check);
    },
    run: () => {
      const result = launchUpdateReviewed(vms[name] as SnpVm, {
        gpa: 0,
        hva: HVA,
        len: GUEST_BYTES,
        type: 1,
      });
      if (!result.ok) throw new Error(`LAUNCH_UPDATE failed: ${result.errno} ${result.fwError ?? ''}`);
    },
  });
  const rate = await bytesPerSecond({ off: task('off', false), on: task('on', true) }, GUEST_BYTES, 2);
  const openssl = opensslSha384();
  const off = rate.off ?? Number.NaN;
  return [
    {
      name: 'launch a 1 GiB guest (reviewed LAUNCH_UPDATE, 262144 NORMAL pages)',
      value: off,
      unit: 'B/s',
      reference: { name: 'openssl speed -evp sha384, 1 core', value: openssl },
      target: { min: 0.5 * openssl },
    },
    {
      name: 'the same launch with rejectAssignedOnUpdate on',
      value: rate.on ?? Number.NaN,
      unit: 'B/s',
      reference: { name: 'the check off', value: off },
    },
  ];
}
