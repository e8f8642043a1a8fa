import { describe, expect, it } from 'vitest';
import { SnpCommand } from '../commands.js';
import { PageType } from '../pageType.js';
import { PolicyBit } from '../policy.js';
import type { FwStatus } from '../status.js';
import {
  ASID,
  firmwarePage,
  GCTX,
  GUEST_BASE,
  type Machine,
  machine,
  machineIn,
  POLICY,
  preGuestPage,
  type TestState,
} from '../test/machine.js';
import { FIRMWARE_CHECKS, type LaunchCommandName, type Refusal } from './checks.js';
import { SnpLaunchFinish, SnpLaunchStart } from './commandBuffers.js';
import type { IdBlock } from './guestContext.js';
import { runCommand } from './mailbox.js';
import { SnpFirmware } from './snpFirmware.js';

// Each refusal the catalogue lists, driven through the real command: the type makes every listed
// status need a driver, the test makes every driver get its status, so an entry the firmware no
// longer returns fails here.

const NORMAL = PageType.NORMAL;
const paddr = (pfn: number) => BigInt(pfn) << 12n;
const in_ = (state: TestState, run: (m: Machine) => FwStatus) => () => run(machineIn(state));
const update = (state: TestState, setup: (m: Machine) => void, pfn = GUEST_BASE, pageSize?: '2M') =>
  in_(state, (m) => {
    setup(m);
    return m.fw.launchUpdate(GCTX, { pfn, pageType: NORMAL, ...(pageSize && { pageSize }) });
  });
const twoMeg = (m: Machine) => m.host.makePrivate(0x400, 0, ASID, true, 'kvm', '2M');
const start = (state: TestState, params: Partial<{ policy: bigint; gosvw: Uint8Array }> = {}) =>
  in_(state, (m) => m.fw.launchStart(GCTX, { policy: POLICY, ...params }));
const activate = (state: TestState, asid = ASID) => in_(state, (m) => m.fw.activate(GCTX, asid));
/** An ID block for the guest's launch so far, changed by `change`, without its ID authentication. */
const idBlock = (m: Machine, change: Partial<IdBlock> = {}): IdBlock => ({
  ld: m.fw.launchDigest(GCTX) ?? new Uint8Array(48),
  familyId: new Uint8Array(16),
  imageId: new Uint8Array(16),
  version: 1,
  guestSvn: 0,
  policy: POLICY,
  ...change,
});
/** A guest at GCTX launched with `policy`, up to ACTIVATE, on a platform of `sockets` sockets. */
function activateOn(sockets: number, policy: bigint, dfFlush = true): FwStatus {
  const m = { ...machine() };
  m.fw = new SnpFirmware(m.rmp, m.memory, { seed: 'test platform', sockets });
  m.fw.snpInit();
  if (dfFlush) m.fw.dfFlush();
  firmwarePage(m, GCTX);
  m.fw.gctxCreate(GCTX);
  m.fw.launchStart(GCTX, { policy });
  return m.fw.activate(GCTX, ASID);
}

const DRIVERS: { readonly [C in LaunchCommandName]: Readonly<Record<Refusal<C>, () => FwStatus>> } = {
  SNP_LAUNCH_UPDATE: {
    INVALID_PARAM: in_('ACTIVE', (m) => m.fw.launchUpdate(GCTX, { pfn: -1, pageType: NORMAL })),
    INVALID_PLATFORM_STATE: update('UNINIT', () => {}),
    INVALID_GUEST: update('NO_GUEST', () => {}),
    INVALID_PAGE_STATE: update('ACTIVE', () => {}),
    INVALID_PAGE_SIZE: update('ACTIVE', twoMeg, 0x400),
    INVALID_ADDRESS: update('ACTIVE', twoMeg, 0x401, '2M'),
    INVALID_GUEST_STATE: update('INIT', (m) => preGuestPage(m, GUEST_BASE, 0)),
    INACTIVE: update('LAUNCH', (m) => preGuestPage(m, GUEST_BASE, 0)),
    INVALID_PAGE_OWNER: update('ACTIVE', (m) => m.host.makePrivate(GUEST_BASE, 0, ASID + 1, true, 'kvm')),
  },
  SNP_LAUNCH_START: {
    INVALID_PARAM: start('INIT', { gosvw: new Uint8Array(8) }),
    UNSUPPORTED: in_('INIT', (m) =>
      runCommand(
        m.fw,
        SnpCommand.SNP_LAUNCH_START,
        SnpLaunchStart.encode({
          gctxPaddr: paddr(GCTX),
          policy: POLICY,
          maGctxPaddr: 0n,
          flags: 1, // MA_EN
          desiredTscKhz: 0,
          gosvw: new Uint8Array(16),
        }),
      ),
    ),
    INVALID_PLATFORM_STATE: start('UNINIT'),
    INVALID_GUEST: start('NO_GUEST'),
    INVALID_GUEST_STATE: start('LAUNCH'),
    POLICY_FAILURE: start('INIT', { policy: POLICY & ~PolicyBit.RSVD_MBO }),
  },
  SNP_ACTIVATE: {
    INVALID_PARAM: activate('LAUNCH', 1.5),
    INVALID_PLATFORM_STATE: activate('UNINIT'),
    INVALID_GUEST: activate('NO_GUEST'),
    INVALID_GUEST_STATE: activate('INIT'),
    INVALID_CONFIG: in_('LAUNCH', (m) => {
      m.host.makePrivate(GUEST_BASE, 0, ASID, false, 'kvm');
      return m.fw.activate(GCTX, ASID);
    }),
    POLICY_FAILURE: () => activateOn(2, POLICY | PolicyBit.SINGLE_SOCKET),
    INVALID_ASID: activate('LAUNCH', 101), // beyond maxSnpAsid, 100 by default
    ASID_OWNED: in_('ACTIVE', (m) => {
      firmwarePage(m, GCTX + 1);
      m.fw.gctxCreate(GCTX + 1);
      m.fw.launchStart(GCTX + 1, { policy: POLICY });
      return m.fw.activate(GCTX + 1, ASID);
    }),
    ACTIVE: activate('ACTIVE'),
    DFFLUSH_REQUIRED: () => activateOn(1, POLICY, false),
  },
  SNP_LAUNCH_FINISH: {
    INVALID_PARAM: in_('ACTIVE', (m) => m.fw.launchFinish(GCTX, { hostData: new Uint8Array(31) })),
    UNSUPPORTED: in_('ACTIVE', (m) =>
      runCommand(
        m.fw,
        SnpCommand.SNP_LAUNCH_FINISH,
        SnpLaunchFinish.encode({
          gctxPaddr: paddr(GCTX),
          idBlockPaddr: 0n,
          idAuthPaddr: 0n,
          flags: 4n, // VCEK_DISABLED
          hostData: new Uint8Array(32),
        }),
      ),
    ),
    BAD_SIGNATURE: in_('ACTIVE', (m) => m.fw.launchFinish(GCTX, { idBlock: idBlock(m) })),
    INVALID_PLATFORM_STATE: in_('UNINIT', (m) => m.fw.launchFinish(GCTX)),
    INVALID_GUEST: in_('NO_GUEST', (m) => m.fw.launchFinish(GCTX)),
    INVALID_GUEST_STATE: in_('INIT', (m) => m.fw.launchFinish(GCTX)),
    INACTIVE: in_('LAUNCH', (m) => m.fw.launchFinish(GCTX)),
    BAD_MEASUREMENT: in_('ACTIVE', (m) =>
      m.fw.launchFinish(GCTX, { idBlock: idBlock(m, { ld: new Uint8Array(48).fill(1) }) }),
    ),
    POLICY_FAILURE: in_('ACTIVE', (m) =>
      m.fw.launchFinish(GCTX, { idBlock: idBlock(m, { policy: POLICY | 1n }) }),
    ),
  },
};

describe('the firmware check catalogue (FIRMWARE_CHECKS)', () => {
  const commands = Object.keys(FIRMWARE_CHECKS) as LaunchCommandName[];
  const cases = commands.flatMap((command) =>
    FIRMWARE_CHECKS[command].refusals.map(([status]) => ({ command, status })),
  );

  it.each(cases)('$command returns $status where the catalogue says', ({ command, status }) => {
    const drivers: Readonly<Record<string, () => FwStatus>> = DRIVERS[command];
    expect(drivers[status]?.().name).toBe(status);
  });

  it.each(commands)('lists each status of %s once', (command) => {
    const statuses = FIRMWARE_CHECKS[command].refusals.map(([status]) => status);
    expect(new Set(statuses).size).toBe(statuses.length);
  });
});
