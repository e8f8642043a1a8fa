import { SevStatus } from '@snp-ref/psp-firmware';
import { PAGE_SIZE, RmpUpdateRet } from '@snp-ref/rmp-core';
import { describe, expect, it, vi } from 'vitest';
import { CHECKS, type CheckId } from '../checks.js';
import { Kvm } from '../kvm.js';
import { Machine } from '../machine.js';
import type { KvmFailure, KvmResult } from '../result.js';
import { HVA, host, POLICY, writeIdBlock } from '../test/host.js';
import { GMEM_PFN, update, upstreamVm } from '../test/upstream.js';
import { memEncryptOp } from '../uapi/ioctl.js';
import { KvmSevCmd, KvmSevCommand, KvmSevSnpLaunchUpdate } from '../uapi/structs.js';
import { createGuestMemfd, setGmemMemoryRegion, setMemoryAttributes } from './guestMemory.js';
import { launchUpdateReviewed, launchUpdateV4 } from './launchUpdate.js';
import { launchUpdateUpstream } from './launchUpdateUpstream.js';
import type { SnpVm } from './snpVm.js';

// Every way the launch commands refuse, with the exact result a VMM (and a scenario's reader) gets:
// errno from the catalogue, the check id, the message and the extra fields.

const NORMAL = 1;
const { FAIL_INUSE } = RmpUpdateRet;
const { INVALID_PAGE_STATE } = SevStatus;

/** A host of `hostPages` pages whose VMM maps pfns 0 .. mapped - 1 at HVA: the kernel gets the rest. */
function small(hostPages: number, mapped: number, vcpus = 0) {
  const machine = Machine.create({ hostPages, seed: 'small host' });
  const vm = new Kvm(machine).createVm({ name: 'a', vcpus });
  vm.addressSpace.map(HVA, 0, mapped);
  return { machine, vm };
}

const started = (options: Parameters<typeof host>[0] = {}, vcpus = 0) => {
  const h = host(options);
  const vm = h.kvm.createVm({ name: 'a', vcpus });
  vm.addressSpace.map(HVA, 0x100, 16);
  expect(vm.launchStart({ policy: POLICY }).ok).toBe(true);
  return { ...h, vm };
};

/** A v4 VM whose memslot 0 maps its 16 pages at gpa 0. */
const startedV4 = (options: Parameters<typeof host>[0] = {}) => {
  const h = started({ ...options, abi: 'v4' });
  h.vm.memslots.set(0, 0, HVA, 16 * PAGE_SIZE);
  return h;
};

/** An ID block for another launch (its digest is all ones) and its ID auth, at idHva and idHva + 4096. */
const writeOtherIdBlock = (vm: SnpVm, idHva: number) =>
  expect(writeIdBlock(vm, idHva, new Uint8Array(48).fill(0xff))).toBe(true);

const ID = { idBlockEn: true, idBlockHva: HVA, idAuthHva: HVA + PAGE_SIZE } as const;

interface Case {
  readonly name: string;
  readonly run: () => readonly [KvmResult, Machine];
  readonly expected: KvmFailure;
}

const EINVAL = (check: CheckId, message: string): KvmFailure => ({
  ok: false,
  errno: 'EINVAL',
  check,
  message,
});

const launchStart: Case[] = [
  {
    name: 'a second LAUNCH_START',
    run: () => {
      const { machine, vm } = started();
      return [vm.launchStart({ policy: POLICY }), machine];
    },
    expected: EINVAL('launch_start.state', 'the VM already has an SNP context'),
  },
  ...(
    [
      ['non-zero flags', POLICY, 1, 'launch_start.flags', 'flags must be 0'],
      [
        'a policy bit KVM does not accept',
        0x7_0000n,
        0,
        'launch_start.policy_mask',
        'policy has bits KVM does not accept',
      ],
      [
        'a policy without bit 17',
        0x1_0000n,
        0,
        'launch_start.policy_mbo',
        'policy bit 17 (must be one) is clear',
      ],
    ] as const
  ).map(
    ([name, policy, flags, check, message]): Case => ({
      name,
      run: () => {
        const { machine, kvm } = host();
        return [kvm.createVm({ name: 'a' }).launchStart({ policy, flags }), machine];
      },
      expected: EINVAL(check, message),
    }),
  ),
  {
    name: 'LAUNCH_START when the VMM maps every host page',
    run: () => {
      const { machine, vm } = small(8, 8);
      return [vm.launchStart({ policy: POLICY }), machine];
    },
    expected: {
      ok: false,
      errno: 'ENOTTY',
      check: 'launch_start.no_page',
      message: 'no free host page for the guest context',
    },
  },
  {
    name: 'LAUNCH_START when rmpupdate cannot make the context page a firmware page',
    run: () => {
      const { machine, kvm } = host();
      machine.faults.inject('rmpupdate', 1, FAIL_INUSE);
      return [kvm.createVm({ name: 'a' }).launchStart({ policy: POLICY }), machine];
    },
    expected: {
      ok: false,
      errno: 'ENOTTY',
      check: 'launch_start.no_page',
      message: 'no free host page for the guest context',
    },
  },
  {
    name: 'LAUNCH_START after SNP_SHUTDOWN (GCTX_CREATE and the reclaim fail: the context page leaks)',
    run: () => {
      const { machine, kvm } = host();
      expect(machine.firmware.snpShutdown().name).toBe('SUCCESS');
      return [kvm.createVm({ name: 'a' }).launchStart({ policy: POLICY }), machine];
    },
    expected: {
      ok: false,
      errno: 'ENOTTY',
      check: 'launch_start.gctx_create',
      message: 'SNP_GCTX_CREATE failed',
      fwError: 'INVALID_PLATFORM_STATE',
      leaked: [0xfff],
    },
  },
  {
    name: 'LAUNCH_START of a second VMM’s VM on a taken ASID (ACTIVATE fails)',
    run: () => {
      const { machine, vm } = started();
      return [
        new Kvm(machine).createVm({ name: 'rogue', asid: vm.asid }).launchStart({ policy: POLICY }),
        machine,
      ];
    },
    expected: {
      ok: false,
      errno: 'EIO',
      check: 'launch_start.firmware',
      message: 'SNP_LAUNCH_START or SNP_ACTIVATE failed',
      fwError: 'ASID_OWNED',
    },
  },
  {
    name: 'LAUNCH_START whose context page cannot be reset after DECOMMISSION',
    run: () => {
      const { machine, vm } = started();
      machine.faults.inject('rmpupdate', 2, FAIL_INUSE); // 1: the firmware page, 2: its reset
      return [
        new Kvm(machine).createVm({ name: 'rogue', asid: vm.asid }).launchStart({ policy: POLICY }),
        machine,
      ];
    },
    expected: {
      ok: false,
      errno: 'EIO',
      check: 'launch_start.firmware',
      message: 'SNP_LAUNCH_START or SNP_ACTIVATE failed',
      fwError: 'ASID_OWNED',
      leaked: [0xffe],
    },
  },
];

const reviewed = (params: Partial<Parameters<typeof launchUpdateReviewed>[1]>) => () => {
  const { machine, vm } = started();
  return [
    launchUpdateReviewed(vm, { gpa: 0, hva: HVA, len: PAGE_SIZE, type: NORMAL, ...params }),
    machine,
  ] as const;
};

/** What a two-page reviewed launch update returns when the nth call at a kernel fault site fails. */
function injected(site: 'copy_from_user' | 'alloc' | 'pin', nth: number): KvmFailure {
  if (site === 'pin')
    return {
      ok: false,
      errno: 'EFAULT',
      check: 'launch_update.pin',
      message: 'the hva range is not fully mapped',
    };
  if (site === 'alloc')
    return nth === 1
      ? {
          ok: false,
          errno: 'ENOMEM',
          check: 'launch_update.alloc',
          message: 'allocating the page array failed',
        }
      : {
          ok: false,
          errno: 'ENOMEM',
          check: 'launch_update.alloc',
          message: 'allocating the pfn list failed',
          pages: 0,
        };
  return {
    ok: false,
    errno: 'EFAULT',
    check: 'launch_update.copy_from_user',
    message: 'copy_from_user of the struct failed',
  };
}

const launchUpdate: Case[] = [
  {
    name: 'LAUNCH_UPDATE before LAUNCH_START',
    run: () => {
      const { machine, kvm } = host();
      const vm = kvm.createVm({ name: 'a' });
      vm.addressSpace.map(HVA, 0x100, 1);
      return [launchUpdateReviewed(vm, { gpa: 0, hva: HVA, len: PAGE_SIZE, type: NORMAL }), machine];
    },
    expected: EINVAL('launch_update.state', 'the VM is not launching'),
  },
  {
    name: 'LAUNCH_UPDATE after LAUNCH_FINISH',
    run: () => {
      const { machine, vm } = started();
      expect(vm.launchFinish().ok).toBe(true);
      return [launchUpdateReviewed(vm, { gpa: 0, hva: HVA, len: PAGE_SIZE, type: NORMAL }), machine];
    },
    expected: EINVAL('launch_update.state', 'the VM is not launching'),
  },
  {
    name: 'non-zero flags',
    run: reviewed({ flags: 1 }),
    expected: EINVAL('launch_update.flags', 'flags must be 0'),
  },
  {
    name: 'the VMSA page type',
    run: reviewed({ type: 2 }),
    expected: EINVAL('launch_update.type', 'unknown page type 2'),
  },
  ...[0, -PAGE_SIZE, PAGE_SIZE + 0.5, 2 ** 53].map(
    (len): Case => ({
      name: `len ${len}`,
      run: reviewed({ len }),
      expected: EINVAL('launch_update.len', 'len must be a positive number of bytes'),
    }),
  ),
  {
    name: 'len 4097',
    run: reviewed({ len: PAGE_SIZE + 1 }),
    expected: EINVAL('launch_update.len', 'len is not a multiple of 4096'),
  },
  {
    name: 'hva not 4 KiB aligned',
    run: reviewed({ hva: HVA + 8 }),
    expected: EINVAL('launch_update.hva', 'hva is not 4 KiB aligned'),
  },
  ...[-PAGE_SIZE, HVA + 0.5].map(
    (hva): Case => ({
      name: `hva ${hva}`,
      run: reviewed({ hva }),
      expected: EINVAL('launch_update.hva', 'hva is not a 64-bit address'),
    }),
  ),
  {
    name: 'hva + len beyond 2^53',
    run: reviewed({ hva: 2 ** 53 - PAGE_SIZE }),
    expected: EINVAL('launch_update.hva', 'hva + len overflows the 2^53 bytes the model addresses'),
  },
  {
    name: 'an unaligned gpa',
    run: reviewed({ gpa: 0x800 }),
    expected: EINVAL('launch_update.gpa', 'gpa is not 4 KiB aligned'),
  },
  {
    name: 'a range ending past 2^51',
    run: reviewed({ gpa: 2 ** 51 - PAGE_SIZE, len: 2 * PAGE_SIZE }),
    expected: EINVAL('launch_update.gpa', 'gpa + len overflows the guest physical address space'),
  },
  ...(
    [
      ['copy_from_user', 1],
      ['alloc', 1],
      ['alloc', 2],
      ['pin', 1],
      ['pin', 2],
    ] as const
  ).map(([site, nth]) => ({
    name: `an injected ${site} failure at call ${nth}`,
    run: () => {
      const { machine, vm } = started();
      machine.faults.inject(site, nth);
      return [
        launchUpdateReviewed(vm, { gpa: 0, hva: HVA, len: 2 * PAGE_SIZE, type: NORMAL }),
        machine,
      ] as const;
    },
    expected: injected(site, nth),
  })),
  {
    name: 'an hva range partly unmapped',
    run: reviewed({ hva: HVA + 15 * PAGE_SIZE, len: 2 * PAGE_SIZE }),
    expected: {
      ok: false,
      errno: 'EFAULT',
      check: 'launch_update.pin',
      message: 'the hva range is not fully mapped',
    },
  },
  {
    name: 'an hva range mapping a pfn beyond host memory',
    run: () => {
      const { machine, vm } = started();
      vm.addressSpace.map(HVA + 16 * PAGE_SIZE, 4096, 1);
      return [
        launchUpdateReviewed(vm, { gpa: 0, hva: HVA + 15 * PAGE_SIZE, len: 2 * PAGE_SIZE, type: NORMAL }),
        machine,
      ];
    },
    expected: {
      ok: false,
      errno: 'EFAULT',
      check: 'launch_update.pin',
      message: 'the hva range is not fully mapped',
    },
  },
  {
    name: 'a page another guest owns, with rejectAssignedOnUpdate',
    run: () => {
      const { machine, kvm, vm } = started({ rejectAssignedOnUpdate: true });
      expect(
        launchUpdateReviewed(vm, { gpa: 0, hva: HVA + PAGE_SIZE, len: PAGE_SIZE, type: NORMAL }).ok,
      ).toBe(true);
      const other = kvm.createVm({ name: 'b' });
      other.addressSpace.map(HVA, 0x200, 1);
      other.addressSpace.map(HVA + PAGE_SIZE, 0x101, 1); // a's page
      expect(other.launchStart({ policy: POLICY }).ok).toBe(true);
      return [launchUpdateReviewed(other, { gpa: 0, hva: HVA, len: 2 * PAGE_SIZE, type: NORMAL }), machine];
    },
    expected: {
      ok: false,
      errno: 'EBUSY',
      check: 'launch_update.assigned',
      message: 'pfn 0x101 is already assigned',
      pages: 1,
    },
  },
  {
    name: 'a failed rmpupdate',
    run: () => {
      const { machine, vm } = started();
      machine.faults.inject('rmpupdate', 2, FAIL_INUSE);
      return [launchUpdateReviewed(vm, { gpa: 0, hva: HVA, len: 2 * PAGE_SIZE, type: NORMAL }), machine];
    },
    expected: {
      ok: false,
      errno: 'EFAULT',
      check: 'launch_update.rmpupdate',
      message: 'rmpupdate of pfn 0x101 failed',
      rmpRet: 'FAIL_INUSE',
      pages: 1,
    },
  },
  {
    name: 'a firmware failure',
    run: () => {
      const { machine, vm } = started();
      machine.faults.inject('psp.launch_update', 2, INVALID_PAGE_STATE);
      return [launchUpdateReviewed(vm, { gpa: 0, hva: HVA, len: 3 * PAGE_SIZE, type: NORMAL }), machine];
    },
    expected: {
      ok: false,
      errno: 'EIO',
      check: 'launch_update.firmware',
      message: 'SNP_LAUNCH_UPDATE of pfn 0x101 failed',
      fwError: 'INVALID_PAGE_STATE',
      pages: 1,
    },
  },
  {
    name: 'a firmware failure whose failed page cannot be reset after its reclaim',
    run: () => {
      const { machine, vm } = started();
      machine.faults.inject('psp.launch_update', 2, INVALID_PAGE_STATE);
      machine.faults.inject('rmpupdate', 3, FAIL_INUSE); // 1, 2: make private; 3: reset of the failed page
      return [launchUpdateReviewed(vm, { gpa: 0, hva: HVA, len: 2 * PAGE_SIZE, type: NORMAL }), machine];
    },
    expected: {
      ok: false,
      errno: 'EIO',
      check: 'launch_update.firmware',
      message: 'SNP_LAUNCH_UPDATE of pfn 0x101 failed',
      fwError: 'INVALID_PAGE_STATE',
      pages: 1,
      leaked: [0x101],
    },
  },
  {
    name: 'a firmware shut down mid-launch (the reclaim fails too)',
    run: () => {
      const { machine, vm } = started();
      expect(machine.firmware.snpShutdown().name).toBe('SUCCESS');
      return [launchUpdateReviewed(vm, { gpa: 0, hva: HVA, len: 2 * PAGE_SIZE, type: NORMAL }), machine];
    },
    expected: {
      ok: false,
      errno: 'EIO',
      check: 'launch_update.firmware',
      message: 'SNP_LAUNCH_UPDATE of pfn 0x100 failed',
      fwError: 'INVALID_PLATFORM_STATE',
      pages: 0,
      leaked: [0x100],
    },
  },
];

const v4 = (params: Partial<Parameters<typeof launchUpdateV4>[1]>) => () => {
  const { machine, vm } = startedV4();
  return [launchUpdateV4(vm, { hva: HVA, len: PAGE_SIZE, type: NORMAL, ...params }), machine] as const;
};

const launchUpdateRfcV4: Case[] = [
  {
    name: 'v4 LAUNCH_UPDATE before LAUNCH_START',
    run: () => {
      const { machine, kvm } = host({ abi: 'v4' });
      const vm = kvm.createVm({ name: 'a' });
      vm.addressSpace.map(HVA, 0x100, 1);
      vm.memslots.set(0, 0, HVA, PAGE_SIZE);
      return [launchUpdateV4(vm, { hva: HVA, len: PAGE_SIZE, type: NORMAL }), machine];
    },
    expected: EINVAL('launch_update.state', 'the VM is not launching'),
  },
  {
    name: 'v4 LAUNCH_UPDATE after LAUNCH_FINISH',
    run: () => {
      const { machine, vm } = startedV4();
      expect(vm.launchFinish().ok).toBe(true);
      return [launchUpdateV4(vm, { hva: HVA, len: PAGE_SIZE, type: NORMAL }), machine];
    },
    expected: EINVAL('launch_update.state', 'the VM is not launching'),
  },
  {
    name: 'v4 len 0',
    run: v4({ len: 0 }),
    expected: EINVAL('launch_update.len', 'len must be a positive number of bytes'),
  },
  {
    name: 'v4 an unaligned hva',
    run: v4({ hva: HVA + 8 }),
    expected: EINVAL('launch_update.hva', 'hva is not 4 KiB aligned'),
  },
  {
    name: 'v4 an hva range partly unmapped',
    run: v4({ hva: HVA + 15 * PAGE_SIZE, len: 2 * PAGE_SIZE }),
    expected: {
      ok: false,
      errno: 'EFAULT',
      check: 'launch_update.pin',
      message: 'the hva range is not fully mapped',
    },
  },
  {
    name: 'v4 a range its memslot covers only in part',
    run: () => {
      const { machine, vm } = startedV4();
      vm.memslots.set(0, 0, HVA, 2 * PAGE_SIZE);
      return [launchUpdateV4(vm, { hva: HVA, len: 3 * PAGE_SIZE, type: NORMAL }), machine];
    },
    expected: {
      ok: false,
      errno: 'EINVAL',
      check: 'launch_update.no_memslot',
      message: 'no memslot maps hva 0x7f0000002000',
      pages: 2,
    },
  },
  {
    name: 'v4 a failed rmpupdate',
    run: () => {
      const { machine, vm } = startedV4();
      machine.faults.inject('rmpupdate', 2, FAIL_INUSE);
      return [launchUpdateV4(vm, { hva: HVA, len: 2 * PAGE_SIZE, type: NORMAL }), machine];
    },
    expected: {
      ok: false,
      errno: 'EFAULT',
      check: 'launch_update.rmpupdate',
      message: 'rmpupdate of pfn 0x101 failed',
      rmpRet: 'FAIL_INUSE',
      pages: 1,
    },
  },
  {
    name: 'v4 a firmware failure',
    run: () => {
      const { machine, vm } = startedV4();
      machine.faults.inject('psp.launch_update', 2, INVALID_PAGE_STATE);
      return [launchUpdateV4(vm, { hva: HVA, len: 2 * PAGE_SIZE, type: NORMAL }), machine];
    },
    expected: {
      ok: false,
      errno: 'EIO',
      check: 'launch_update.firmware',
      message: 'SNP_LAUNCH_UPDATE of pfn 0x101 failed',
      fwError: 'INVALID_PAGE_STATE',
      pages: 1,
    },
  },
];

const finish =
  (params: Parameters<SnpVm['launchFinish']>[0], setup: (vm: SnpVm, machine: Machine) => void) => () => {
    const { machine, vm } = started({}, 1);
    setup(vm, machine);
    return [vm.launchFinish(params), machine] as const;
  };

const launchFinish: Case[] = [
  {
    name: 'LAUNCH_FINISH before LAUNCH_START',
    run: () => {
      const { machine, kvm } = host();
      return [kvm.createVm({ name: 'a' }).launchFinish(), machine];
    },
    expected: EINVAL('launch_finish.state', 'the VM is not launching'),
  },
  {
    name: 'a second LAUNCH_FINISH',
    run: () => {
      const { machine, vm } = started();
      expect(vm.launchFinish().ok).toBe(true);
      return [vm.launchFinish(), machine];
    },
    expected: EINVAL('launch_finish.state', 'the VM is not launching'),
  },
  {
    name: 'LAUNCH_FINISH with non-zero flags',
    run: finish({ flags: 1 }, () => {}),
    expected: EINVAL('launch_finish.flags', 'flags must be 0'),
  },
  {
    name: 'LAUNCH_FINISH with no host page left for a VMSA',
    run: () => {
      const { machine, vm } = small(16, 15, 1); // the context takes page 15
      expect(vm.launchStart({ policy: POLICY }).ok).toBe(true);
      return [vm.launchFinish(), machine];
    },
    expected: {
      ok: false,
      errno: 'ENOMEM',
      check: 'launch_finish.no_page',
      message: 'no free host page for a VMSA',
    },
  },
  {
    name: 'LAUNCH_FINISH whose VMSA rmpupdate fails',
    run: finish({}, (_, machine) => machine.faults.inject('rmpupdate', 1, FAIL_INUSE)),
    expected: {
      ok: false,
      errno: 'EFAULT',
      check: 'launch_finish.vmsa_rmpupdate',
      message: 'rmpupdate of a VMSA failed',
      rmpRet: 'FAIL_INUSE',
    },
  },
  {
    name: 'LAUNCH_FINISH whose VMSA the firmware refuses (reclaimed)',
    run: finish({}, (_, machine) => machine.faults.inject('psp.launch_update', 1, INVALID_PAGE_STATE)),
    expected: {
      ok: false,
      errno: 'EIO',
      check: 'launch_finish.firmware',
      message: 'SNP_LAUNCH_UPDATE of a VMSA failed',
      fwError: 'INVALID_PAGE_STATE',
      leaked: [],
    },
  },
  {
    name: 'LAUNCH_FINISH whose VMSA the firmware refuses and that cannot be reset (leaked)',
    run: finish({}, (_, machine) => {
      machine.faults.inject('psp.launch_update', 1, INVALID_PAGE_STATE);
      machine.faults.inject('rmpupdate', 2, FAIL_INUSE); // 1: make private; 2: reset after the reclaim
    }),
    expected: {
      ok: false,
      errno: 'EIO',
      check: 'launch_finish.firmware',
      message: 'SNP_LAUNCH_UPDATE of a VMSA failed',
      fwError: 'INVALID_PAGE_STATE',
      leaked: [0xffe],
    },
  },
  ...(
    [
      ['an unmapped ID block', { ...ID, idBlockHva: 0x1000 }],
      ['an unmapped ID auth', { ...ID, idAuthHva: 0x1000 }],
    ] as const
  ).map(
    ([name, params]): Case => ({
      name: `LAUNCH_FINISH with ${name}`,
      run: finish(params, (vm) => writeOtherIdBlock(vm, HVA)),
      expected: {
        ok: false,
        errno: 'EFAULT',
        check: 'launch_finish.id_block',
        message: 'the ID block or ID auth is not mapped',
      },
    }),
  ),
  ...(
    [
      ['for the ID block', 15],
      ['for the ID auth', 14],
    ] as const
  ).map(
    ([name, mapped]): Case => ({
      name: `LAUNCH_FINISH with no host page left ${name}`,
      run: () => {
        const { machine, vm } = small(16, mapped); // the context takes page 15
        expect(vm.launchStart({ policy: POLICY }).ok).toBe(true);
        writeOtherIdBlock(vm, HVA);
        return [vm.launchFinish(ID), machine];
      },
      expected: {
        ok: false,
        errno: 'ENOMEM',
        check: 'launch_finish.no_page',
        message: 'no free host page for the ID block',
      },
    }),
  ),
  ...(
    [
      ['an ID block of another launch', ID, 'BAD_MEASUREMENT'],
      ['AUTHOR_KEY_EN and an ID auth without an author key', { ...ID, authKeyEn: true }, 'INVALID_PARAM'],
      ['VCEK_DISABLED (the model always signs with the VCEK)', { vcekDisabled: true }, 'UNSUPPORTED'],
    ] as const
  ).map(
    ([name, params, fwError]): Case => ({
      name: `LAUNCH_FINISH with ${name}`,
      run: finish(params, (vm) => writeOtherIdBlock(vm, HVA)),
      expected: {
        ok: false,
        errno: 'EIO',
        check: 'launch_finish.firmware',
        message: 'SNP_LAUNCH_FINISH failed',
        fwError,
      },
    }),
  ),
];

/** ioctl(KVM_MEMORY_ENCRYPT_OP) of command `id` whose struct is at `data` in the VMM. */
const memEncrypt = (vm: SnpVm, id: number, data: number) =>
  memEncryptOp(vm, KvmSevCmd.encode({ id, data: BigInt(data), error: 0, sevFd: 3 })).result;
const UNMAPPED = 0xdead_0000;
const { KVM_SEV_SNP_LAUNCH_START, KVM_SEV_SNP_LAUNCH_UPDATE, KVM_SEV_SNP_LAUNCH_FINISH } = KvmSevCommand;

const memoryEncryptOp: Case[] = [
  ...(
    [
      [2, 'EPERM', 'memory_encrypt_op.snp_only'],
      [103, 'EINVAL', 'memory_encrypt_op.command'],
    ] as const
  ).map(
    ([id, errno, check]): Case => ({
      name: `KVM_MEMORY_ENCRYPT_OP with command id ${id}`,
      run: () => {
        const { machine, vm } = started();
        return [memEncrypt(vm, id, HVA), machine];
      },
      expected: { ok: false, errno, message: `command id ${id}`, check },
    }),
  ),
  ...(
    [
      [KVM_SEV_SNP_LAUNCH_START, 'launch_start.copy_from_user'],
      [KVM_SEV_SNP_LAUNCH_UPDATE, 'launch_update.copy_from_user'],
      [KVM_SEV_SNP_LAUNCH_FINISH, 'launch_finish.copy_from_user'],
    ] as const
  ).map(
    ([id, check]): Case => ({
      name: `command ${id} with its struct at an unmapped address`,
      run: () => {
        const { machine, vm } = started();
        return [memEncrypt(vm, id, UNMAPPED), machine];
      },
      expected: { ok: false, errno: 'EFAULT', message: 'the command struct is not mapped', check },
    }),
  ),
  {
    // The model cannot unmap the struct during the call: copy_to_user fails as if it had been.
    name: 'LAUNCH_UPDATE whose progress cannot be copied back',
    run: () => {
      const { machine, vm } = started();
      const struct = HVA + 15 * PAGE_SIZE;
      const update = { gfnStart: 0n, uaddr: BigInt(HVA), len: BigInt(PAGE_SIZE), type: NORMAL, flags: 0 };
      vm.copyToUser(struct, KvmSevSnpLaunchUpdate.encode(update));
      vi.spyOn(vm, 'copyToUser').mockReturnValue(false);
      return [memEncrypt(vm, KVM_SEV_SNP_LAUNCH_UPDATE, struct), machine];
    },
    expected: {
      ok: false,
      errno: 'EFAULT',
      message: 'copying the progress back failed',
      check: 'launch_update.copy_to_user',
    },
  },
];

/** A refusal of the first page inside populate: EIO, fw_error as given (0 when the firmware never ran). */
const populateEio = (
  check: CheckId,
  innerErrno: KvmFailure['errno'],
  message: string,
  more: Partial<KvmFailure> = {},
): KvmFailure => ({
  ok: false,
  errno: 'EIO',
  check,
  message,
  fwError: 'SUCCESS',
  pages: 0,
  innerErrno,
  ...more,
});

// docs/spec-notes.md §3.3 and §4: upstream's LAUNCH_UPDATE and the guest_memfd ioctls before it.
const upstream: Case[] = [
  {
    name: 'upstream LAUNCH_UPDATE at a gfn whose memslot has no guest_memfd',
    run: () => {
      const { machine, vm } = upstreamVm();
      vm.memslots.set(1, 0x10_0000, HVA, PAGE_SIZE);
      return [launchUpdateUpstream(vm, { ...update(0, 1), gfnStart: 0x100n }), machine];
    },
    expected: EINVAL('launch_update.no_gmem', 'no guest_memfd memslot holds gfn 0x100'),
  },
  {
    name: 'upstream LAUNCH_UPDATE of a gfn not set private',
    run: () => {
      const { machine, vm } = upstreamVm(4);
      return [launchUpdateUpstream(vm, update(4, 2)), machine];
    },
    expected: populateEio('launch_update.populate_not_private', 'EINVAL', 'gfn 0x4 is not private'),
  },
  {
    name: 'upstream LAUNCH_UPDATE of a guest_memfd page populated before',
    run: () => {
      const { machine, vm } = upstreamVm();
      expect(launchUpdateUpstream(vm, update(0, 1)).ok).toBe(true);
      return [launchUpdateUpstream(vm, update(0, 1)), machine];
    },
    expected: populateEio(
      'launch_update.populate_prepared',
      'EEXIST',
      'the guest_memfd page of gfn 0x0 is already populated',
    ),
  },
  {
    name: 'upstream LAUNCH_UPDATE of a guest_memfd page assigned in the RMP',
    run: () => {
      const { machine, vm } = upstreamVm();
      machine.hostRmp.makePrivate(GMEM_PFN, 0, 2, false, 'hv');
      return [launchUpdateUpstream(vm, update(0, 1)), machine];
    },
    expected: populateEio('launch_update.populate_assigned', 'EEXIST', 'pfn 0x200 is already assigned'),
  },
  {
    name: 'upstream LAUNCH_UPDATE whose source page is not mapped',
    run: () => {
      const { machine, vm } = upstreamVm();
      return [launchUpdateUpstream(vm, { ...update(0, 1), uaddr: BigInt(HVA + 16 * PAGE_SIZE) }), machine];
    },
    expected: populateEio(
      'launch_update.populate_copy',
      'EFAULT',
      `copy_from_user of uaddr 0x${(HVA + 16 * PAGE_SIZE).toString(16)} failed`,
    ),
  },
  {
    name: 'upstream LAUNCH_UPDATE whose rmp_make_private fails',
    run: () => {
      const { machine, vm } = upstreamVm();
      machine.faults.inject('rmpupdate', 1, FAIL_INUSE);
      return [launchUpdateUpstream(vm, update(0, 1)), machine];
    },
    expected: populateEio('launch_update.populate_rmpupdate', 'EFAULT', 'rmpupdate of pfn 0x200 failed', {
      rmpRet: 'FAIL_INUSE',
    }),
  },
  {
    name: 'upstream LAUNCH_UPDATE refused by the firmware',
    run: () => {
      const { machine, vm } = upstreamVm();
      machine.faults.inject('psp.launch_update', 1, INVALID_PAGE_STATE);
      return [launchUpdateUpstream(vm, update(0, 1)), machine];
    },
    expected: populateEio('launch_update.populate_firmware', 'EIO', 'SNP_LAUNCH_UPDATE of pfn 0x200 failed', {
      fwError: 'INVALID_PAGE_STATE',
    }),
  },
  {
    name: 'KVM_CREATE_GUEST_MEMFD of no pages',
    run: () => {
      const { machine, vm } = upstreamVm();
      return [createGuestMemfd(vm, 'h', 0x300, 0), machine];
    },
    expected: EINVAL('create_guest_memfd.size', '0 pages: the size must be a positive multiple of 4096'),
  },
  {
    name: 'a guest_memfd memslot at an offset that is not page aligned',
    run: () => {
      const { machine, vm } = upstreamVm();
      const gmem = vm.gmems.get('g');
      if (gmem === undefined) throw new Error('fixture');
      const region = { slot: 1, gpa: 0x10_0000, hva: HVA, size: PAGE_SIZE, gmem, gmemOffset: 100 };
      return [setGmemMemoryRegion(vm, region), machine];
    },
    expected: EINVAL(
      'set_user_memory_region.gmem',
      'guest_memfd "g" (VM a, 65536 bytes) cannot back 4096 bytes at offset 100 of VM a',
    ),
  },
  {
    name: 'a guest_memfd memslot changed',
    run: () => {
      const { machine, vm } = upstreamVm();
      const gmem = vm.gmems.get('g');
      if (gmem === undefined) throw new Error('fixture');
      const region = { slot: 0, gpa: 0x10_0000, hva: HVA, size: PAGE_SIZE, gmem, gmemOffset: 0 };
      return [setGmemMemoryRegion(vm, region), machine];
    },
    expected: EINVAL('set_user_memory_region.gmem_immutable', 'memslot 0 exists: delete it first'),
  },
  {
    name: 'KVM_SET_MEMORY_ATTRIBUTES of a size that is not page aligned',
    run: () => {
      const { machine, vm } = upstreamVm();
      return [setMemoryAttributes(vm, 0, 100, true), machine];
    },
    expected: EINVAL('set_memory_attributes.range', 'address 0 and size 100: both 4 KiB aligned, size > 0'),
  },
];

const ALL = [
  ...memoryEncryptOp,
  ...launchStart,
  ...launchUpdate,
  ...launchUpdateRfcV4,
  ...launchFinish,
  ...upstream,
];

describe('every refusal of the launch commands', () => {
  it.each(ALL)('$name: $expected.errno ($expected.check)', ({ run, expected }) => {
    const [result, machine] = run();
    expect(result).toEqual(expected);
    expect(CHECKS[expected.check].errno).toBe(expected.errno); // the catalogue's errno
    // Whatever failed, no page stays pinned but a leaked one (which keeps its own reference).
    expect([...machine.pages.pinned().keys()].filter((pfn) => !machine.pages.leaked.has(pfn))).toEqual([]);
    for (const pfn of result.leaked ?? []) expect(machine.pages.leaked.has(pfn)).toBe(true);
  });

  it('reaches every check of the catalogue', () => {
    const reached = new Set(ALL.map((c) => c.expected.check));
    expect(Object.keys(CHECKS).filter((id) => !reached.has(id as CheckId))).toEqual([]);
  });
});
