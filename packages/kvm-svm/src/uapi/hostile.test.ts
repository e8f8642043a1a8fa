import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ErrnoName } from '@snp-ref/rmp-core';
import { describe, expect, it } from 'vitest';
import { HVA, host } from '../test/host.js';
import { memEncryptOp } from './ioctl.js';
import {
  KvmSevCmd,
  KvmSevSnpLaunchFinish,
  KvmSevSnpLaunchStart,
  KvmSevSnpLaunchUpdate,
  KvmSevSnpLaunchUpdateV4,
} from './structs.js';

interface HostileCase {
  name: string;
  id: number;
  data?: string;
  struct?: Record<string, string | number>;
  hex?: string;
  start?: Record<string, string | number>;
  finish?: Record<string, string | number>;
  expect: { errno: ErrnoName; check?: string };
}
const corpus = JSON.parse(readFileSync(join(import.meta.dirname, 'hostile-uapi.json'), 'utf8')) as {
  cases: HostileCase[];
};

const STRUCT_HVA = 0x5000_0000;
/** "0x…" strings become bigint (u64 fields), numbers stay numbers. */
const fields = (values: Record<string, string | number> = {}) =>
  Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === 'string' ? BigInt(v) : v]));

function structBytes(c: HostileCase): Uint8Array {
  if (c.hex !== undefined) return new Uint8Array(Buffer.from(c.hex, 'hex'));
  if (c.start !== undefined)
    return KvmSevSnpLaunchStart.encode({
      policy: 0x3_0000n,
      gosvw: new Uint8Array(16),
      flags: 0,
      ...fields(c.start),
    });
  if (c.finish !== undefined)
    return KvmSevSnpLaunchFinish.encode({
      idBlockUaddr: 0n,
      idAuthUaddr: 0n,
      idBlockEn: 0,
      authKeyEn: 0,
      vcekDisabled: 0,
      hostData: new Uint8Array(32),
      flags: 0,
      ...fields(c.finish),
    });
  return KvmSevSnpLaunchUpdate.encode({
    gfnStart: 0x10n,
    uaddr: BigInt(HVA),
    len: 0x2000n,
    type: 1,
    flags: 0,
    ...fields(c.struct),
  });
}

describe('hostile KVM_MEMORY_ENCRYPT_OP input (hostile-uapi.json): the errno, and nothing changed', () => {
  it.each(corpus.cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const { machine, vm } = host();
    const a = vm('a');
    a.addressSpace.map(STRUCT_HVA, 0x800, 1);
    a.copyToUser(STRUCT_HVA, structBytes(c));
    const state = () =>
      JSON.stringify({
        rmp: [...machine.rmp.entries()],
        pins: [...machine.pages.pinned()],
        leaked: [...machine.pages.leaked],
        vm: [a.state, a.gctx, [...a.privateMappings], a.vmsas],
        digest:
          a.gctx === undefined
            ? null
            : Buffer.from(machine.firmware.launchDigest(a.gctx) ?? []).toString('hex'),
        struct: Buffer.from(a.copyFromUser(STRUCT_HVA, 4096) ?? []).toString('hex'),
      });
    const before = state();
    const outcome = memEncryptOp(
      a,
      KvmSevCmd.encode({ id: c.id, data: BigInt(c.data ?? STRUCT_HVA), error: 0, sevFd: 3 }),
    );
    expect(outcome.result).toMatchObject({
      ok: false,
      errno: c.expect.errno,
      ...(c.expect.check && { check: c.expect.check }),
    });
    expect(outcome.ret).toBeLessThan(0);
    expect(state()).toBe(before);
  });

  it.each([
    KvmSevCmd,
    KvmSevSnpLaunchStart,
    KvmSevSnpLaunchUpdate,
    KvmSevSnpLaunchUpdateV4,
    KvmSevSnpLaunchFinish,
  ])('$name: a buffer one byte short or long is a LengthError naming the struct', (struct) => {
    for (const size of [struct.size - 1, struct.size + 1, 0]) {
      expect(() => struct.decode(new Uint8Array(size))).toThrow(struct.name);
    }
  });
});
