import { describe, expect, it } from 'vitest';
import { HVA, host } from '../test/host.js';
import { memEncryptOp } from './ioctl.js';
import { KvmSevCmd, KvmSevCommand, KvmSevSnpLaunchUpdate } from './structs.js';

const STRUCT_HVA = 0x5000_0000; // where the VMM keeps the command struct

function withStructPage() {
  const h = host();
  const a = h.vm('a');
  a.addressSpace.map(STRUCT_HVA, 0x800, 1);
  return { ...h, a };
}

const update = (fields: Partial<Parameters<typeof KvmSevSnpLaunchUpdate.encode>[0]>) =>
  KvmSevSnpLaunchUpdate.encode({
    gfnStart: 0x10n,
    uaddr: BigInt(HVA),
    len: 2n * 4096n,
    type: 1,
    flags: 0,
    ...fields,
  });
const cmd = (id: number) => KvmSevCmd.encode({ id, data: BigInt(STRUCT_HVA), error: 0, sevFd: 3 });

describe('ioctl(KVM_MEMORY_ENCRYPT_OP) with byte-exact structs', () => {
  it('runs LAUNCH_UPDATE from the struct in VMM memory and writes the progress back into it', () => {
    const { a, machine } = withStructPage();
    a.copyToUser(STRUCT_HVA, update({}));
    const outcome = memEncryptOp(a, cmd(KvmSevCommand.KVM_SEV_SNP_LAUNCH_UPDATE));
    expect(outcome.ret).toBe(0);
    expect(KvmSevCmd.decode(outcome.cmd).error).toBe(0);
    const after = KvmSevSnpLaunchUpdate.decode(a.copyFromUser(STRUCT_HVA, 64) ?? new Uint8Array(64));
    expect(after).toMatchObject({ gfnStart: 0x12n, uaddr: BigInt(HVA) + 8192n, len: 0n });
    expect(machine.rmp.read(0x101).gpa).toBe(0x11000);
  });

  it('returns -EIO with the firmware status in kvm_sev_cmd.error, and leaves the struct alone', () => {
    const { a, machine } = withStructPage();
    a.copyToUser(STRUCT_HVA, update({}));
    machine.faults.inject('psp.launch_update', 1, 0x1a);
    const outcome = memEncryptOp(a, cmd(KvmSevCommand.KVM_SEV_SNP_LAUNCH_UPDATE));
    expect(outcome.ret).toBe(-5);
    expect(KvmSevCmd.decode(outcome.cmd)).toMatchObject({ id: 101, error: 0x1a, sevFd: 3 });
    expect(a.copyFromUser(STRUCT_HVA, 64)).toEqual(update({}));
  });

  it('refuses legacy SEV ids with -EPERM, unknown ones with -EINVAL, and an unmapped struct with -EFAULT', () => {
    const { a } = withStructPage();
    expect(memEncryptOp(a, cmd(2)).ret).toBe(-1);
    expect(memEncryptOp(a, cmd(150)).ret).toBe(-22);
    const unmapped = KvmSevCmd.encode({ id: 101, data: 0x1234_5000n, error: 0, sevFd: 3 });
    expect(memEncryptOp(a, unmapped).ret).toBe(-14);
  });

  it('refuses non-zero flags with -EINVAL', () => {
    const { a } = withStructPage();
    a.copyToUser(STRUCT_HVA, update({ flags: 1 }));
    expect(memEncryptOp(a, cmd(KvmSevCommand.KVM_SEV_SNP_LAUNCH_UPDATE)).ret).toBe(-22);
  });

  it('advances uaddr in the progress write-back except for ZERO pages, whose uaddr KVM ignores', () => {
    const { a } = withStructPage();
    a.copyToUser(STRUCT_HVA, update({ type: 3 }));
    expect(memEncryptOp(a, cmd(KvmSevCommand.KVM_SEV_SNP_LAUNCH_UPDATE)).ret).toBe(0);
    const after = KvmSevSnpLaunchUpdate.decode(a.copyFromUser(STRUCT_HVA, 64) ?? new Uint8Array(64));
    expect(after).toMatchObject({ gfnStart: 0x12n, uaddr: BigInt(HVA), len: 0n });
  });
});
