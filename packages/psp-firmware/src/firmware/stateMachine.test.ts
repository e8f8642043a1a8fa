import { describe, expect, it } from 'vitest';
import { PageType } from '../pageType.js';
import type { FwStatus } from '../status.js';
import {
  ASID,
  firmwarePage,
  GCTX,
  GUEST_BASE,
  type Machine,
  machineIn,
  observable,
  POLICY,
  preGuestPage,
  REQUEST_PFN,
  RESPONSE_PFN,
  STATES,
  type TestState,
  writeReportRequest,
} from '../test/machine.js';

const FREE_PAGE = 0x400;

/** Each command, issued as Linux would at that point, with the status it must get in each state. */
interface Command {
  /** What the host does first (not the firmware's doing): make pages firmware-owned or pre-guest. */
  readonly setup?: (m: Machine) => void;
  readonly run: (m: Machine) => FwStatus;
  readonly expect: Record<TestState, string>;
}

const COMMANDS: Record<string, Command> = {
  SNP_INIT: {
    run: (m) => m.fw.snpInit(),
    expect: row('SUCCESS', 'INVALID_PLATFORM_STATE'),
  },
  SNP_DF_FLUSH: {
    run: (m) => m.fw.dfFlush(),
    expect: row('INVALID_PLATFORM_STATE', 'SUCCESS'),
  },
  SNP_GCTX_CREATE: {
    setup: (m) => firmwarePage(m, FREE_PAGE),
    run: (m) => m.fw.gctxCreate(FREE_PAGE),
    expect: row('INVALID_PLATFORM_STATE', 'SUCCESS'),
  },
  'SNP_GCTX_CREATE (existing context)': {
    run: (m) => m.fw.gctxCreate(GCTX),
    expect: {
      ...row('INVALID_PLATFORM_STATE', 'INVALID_PAGE_STATE'),
      DECOMMISSIONED: 'SUCCESS', // decommission turned the page back into a FIRMWARE page
    },
  },
  SNP_LAUNCH_START: {
    run: (m) => m.fw.launchStart(GCTX, { policy: POLICY }),
    expect: guestRow({
      INIT: 'SUCCESS',
      LAUNCH: 'INVALID_GUEST_STATE',
      ACTIVE: 'INVALID_GUEST_STATE',
      RUNNING: 'INVALID_GUEST_STATE',
    }),
  },
  SNP_ACTIVATE: {
    run: (m) => m.fw.activate(GCTX, ASID),
    // RUNNING: the ASID already has pages in the RMP, which ASPFW checks first (INVALID_CONFIG).
    expect: guestRow({
      INIT: 'INVALID_GUEST_STATE',
      LAUNCH: 'SUCCESS',
      ACTIVE: 'ACTIVE',
      RUNNING: 'INVALID_CONFIG',
    }),
  },
  SNP_LAUNCH_UPDATE: {
    setup: (m) => preGuestPage(m, GUEST_BASE, 0, new Uint8Array(4096).fill(1)),
    run: (m) => m.fw.launchUpdate(GCTX, { pfn: GUEST_BASE, pageType: PageType.NORMAL }),
    expect: guestRow({
      INIT: 'INVALID_GUEST_STATE',
      LAUNCH: 'INACTIVE',
      ACTIVE: 'SUCCESS',
      RUNNING: 'INVALID_GUEST_STATE',
    }),
  },
  SNP_LAUNCH_FINISH: {
    run: (m) => m.fw.launchFinish(GCTX),
    expect: guestRow({
      INIT: 'INVALID_GUEST_STATE',
      LAUNCH: 'INACTIVE',
      ACTIVE: 'SUCCESS',
      RUNNING: 'INVALID_GUEST_STATE',
    }),
  },
  SNP_GUEST_REQUEST: {
    setup: (m) => {
      if (m.fw.guestStatus(GCTX).guest?.state === 2) writeReportRequest(m, new Uint8Array(64));
    },
    run: (m) => m.fw.guestRequest(GCTX, REQUEST_PFN, RESPONSE_PFN),
    expect: guestRow({
      INIT: 'INVALID_GUEST_STATE',
      LAUNCH: 'INVALID_GUEST_STATE',
      ACTIVE: 'INVALID_GUEST_STATE',
      RUNNING: 'SUCCESS',
    }),
  },
  SNP_GUEST_STATUS: {
    run: (m) => m.fw.guestStatus(GCTX).status,
    expect: guestRow({ INIT: 'SUCCESS', LAUNCH: 'SUCCESS', ACTIVE: 'SUCCESS', RUNNING: 'SUCCESS' }),
  },
  SNP_DECOMMISSION: {
    run: (m) => m.fw.decommission(GCTX),
    expect: guestRow({ INIT: 'SUCCESS', LAUNCH: 'SUCCESS', ACTIVE: 'SUCCESS', RUNNING: 'SUCCESS' }),
  },
  SNP_PAGE_RECLAIM: {
    setup: (m) => firmwarePage(m, FREE_PAGE),
    run: (m) => m.fw.pageReclaim(FREE_PAGE),
    expect: row('INVALID_PLATFORM_STATE', 'SUCCESS'),
  },
  SNP_PAGE_UNSMASH: {
    run: (m) => m.fw.pageUnsmash(0x600),
    expect: row('INVALID_PLATFORM_STATE', 'INVALID_PAGE_STATE'), // 512 hypervisor pages do not unsmash
  },
  SNP_PLATFORM_STATUS: {
    run: (m) => m.fw.platformStatus().status,
    expect: row('SUCCESS', 'SUCCESS'),
  },
};

function row(uninit: string, initialised: string): Record<TestState, string> {
  return Object.fromEntries(STATES.map((s) => [s, s === 'UNINIT' ? uninit : initialised])) as Record<
    TestState,
    string
  >;
}

/** Commands on the guest at GCTX: no guest there before GCTX_CREATE and after DECOMMISSION. */
function guestRow(
  guestStates: Record<'INIT' | 'LAUNCH' | 'ACTIVE' | 'RUNNING', string>,
): Record<TestState, string> {
  return {
    UNINIT: 'INVALID_PLATFORM_STATE',
    NO_GUEST: 'INVALID_GUEST',
    ...guestStates,
    DECOMMISSIONED: 'INVALID_GUEST',
  };
}

describe('firmware state machine: every command in every state', () => {
  const cases = Object.entries(COMMANDS).flatMap(([command, { setup, run, expect: expected }]) =>
    STATES.map((state) => ({ command, state, setup, run, status: expected[state] })),
  );
  const prepared = (state: TestState, setup: Command['setup']) => {
    const m = machineIn(state);
    setup?.(m);
    return m;
  };

  it.each(cases)('$command in $state → $status', ({ state, setup, run, status }) => {
    expect(run(prepared(state, setup)).name).toBe(status);
  });

  it.each(cases.filter((c) => c.status !== 'SUCCESS'))(
    '$command in $state fails without changing the firmware, the RMP or the response page',
    ({ state, setup, run }) => {
      const m = prepared(state, setup);
      const before = observable(m);
      run(m);
      expect(observable(m)).toBe(before);
    },
  );

  it('reports the platform and guest states by number', () => {
    expect(machineIn('UNINIT').fw.platformStatus().platform.state).toBe(0);
    expect(machineIn('RUNNING').fw.platformStatus().platform).toMatchObject({
      state: 1,
      apiMajor: 1,
      apiMinor: 55,
      guestCount: 1,
    });
    expect(machineIn('ACTIVE').fw.guestStatus(GCTX).guest).toEqual({ policy: POLICY, asid: ASID, state: 1 });
  });
});
