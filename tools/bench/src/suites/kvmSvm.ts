import {
  createGuestMemfd,
  Kvm,
  launchUpdateReviewed,
  launchUpdateUpstream,
  Machine,
  type SnpVm,
  setGmemMemoryRegion,
  setMemoryAttributes,
} from '@snp-ref/kvm-svm';
import { PAGE_SIZE } from '@snp-ref/rmp-core';
import type { Figure } from '../figure.js';
import { opensslSha384 } from '../references.js';
import { bytesPerSecond } from '../throughput.js';

const GUEST_PAGES = 262_144; // a 1 GiB guest
const GUEST_BYTES = GUEST_PAGES * PAGE_SIZE;
const HVA = 0x7f00_0000_0000;
/** Where the upstream guest's guest_memfd pages are: right after the VMM's source pages. */
const GMEM_PFN = GUEST_PAGES;
const NORMAL = 1; // KVM_SEV_SNP_PAGE_TYPE_NORMAL

/**
 * A host whose first GUEST_PAGES pages hold the guest's contents (deterministic), mapped by the
 * VMM at HVA, and a VM created on it; `extraPages` more host pages for the flavour's own use.
 */
function hostWithGuestImage(
  flavour: 'reviewed' | 'upstream',
  extraPages: number,
  rejectAssignedOnUpdate = false,
) {
  const machine = Machine.create({
    hostPages: GUEST_PAGES + extraPages,
    seed: 'bench',
    rejectAssignedOnUpdate,
  });
  const page = new Uint8Array(PAGE_SIZE);
  const words = new Uint32Array(page.buffer);
  let x = 0x5eed;
  for (let pfn = 0; pfn < GUEST_PAGES; pfn++) {
    for (let i = 0; i < words.length; i++) words[i] = x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
    machine.memory.write(pfn, page);
  }
  const vm = new Kvm(machine, flavour).createVm({ name: 'bench' });
  vm.addressSpace.map(HVA, 0, GUEST_PAGES);
  return vm;
}

const fail = (message: string): never => {
  throw new Error(message);
};

function launchStarted(vm: SnpVm): SnpVm {
  if (!vm.launchStart({ policy: 0x3_0000n }).ok) throw new Error('LAUNCH_START failed');
  return vm;
}

/** A reviewed VM at LAUNCH, ready for LAUNCH_UPDATE of the guest image. */
function reviewedVm(rejectAssignedOnUpdate: boolean): SnpVm {
  return launchStarted(hostWithGuestImage('reviewed', 4096, rejectAssignedOnUpdate));
}

/**
 * An upstream VM at LAUNCH: a guest_memfd of the guest's size bound to memslot 0 at gpa 0 (its
 * shared side the VMM's image), every gfn private.
 */
function upstreamVm(): SnpVm {
  const vm = hostWithGuestImage('upstream', GUEST_PAGES + 4096);
  const made = createGuestMemfd(vm, 'guest', GMEM_PFN, GUEST_PAGES);
  const gmem = vm.gmems.get('guest');
  if (!made.ok || gmem === undefined) throw new Error('KVM_CREATE_GUEST_MEMFD failed');
  const steps = [
    setGmemMemoryRegion(vm, { slot: 0, gpa: 0, hva: HVA, size: GUEST_BYTES, gmem, gmemOffset: 0 }),
    setMemoryAttributes(vm, 0, GUEST_BYTES, true),
  ];
  if (!steps.every((s) => s.ok)) throw new Error('the upstream memslot or memory attributes failed');
  return launchStarted(vm);
}

/** kvm-svm's figures: a 1 GiB guest launched through the reviewed and the upstream LAUNCH_UPDATE, and the sanity check's cost. */
export async function kvmSvmFigures(): Promise<Figure[]> {
  const vms = new Map<string, SnpVm>();
  /** Sets up the task's VM outside the timed part, every earlier one freed first (a 1 GiB guest each) and collected. */
  const prepare = (name: string, create: () => SnpVm) => () => {
    vms.clear();
    globalThis.gc?.();
    vms.set(name, create());
  };
  const vm = (name: string) => vms.get(name) ?? fail(`no VM prepared for ${name}`);
  const reviewed = (name: string, check: boolean) => ({
    beforeEach: prepare(name, () => reviewedVm(check)),
    run: () => {
      const result = launchUpdateReviewed(vm(name), { gpa: 0, hva: HVA, len: GUEST_BYTES, type: NORMAL });
      if (!result.ok) throw new Error(`LAUNCH_UPDATE failed: ${result.errno} ${result.fwError ?? ''}`);
    },
  });
  const upstream = {
    beforeEach: prepare('upstream', upstreamVm),
    run: () => {
      const result = launchUpdateUpstream(vm('upstream'), {
        gfnStart: 0n,
        uaddr: BigInt(HVA),
        len: BigInt(GUEST_BYTES),
        type: NORMAL,
      });
      if (!result.ok || result.pages !== GUEST_PAGES)
        throw new Error(
          `upstream LAUNCH_UPDATE stopped: ${JSON.stringify(result.ok ? result.stopped : result)}`,
        );
    },
  };
  const rate = await bytesPerSecond(
    { off: reviewed('off', false), on: reviewed('on', true), upstream },
    GUEST_BYTES,
    2,
  );
  const openssl = opensslSha384();
  const reference = { name: 'openssl speed -elapsed -evp sha384, 1 core', value: openssl };
  const off = rate.off ?? Number.NaN;
  return [
    {
      name: 'launch a 1 GiB guest (reviewed LAUNCH_UPDATE, 262144 NORMAL pages)',
      value: off,
      unit: 'B/s',
      reference,
      target: { min: 0.5 * openssl },
    },
    {
      name: 'the same launch with rejectAssignedOnUpdate on',
      value: rate.on ?? Number.NaN,
      unit: 'B/s',
      reference: { name: 'the check off', value: off },
    },
    {
      name: 'launch a 1 GiB guest (upstream LAUNCH_UPDATE over guest_memfd, 262144 NORMAL pages)',
      value: rate.upstream ?? Number.NaN,
      unit: 'B/s',
      reference,
      target: { min: 0.5 * openssl },
    },
  ];
}
