import { SevStatus } from '@snp-ref/psp-firmware';
import { Errno, PAGE_SIZE } from '@snp-ref/rmp-core';
import { advance, fail, type KvmResult } from '../result.js';
import { launchUpdateReviewed, launchUpdateV4 } from '../snp/launchUpdate.js';
import { launchUpdateUpstream } from '../snp/launchUpdateUpstream.js';
import type { SnpVm } from '../snp/snpVm.js';
import {
  KvmSevCmd,
  KvmSevCommand,
  KvmSevSnpLaunchFinish,
  KvmSevSnpLaunchStart,
  KvmSevSnpLaunchUpdate,
  KvmSevSnpLaunchUpdateV4,
} from './structs.js';

const UNMAPPED = 'the command struct is not mapped';

/** What ioctl(KVM_MEMORY_ENCRYPT_OP) gives back: the return value and the kvm_sev_cmd as copied back. */
export interface IoctlOutcome {
  /** 0 or -errno. */
  readonly ret: number;
  /** The 24-byte kvm_sev_cmd after the call (its `error` field is the firmware status). */
  readonly cmd: Uint8Array;
  readonly result: KvmResult;
}

/**
 * ioctl(vm_fd, KVM_MEMORY_ENCRYPT_OP, &cmd) for an SNP VM (sev_mem_enc_ioctl): `cmd` holds a
 * kvm_sev_cmd whose `data` points at the command's struct in the VMM's memory. KVM copies the
 * struct in, runs the command, writes LAUNCH_UPDATE progress back into it, and copies the
 * kvm_sev_cmd back with `error` set, also on failure. SNP VMs get EPERM for ids below 100 and
 * EINVAL for unknown ones.
 */
export function memEncryptOp(vm: SnpVm, cmd: Uint8Array): IoctlOutcome {
  const envelope = KvmSevCmd.decode(cmd);
  const done = (result: KvmResult): IoctlOutcome => {
    const error = result.ok || result.fwError === undefined ? 0 : SevStatus[result.fwError];
    const ret = result.ok ? 0 : -Errno[result.errno];
    return { ret, cmd: KvmSevCmd.encode({ ...envelope, error }), result };
  };
  const data = Number(envelope.data);
  const read = (size: number) => vm.copyFromUser(data, size);

  switch (envelope.id) {
    case KvmSevCommand.KVM_SEV_SNP_LAUNCH_START: {
      const bytes = read(KvmSevSnpLaunchStart.size);
      if (bytes === undefined) return done(fail('launch_start.copy_from_user', UNMAPPED));
      const params = KvmSevSnpLaunchStart.decode(bytes);
      return done(vm.launchStart({ policy: params.policy, gosvw: params.gosvw, flags: params.flags }));
    }
    case KvmSevCommand.KVM_SEV_SNP_LAUNCH_UPDATE:
      return done(vm.abi === 'v4' ? launchUpdateV4Ioctl(vm, read) : launchUpdateIoctl(vm, data, read));
    case KvmSevCommand.KVM_SEV_SNP_LAUNCH_FINISH: {
      const bytes = read(KvmSevSnpLaunchFinish.size);
      if (bytes === undefined) return done(fail('launch_finish.copy_from_user', UNMAPPED));
      const p = KvmSevSnpLaunchFinish.decode(bytes);
      return done(
        vm.launchFinish({
          idBlockHva: Number(p.idBlockUaddr),
          idAuthHva: Number(p.idAuthUaddr),
          idBlockEn: p.idBlockEn !== 0,
          authKeyEn: p.authKeyEn !== 0,
          vcekDisabled: p.vcekDisabled !== 0,
          hostData: p.hostData,
          flags: p.flags,
        }),
      );
    }
    default:
      return done(
        fail(
          envelope.id < KvmSevCommand.KVM_SEV_SNP_LAUNCH_START
            ? 'memory_encrypt_op.snp_only'
            : 'memory_encrypt_op.command',
          `command id ${envelope.id}`,
        ),
      );
  }
}

/**
 * The reviewed or upstream LAUNCH_UPDATE from its struct (the same 64 bytes); on success the
 * progress (gfn_start, uaddr, len) is written back, on failure the struct is left as it was.
 */
function launchUpdateIoctl(
  vm: SnpVm,
  data: number,
  read: (size: number) => Uint8Array | undefined,
): KvmResult {
  const bytes = read(KvmSevSnpLaunchUpdate.size);
  if (bytes === undefined) return fail('launch_update.copy_from_user', UNMAPPED);
  const p = KvmSevSnpLaunchUpdate.decode(bytes);
  const [gpa, hva, len] = [Number(p.gfnStart) * PAGE_SIZE, Number(p.uaddr), Number(p.len)];
  const result =
    vm.abi === 'upstream'
      ? launchUpdateUpstream(vm, p)
      : launchUpdateReviewed(vm, { gpa, hva, len, type: p.type, flags: p.flags });
  if (result.ok) {
    const advanced = { ...p, ...advance(p, result.pages ?? 0) };
    if (
      vm.machine.faults.fails('copy_to_user') ||
      !vm.copyToUser(data, KvmSevSnpLaunchUpdate.encode(advanced))
    )
      return fail('launch_update.copy_to_user', 'copying the progress back failed');
  }
  return result;
}

function launchUpdateV4Ioctl(vm: SnpVm, read: (size: number) => Uint8Array | undefined): KvmResult {
  const bytes = read(KvmSevSnpLaunchUpdateV4.size);
  if (bytes === undefined) return fail('launch_update.copy_from_user', UNMAPPED);
  const p = KvmSevSnpLaunchUpdateV4.decode(bytes);
  return launchUpdateV4(vm, { hva: Number(p.uaddr), len: p.len, type: p.pageType });
}
