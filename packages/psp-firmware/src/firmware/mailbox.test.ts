import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { P384SigningKey } from '../attestation/signingKey.js';
import { SnpCommand } from '../commands.js';
import { LengthError } from '../errors.js';
import { PageType } from '../pageType.js';
import type { PackedStruct, StructLayout, StructValue } from '../struct.js';
import {
  ASID,
  GCTX,
  GUEST_BASE,
  machine,
  machineIn,
  observable,
  POLICY,
  preGuestPage,
} from '../test/machine.js';
import * as buffers from './commandBuffers.js';
import { encodeIdBlock } from './guestContext.js';
import { encodeIdAuthInfo } from './idAuth.js';
import { C_BIT, runCommand } from './mailbox.js';

const paddr = (pfn: number) => BigInt(pfn) << 12n;
const cbit = 1n << BigInt(C_BIT);
const update = (
  pfn: number,
  pageType: number,
  extra: Partial<{ flags: number; perms: number; rsvd2: number }> = {},
) =>
  buffers.SnpLaunchUpdate.encode({
    gctxPaddr: paddr(GCTX),
    flags: pageType << 1,
    rsvd2: 0,
    address: paddr(pfn) | cbit, // KVM passes the page with the C-bit set (__sme_set)
    perms: 0,
    rsvd4: 0,
    ...extra,
  });

describe('the firmware mailbox (command id + packed command buffer)', () => {
  it('runs a launch from byte-exact command buffers, as the direct API does', () => {
    const viaMailbox = machineIn('ACTIVE');
    const direct = machineIn('ACTIVE');
    for (const m of [viaMailbox, direct]) preGuestPage(m, GUEST_BASE, 0x1000, new Uint8Array(4096).fill(5));
    expect(
      runCommand(viaMailbox.fw, SnpCommand.SNP_LAUNCH_UPDATE, update(GUEST_BASE, PageType.NORMAL)).name,
    ).toBe('SUCCESS');
    expect(direct.fw.launchUpdate(GCTX, { pfn: GUEST_BASE, pageType: PageType.NORMAL }).name).toBe('SUCCESS');
    expect(observable(viaMailbox)).toBe(observable(direct));
  });

  it('drives a whole launch: INIT, DF_FLUSH, GCTX_CREATE, LAUNCH_START, ACTIVATE, …, PLATFORM_STATUS', () => {
    const m = machine();
    const run = (id: number, buffer?: Uint8Array) => runCommand(m.fw, id, buffer).name;
    expect(run(SnpCommand.SNP_INIT)).toBe('SUCCESS');
    expect(run(SnpCommand.SNP_DF_FLUSH)).toBe('SUCCESS');
    m.host.makePrivate(GCTX, 0, 0, true, 'kvm');
    expect(run(SnpCommand.SNP_GCTX_CREATE, buffers.SnpAddr.encode({ address: paddr(GCTX) }))).toBe('SUCCESS');
    const start = {
      gctxPaddr: paddr(GCTX),
      policy: POLICY,
      maGctxPaddr: 0n,
      flags: 0,
      desiredTscKhz: 0,
      gosvw: new Uint8Array(16),
    };
    expect(run(SnpCommand.SNP_LAUNCH_START, buffers.SnpLaunchStart.encode(start))).toBe('SUCCESS');
    expect(
      run(SnpCommand.SNP_ACTIVATE, buffers.SnpActivate.encode({ gctxPaddr: paddr(GCTX), asid: ASID })),
    ).toBe('SUCCESS');
    preGuestPage(m, GUEST_BASE, 0, new Uint8Array(4096).fill(1));
    expect(run(SnpCommand.SNP_LAUNCH_UPDATE, update(GUEST_BASE, PageType.NORMAL))).toBe('SUCCESS');

    const idKey = new P384SigningKey('id key');
    const idBlock = {
      ld: m.fw.launchDigest(GCTX) ?? new Uint8Array(),
      familyId: new Uint8Array(16),
      imageId: new Uint8Array(16),
      version: 1,
      guestSvn: 0,
      policy: POLICY,
    };
    const [blockPfn, authPfn] = [0x500, 0x501];
    m.memory.write(blockPfn, encodeIdBlock(idBlock));
    m.memory.write(
      authPfn,
      encodeIdAuthInfo({ idKey: idKey.publicKey, idBlockSignature: idKey.sign(encodeIdBlock(idBlock)) }),
    );
    const finish = {
      gctxPaddr: paddr(GCTX),
      idBlockPaddr: paddr(blockPfn),
      idAuthPaddr: paddr(authPfn),
      flags: 1n,
      hostData: new Uint8Array(32),
    };
    expect(run(SnpCommand.SNP_LAUNCH_FINISH, buffers.SnpLaunchFinish.encode(finish))).toBe('SUCCESS');

    expect(
      run(SnpCommand.SNP_PLATFORM_STATUS, buffers.SnpAddr.encode({ address: paddr(0x600) + 0x20n })),
    ).toBe('SUCCESS');
    const status = buffers.SnpPlatformStatusBuffer.decode(m.memory.read(0x600).subarray(0x20, 0x40));
    expect(status).toMatchObject({
      apiMajor: 1,
      apiMinor: 55,
      state: 1,
      rmpFlags: 1,
      buildId: 25,
      guestCount: 1,
    });
    expect(
      run(
        SnpCommand.SNP_GUEST_STATUS,
        buffers.SnpGuestStatusArgs.encode({ gctxPaddr: paddr(GCTX), address: paddr(0x600) }),
      ),
    ).toBe('SUCCESS');
    expect(buffers.SnpGuestStatusBuffer.decode(m.memory.read(0x600).subarray(0, 32))).toMatchObject({
      policy: POLICY,
      asid: ASID,
      state: 2,
    });
  });

  it.each([
    ['a reserved flag bit', update(GUEST_BASE, 1, { flags: (1 << 1) | (1 << 5) })],
    ['rsvd2', update(GUEST_BASE, 1, { rsvd2: 1 })],
    ['the reserved low byte of the permissions', update(GUEST_BASE, 1, { perms: 1 })],
  ])('refuses LAUNCH_UPDATE with %s set: INVALID_PARAM, nothing changed', (_, buffer) => {
    const m = machineIn('ACTIVE');
    preGuestPage(m, GUEST_BASE, 0);
    const before = observable(m);
    expect(runCommand(m.fw, SnpCommand.SNP_LAUNCH_UPDATE, buffer).name).toBe('INVALID_PARAM');
    expect(observable(m)).toBe(before);
  });

  it('refuses an unaligned address and an unknown command id', () => {
    const m = machineIn('NO_GUEST');
    expect(
      runCommand(m.fw, SnpCommand.SNP_GCTX_CREATE, buffers.SnpAddr.encode({ address: paddr(GCTX) + 8n }))
        .name,
    ).toBe('INVALID_PARAM');
    expect(runCommand(m.fw, 0x0ff).name).toBe('INVALID_COMMAND');
  });

  it('names a command buffer of the wrong size', () => {
    const m = machineIn('ACTIVE');
    expect(() => runCommand(m.fw, SnpCommand.SNP_LAUNCH_UPDATE, new Uint8Array(0x1f))).toThrow(LengthError);
    expect(() => runCommand(m.fw, SnpCommand.SNP_LAUNCH_UPDATE, new Uint8Array(0x1f))).toThrow(
      'sev_data_snp_launch_update must be 32 bytes, got 31',
    );
  });
});

describe('command buffer codecs', () => {
  const all = Object.values(buffers) as PackedStruct<StructLayout>[];

  it.each(all.map((s) => [s.name, s] as const))(
    '%s decodes what it encodes, at its ABI size',
    (_, struct) => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: struct.size, maxLength: struct.size }), (bytes) => {
          const value: StructValue<StructLayout> = struct.decode(bytes);
          const encoded = struct.encode(value);
          // Fields round-trip; reserved bytes come back zero.
          expect(struct.decode(encoded)).toEqual(value);
          expect(struct.reservedSet(encoded)).toBe(false);
          expect(struct.reservedSet(bytes)).toBe(bytes.some((b, i) => b !== encoded[i]));
        }),
        { numRuns: 50 },
      );
    },
  );
});
