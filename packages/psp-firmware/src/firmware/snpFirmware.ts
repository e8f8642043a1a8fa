import { hkdfSync } from 'node:crypto';
import {
  expectDefined,
  hex,
  PAGE_SIZE,
  PAGES_PER_2M,
  type PageSize,
  type RmpEntry,
  type RmpTable,
  traceChange,
  type VmplPerms,
} from '@snp-ref/rmp-core';
import {
  decodeReportRequest,
  encodeReportResponse,
  MsgType,
  openGuestMessage,
  REPORT_REQUEST_BYTES,
  readGuestMessageHeader,
  sealGuestMessage,
} from '../attestation/guestMessage.js';
import { REPORT_BYTES, SIGNATURE_ALGO_ECDSA_P384_SHA384 } from '../attestation/report.js';
import { P384SigningKey } from '../attestation/signingKey.js';
import { signReport } from '../attestation/verify.js';
import type { MeasuredPage, PageInfoOptions } from '../measure/launchDigest.js';
import type { PhysicalMemory } from '../memory/physicalMemory.js';
import { PageType, pageTypeName } from '../pageType.js';
import { policyViolation, singleSocketViolation } from '../policy.js';
import { FW_SUCCESS, type FwStatus, fwStatus, type SevStatusName } from '../status.js';
import { refuse } from './checks.js';
import { type FirmwareConfig, type ResolvedConfig, resolveConfig } from './config.js';
import { correctCpuidEntries, decodeCpuidPage, encodeCpuidPage } from './cpuidPage.js';
import { encodeIdBlock, GuestContext, GuestState, type IdBlock } from './guestContext.js';
import { ecdsaVerifies, encodeEcdsaPublicKey, type IdAuth, keyDigest } from './idAuth.js';
import { buildSecretsPage } from './secretsPage.js';

/** The platform's state: UNINIT until SNP_INIT, INIT after. */
export type PlatformState = 'UNINIT' | 'INIT';

/** SNP_LAUNCH_START's parameters beyond the guest context: the policy and what the guest is launched with. */
export interface LaunchStartParams {
  readonly policy: bigint;
  /** Guest OS-visible workarounds, copied to the secrets page; 16 bytes, default zero. */
  readonly gosvw?: Uint8Array;
  /** IMI_EN: launch by a migration image (requires imi_page on every update); default false. */
  readonly imiEnabled?: boolean;
}

/** SNP_LAUNCH_UPDATE's parameters for one page. */
export interface LaunchUpdateParams {
  /** System page frame of the page (the 2 MiB-aligned one for a 2 MiB page). */
  readonly pfn: number;
  /** PAGE_TYPE: a PageType value; others are INVALID_PARAM. */
  readonly pageType: number;
  readonly pageSize?: PageSize;
  readonly imiPage?: boolean;
  /** VMPL1..3 permission masks the page gets; default none. */
  readonly vmplPerms?: VmplPerms;
}

/** SNP_LAUNCH_FINISH's parameters: the optional ID block with its authentication, and the host data. */
export interface LaunchFinishParams {
  readonly idBlock?: IdBlock;
  readonly idAuth?: IdAuth;
  /** HOST_DATA, 32 bytes reported verbatim; default zero. */
  readonly hostData?: Uint8Array;
}

/** SNP_PLATFORM_STATUS output (struct sev_user_data_snp_status, docs/spec-notes.md §2.5). */
export interface SnpPlatformStatus {
  readonly apiMajor: number;
  readonly apiMinor: number;
  readonly state: number;
  readonly isRmpInitialized: boolean;
  readonly buildId: number;
  readonly flags: number;
  readonly guestCount: number;
  readonly currentTcb: bigint;
  readonly reportedTcb: bigint;
}

/** SNP_GUEST_STATUS output (AMD-ASPFW snp_guest_status_buffer_t). */
export interface SnpGuestStatus {
  readonly policy: bigint;
  readonly asid: number;
  readonly state: number;
}

const PSP = 'psp';
const status = fwStatus;
const FLAG_FEATURE_INFO = 1 << 3; // always set by firmware 1.55 (AMD-ASPFW snp_mcmd_platform_status)
const PLATFORM_INFO_SMT_EN = 1n;

const isFirmwarePage = (e: RmpEntry) => e.assigned && e.asid === 0 && e.immutable && !e.vmsa;
/** A CONTEXT page: a firmware page whose VMSA bit GCTX_CREATE set (AMD-ASPFW snp_mcmd_gctx_create). */
const isContextPage = (e: RmpEntry) => e.assigned && e.asid === 0 && e.immutable && e.vmsa;
const isPreGuest = (e: RmpEntry) => e.assigned && e.asid !== 0 && e.immutable && !e.validated;
const validPfn = (pfn: number) => Number.isSafeInteger(pfn) && pfn >= 0;

/**
 * The SNP firmware (AMD secure processor) of one platform, modelled on the published Genoa
 * firmware 1.55.25 (AMD-ASPFW fw/psp_bl_uapps/sev_uapp/src/sev_mcmd.c; docs/spec-notes.md §2): the
 * platform and guest state machines, the SNP commands with their check order and status codes,
 * and the RMP and memory effects of each. Every command returns a status and, when it fails,
 * changes nothing. RMP changes are traced as kind 'firmware', by 'psp'.
 */
export class SnpFirmware {
  readonly config: ResolvedConfig;
  readonly vcek: P384SigningKey;
  platformState: PlatformState = 'UNINIT';
  private rmpInitialized = false;
  private guestCount = 0;
  private generations = 0;
  private readonly guests = new Map<number, GuestContext>();
  /**
   * Sees every page a guest's LAUNCH_UPDATE measures, with the guest's ASID (measurement logs).
   * Set it before the guest context is created; unset, it costs nothing.
   */
  onMeasuredPage: ((asid: number, page: MeasuredPage) => void) | undefined;
  /** ASIDs whose caches may hold a decommissioned RUNNING guest's lines until DF_FLUSH (AMD-ASPFW). */
  private readonly dirtyAsids = new Set<number>();
  private allAsidsDirty = false;

  constructor(
    readonly rmp: RmpTable,
    readonly memory: PhysicalMemory,
    config: FirmwareConfig,
  ) {
    this.config = resolveConfig(config);
    this.vcek = new P384SigningKey(`${this.config.seed}/vcek`);
  }

  /** SNP_INIT: RMP initialisation (every entry must be hypervisor-owned), every ASID dirty, state INIT. */
  snpInit(): FwStatus {
    if (this.platformState === 'INIT') return status('INVALID_PLATFORM_STATE');
    for (const [, entry] of this.rmp.entries()) {
      // Linux zeroes the RMP before SNP_INIT (snp_rmptable_init); the model refuses a dirty one.
      if (entry.assigned) return status('RMP_INITIALIZATION_FAILED');
    }
    this.rmpInitialized = true;
    this.allAsidsDirty = true;
    this.guestCount = 0;
    this.platformState = 'INIT';
    return FW_SUCCESS;
  }

  /** SNP_SHUTDOWN: back to UNINIT; DFFLUSH_REQUIRED while an ASID is dirty; a no-op when UNINIT. */
  snpShutdown(): FwStatus {
    if (this.platformState === 'UNINIT') return FW_SUCCESS;
    if (this.allAsidsDirty || this.dirtyAsids.size > 0) return status('DFFLUSH_REQUIRED');
    this.guests.clear();
    this.platformState = 'UNINIT';
    return FW_SUCCESS;
  }

  /** SNP_DF_FLUSH: every dirty ASID becomes clean (the model's cores have always done WBINVD). */
  dfFlush(): FwStatus {
    if (this.platformState !== 'INIT') return status('INVALID_PLATFORM_STATE');
    this.allAsidsDirty = false;
    this.dirtyAsids.clear();
    return FW_SUCCESS;
  }

  /** SNP_PLATFORM_STATUS: the platform's state, firmware version, TCB and guest count. */
  platformStatus(): { status: FwStatus; platform: SnpPlatformStatus } {
    const { apiMajor, apiMinor, build, tcb } = this.config;
    return {
      status: FW_SUCCESS,
      platform: {
        apiMajor,
        apiMinor,
        state: this.platformState === 'INIT' ? 1 : 0,
        isRmpInitialized: this.rmpInitialized,
        buildId: build,
        flags: FLAG_FEATURE_INFO,
        guestCount: this.guestCount,
        currentTcb: tcb,
        reportedTcb: tcb,
      },
    };
  }

  /** SNP_GCTX_CREATE: a 4 KiB FIRMWARE page becomes a guest context (RMP VMSA bit set), state INIT. */
  gctxCreate(gctxPfn: number): FwStatus {
    if (!validPfn(gctxPfn)) return status('INVALID_PARAM');
    if (this.platformState !== 'INIT') return status('INVALID_PLATFORM_STATE');
    const entry = this.entry(gctxPfn);
    if (entry === undefined || !isFirmwarePage(entry)) return status('INVALID_PAGE_STATE');
    if (entry.pageSize !== '4K') return status('INVALID_PAGE_SIZE');
    this.setEntry(gctxPfn, { ...entry, vmsa: true }, 'gctx_create');
    this.memory.write(gctxPfn, new Uint8Array(PAGE_SIZE));
    const guest = new GuestContext(++this.generations, this.config.tcb);
    const observer = this.onMeasuredPage;
    if (observer) guest.digest.onPage = (page) => observer(guest.asid, page);
    this.guests.set(gctxPfn, guest);
    return FW_SUCCESS;
  }

  /** SNP_LAUNCH_START: checks the policy, generates the guest's VMPCKs and REPORT_ID, INIT → LAUNCH. */
  launchStart(gctxPfn: number, params: LaunchStartParams): FwStatus {
    const gosvw = params.gosvw ?? new Uint8Array(16);
    if (!validPfn(gctxPfn) || gosvw.length !== 16) return refuse('SNP_LAUNCH_START', 'INVALID_PARAM');
    const found = this.guestIn(gctxPfn, 'INIT');
    if (typeof found === 'string') return refuse('SNP_LAUNCH_START', found);
    if (policyViolation(params.policy, this.config) !== undefined)
      return refuse('SNP_LAUNCH_START', 'POLICY_FAILURE');
    found.policy = params.policy;
    found.gosvw = Uint8Array.from(gosvw);
    found.imiEnabled = params.imiEnabled ?? false;
    found.vmpcks = [0, 1, 2, 3].map((i) => this.derive(`guest ${found.generation} VMPCK${i}`, 32));
    found.reportId = this.derive(`guest ${found.generation} REPORT_ID`, 32);
    found.state = 'LAUNCH';
    this.guestCount++;
    return FW_SUCCESS;
  }

  /** SNP_ACTIVATE: binds an ASID to a guest in LAUNCH or RUNNING (AMD-ASPFW snp_mcmd_activate, check order). */
  activate(gctxPfn: number, asid: number): FwStatus {
    if (!validPfn(gctxPfn) || !Number.isInteger(asid)) return refuse('SNP_ACTIVATE', 'INVALID_PARAM');
    const guest = this.guestOf(gctxPfn);
    if (typeof guest === 'string') return refuse('SNP_ACTIVATE', guest);
    if (guest.state === 'INIT') return refuse('SNP_ACTIVATE', 'INVALID_GUEST_STATE');
    if (this.asidHasPages(asid)) return refuse('SNP_ACTIVATE', 'INVALID_CONFIG');
    if (singleSocketViolation(guest.policy, this.config)) return refuse('SNP_ACTIVATE', 'POLICY_FAILURE');
    if (asid < 1 || asid > this.config.maxSnpAsid) return refuse('SNP_ACTIVATE', 'INVALID_ASID');
    for (const other of this.guests.values())
      if (other !== guest && other.asid === asid) return refuse('SNP_ACTIVATE', 'ASID_OWNED');
    if (guest.asid !== 0) return refuse('SNP_ACTIVATE', 'ACTIVE');
    if (this.allAsidsDirty || this.dirtyAsids.has(asid)) return refuse('SNP_ACTIVATE', 'DFFLUSH_REQUIRED');
    guest.asid = asid;
    return FW_SUCCESS;
  }

  /**
   * SNP_LAUNCH_UPDATE: measures a PRE_GUEST page, fills ZERO and SECRETS pages, checks CPUID pages,
   * encrypts the page under the guest's key and makes it GUEST_VALID (validated, immutable cleared,
   * VMSA bit for VMSA pages). Check order of AMD-ASPFW snp_mcmd_launch_update.
   */
  launchUpdate(gctxPfn: number, params: LaunchUpdateParams): FwStatus {
    const { pfn, pageType } = params;
    const pageSize = params.pageSize ?? '4K';
    const vmplPerms = params.vmplPerms ?? [0, 0, 0];
    if (
      !validPfn(gctxPfn) ||
      !validPfn(pfn) ||
      vmplPerms.some((p) => !Number.isInteger(p) || p < 0 || p > 0xff)
    ) {
      return refuse('SNP_LAUNCH_UPDATE', 'INVALID_PARAM');
    }
    if (this.platformState !== 'INIT') return refuse('SNP_LAUNCH_UPDATE', 'INVALID_PLATFORM_STATE');
    const guest = this.guests.get(gctxPfn);
    if (guest === undefined || !this.isContext(gctxPfn)) return refuse('SNP_LAUNCH_UPDATE', 'INVALID_GUEST');
    const entry = this.entry(pfn);
    if (entry === undefined || !isPreGuest(entry)) return refuse('SNP_LAUNCH_UPDATE', 'INVALID_PAGE_STATE');
    if (entry.pageSize !== pageSize) return refuse('SNP_LAUNCH_UPDATE', 'INVALID_PAGE_SIZE');
    const twoMeg = pageSize === '2M';
    if (twoMeg && pfn % PAGES_PER_2M !== 0) return refuse('SNP_LAUNCH_UPDATE', 'INVALID_ADDRESS');
    const type = pageTypeName(pageType) === undefined ? undefined : (pageType as PageType);
    if (twoMeg && (type === PageType.VMSA || type === PageType.SECRETS || type === PageType.CPUID)) {
      return refuse('SNP_LAUNCH_UPDATE', 'INVALID_PAGE_SIZE');
    }
    if (type === undefined) return refuse('SNP_LAUNCH_UPDATE', 'INVALID_PARAM');
    if (guest.state !== 'LAUNCH') return refuse('SNP_LAUNCH_UPDATE', 'INVALID_GUEST_STATE');
    if (guest.asid === 0) return refuse('SNP_LAUNCH_UPDATE', 'INACTIVE');
    if (entry.asid !== guest.asid) return refuse('SNP_LAUNCH_UPDATE', 'INVALID_PAGE_OWNER');
    if (guest.imiEnabled && params.imiPage !== true) return refuse('SNP_LAUNCH_UPDATE', 'INVALID_PARAM');
    if (type === PageType.CPUID) {
      const rejected = this.checkCpuidPage(pfn);
      if (rejected !== undefined) return rejected;
    }
    const pages = twoMeg ? PAGES_PER_2M : 1;
    const options = { imiPage: params.imiPage === true, vmplPerms };
    for (let i = 0; i < pages; i++) {
      this.measureAndEncrypt(guest, type, pfn + i, entry.gpa + i * PAGE_SIZE, options);
      const current =
        i === 0 ? entry : expectDefined(this.entry(pfn + i), `the RMP entry of pfn ${hex(pfn + i)}`);
      const after = {
        ...current,
        immutable: false,
        validated: true,
        vmsa: type === PageType.VMSA,
        vmplPerms,
      };
      this.setEntry(pfn + i, after, 'launch_update');
    }
    return FW_SUCCESS;
  }

  /** SNP_LAUNCH_FINISH: checks the optional ID block and its signatures, stores HOST_DATA, LAUNCH → RUNNING. */
  launchFinish(gctxPfn: number, params: LaunchFinishParams = {}): FwStatus {
    const hostData = params.hostData ?? new Uint8Array(32);
    if (!validPfn(gctxPfn) || hostData.length !== 32) return refuse('SNP_LAUNCH_FINISH', 'INVALID_PARAM');
    const guest = this.guestOf(gctxPfn);
    if (typeof guest === 'string') return refuse('SNP_LAUNCH_FINISH', guest);
    if (guest.state !== 'LAUNCH' || guest.imiEnabled)
      return refuse('SNP_LAUNCH_FINISH', 'INVALID_GUEST_STATE');
    if (guest.asid === 0) return refuse('SNP_LAUNCH_FINISH', 'INACTIVE');
    const { idBlock, idAuth } = params;
    if (idBlock !== undefined) {
      const rejected = this.checkIdBlock(guest, idBlock, idAuth);
      if (rejected !== undefined) return rejected;
      guest.idBlock = idBlock;
      if (idAuth !== undefined) {
        guest.idKeyDigest = keyDigest(idAuth.idKey);
        if (idAuth.author !== undefined) guest.authorKeyDigest = keyDigest(idAuth.author.key);
      }
    }
    guest.authorKeyEnabled = idAuth?.author !== undefined;
    guest.hostData = Uint8Array.from(hostData);
    guest.state = 'RUNNING';
    return FW_SUCCESS;
  }

  /**
   * SNP_DECOMMISSION: destroys the guest in any state. Its ASID is dirty until DF_FLUSH if the
   * guest ran; the context page goes back to FIRMWARE (VMSA bit cleared) for the host to reclaim.
   */
  decommission(gctxPfn: number): FwStatus {
    if (!validPfn(gctxPfn)) return status('INVALID_PARAM');
    const guest = this.guestOf(gctxPfn);
    if (typeof guest === 'string') return status(guest);
    if (guest.asid !== 0 && guest.state === 'RUNNING') this.dirtyAsids.add(guest.asid);
    if (guest.state !== 'INIT') this.guestCount--;
    this.guests.delete(gctxPfn);
    const context = expectDefined(this.entry(gctxPfn), `the RMP entry of context page ${hex(gctxPfn)}`);
    this.setEntry(gctxPfn, { ...context, vmsa: false }, 'decommission');
    return FW_SUCCESS;
  }

  /**
   * SNP_PAGE_RECLAIM: clears Immutable of a FIRMWARE page (→ Reclaim), a PRE_GUEST page
   * (→ GUEST_INVALID) or a validated immutable one; succeeds without change when the page is not
   * immutable (AMD-ASPFW snp_mcmd_page_reclaim). The host then makes it shared.
   */
  pageReclaim(pfn: number, pageSize: PageSize = '4K'): FwStatus {
    if (!validPfn(pfn)) return status('INVALID_PARAM');
    if (this.platformState !== 'INIT') return status('INVALID_PLATFORM_STATE');
    const entry = this.entry(pfn);
    if (entry === undefined) return status('INVALID_ADDRESS');
    if (entry.pageSize !== pageSize) return status('INVALID_PAGE_SIZE');
    if (pageSize === '2M' && pfn % PAGES_PER_2M !== 0) return status('INVALID_ADDRESS');
    if (!entry.immutable) return FW_SUCCESS;
    if (!entry.assigned || entry.vmsa) return status('INVALID_PAGE_STATE'); // CONTEXT, HV_FIXED, …
    this.setEntry(pfn, { ...entry, immutable: false }, 'page_reclaim');
    return FW_SUCCESS;
  }

  /**
   * SNP_PAGE_UNSMASH: 512 matching launch-time 4 KiB entries (immutable, same ASID and state,
   * consecutive gpas from a 2 MiB boundary, same permissions, no VMSA) become one 2 MiB page
   * (AMD-ASPFW snp_mcmd_page_unsmash). Entries 1..511 keep the model's convention of mirroring
   * the head (rmp-core rmpupdate) rather than the firmware's internal sub-entry encoding.
   */
  pageUnsmash(pfn: number): FwStatus {
    if (!validPfn(pfn) || pfn % PAGES_PER_2M !== 0) return status('INVALID_PARAM');
    if (this.platformState !== 'INIT') return status('INVALID_PLATFORM_STATE');
    const head = this.entry(pfn);
    if (head === undefined || pfn + PAGES_PER_2M > this.rmp.hostPages) return status('INVALID_ADDRESS');
    if (head.gpa % (PAGES_PER_2M * PAGE_SIZE) !== 0) return status('INVALID_PAGE_STATE');
    const entries: RmpEntry[] = [];
    for (let i = 0; i < PAGES_PER_2M; i++) {
      const e = this.rmp.read(pfn + i);
      const matches =
        e.pageSize === '4K' &&
        e.immutable &&
        !e.vmsa &&
        e.asid !== 0 &&
        e.assigned &&
        e.asid === head.asid &&
        e.validated === head.validated &&
        e.gpa === head.gpa + i * PAGE_SIZE &&
        e.vmplPerms.every((p, j) => p === head.vmplPerms[j]);
      if (!matches) return status('INVALID_PAGE_STATE');
      entries.push(e);
    }
    for (const [i, e] of entries.entries()) this.setEntry(pfn + i, { ...e, pageSize: '2M' }, 'page_unsmash');
    return FW_SUCCESS;
  }

  /** SNP_GUEST_STATUS. */
  guestStatus(gctxPfn: number): { status: FwStatus; guest?: SnpGuestStatus } {
    const guest = this.guestOf(gctxPfn);
    if (typeof guest === 'string') return { status: status(guest) };
    return {
      status: FW_SUCCESS,
      guest: { policy: guest.policy, asid: guest.asid, state: GuestState[guest.state] },
    };
  }

  /** The guest's current launch digest (48 bytes), or undefined if `gctxPfn` is no guest context. */
  launchDigest(gctxPfn: number): Uint8Array | undefined {
    return this.guests.get(gctxPfn)?.digest.digest();
  }

  /**
   * SNP_GUEST_REQUEST: decrypts the guest's message in `requestPfn` with the VMPCK it names,
   * answers MSG_REPORT_REQ with a signed report, and writes the encrypted response into
   * `responsePfn`, a FIRMWARE page. Mailbox-level failures return their status and write nothing;
   * errors inside the request go into the response's status field (AMD-ASPFW snp_mcmd_guest_request).
   */
  guestRequest(gctxPfn: number, requestPfn: number, responsePfn: number): FwStatus {
    if (!validPfn(gctxPfn) || !validPfn(requestPfn) || !validPfn(responsePfn)) return status('INVALID_PARAM');
    const guest = this.guestOf(gctxPfn);
    if (typeof guest === 'string') return status(guest);
    const response = this.entry(responsePfn);
    if (response === undefined || !isFirmwarePage(response)) return status('INVALID_PAGE_STATE');
    if (response.pageSize !== '4K' || this.entry(requestPfn)?.pageSize === '2M')
      return status('INVALID_PAGE_SIZE');
    if (guest.state !== 'RUNNING') return status('INVALID_GUEST_STATE');
    const raw = this.memory.read(requestPfn);
    const header = readGuestMessageHeader(raw);
    if (header.vmpck > 3 || header.msgSize === 0 || header.msgSize % 16 !== 0) return status('INVALID_PARAM');
    const key = expectDefined(guest.vmpcks[header.vmpck], `VMPCK${header.vmpck}`); // made at LAUNCH_START
    const message = openGuestMessage(key, raw);
    if (message === undefined) return status('BAD_MEASUREMENT'); // tag mismatch (AMD-ASPFW)
    const count = guest.msgCounts[header.vmpck] ?? 0n;
    if (message.seqno !== count + 1n || count >= 2n ** 64n - 2n) return status('AEAD_OFLOW');
    if (message.msgType !== MsgType.REPORT_REQ || message.msgVersion !== 1) return status('INVALID_PARAM');
    const payload = this.reportResponse(guest, message.payload, message.vmpck);
    const sealed = sealGuestMessage(key, {
      seqno: message.seqno + 1n,
      msgType: MsgType.REPORT_RSP,
      msgVersion: 1,
      vmpck: message.vmpck,
      payload,
    });
    this.memory.write(responsePfn, sealed);
    guest.msgCounts[header.vmpck] = count + 2n;
    return FW_SUCCESS;
  }

  private reportResponse(guest: GuestContext, request: Uint8Array, vmpck: number): Buffer {
    const failed = (name: SevStatusName) =>
      encodeReportResponse({ status: status(name).code, report: new Uint8Array(0) });
    if (request.length < REPORT_REQUEST_BYTES) return failed('INVALID_PARAM');
    const { reportData, vmpl } = decodeReportRequest(request.subarray(0, REPORT_REQUEST_BYTES));
    const reservedSet = request.subarray(0x44).some((b) => b !== 0); // KEY_SEL 0 and reserved bytes
    if (reservedSet || vmpl < vmpck) return failed('INVALID_PARAM');
    return encodeReportResponse({ status: 0, report: this.signedReport(guest, reportData, vmpl) });
  }

  private signedReport(guest: GuestContext, reportData: Uint8Array, vmpl: number): Uint8Array {
    const { tcb, build, apiMinor, apiMajor, smtEnabled } = this.config;
    const id = guest.idBlock;
    const report = signReport(
      {
        version: 2, // firmware 1.55 (AMD-ASPFW SNP_GMSG_MAX_REPORT_VERSION)
        guestSvn: id?.guestSvn ?? 0,
        policy: guest.policy,
        familyId: id?.familyId ?? new Uint8Array(16),
        imageId: id?.imageId ?? new Uint8Array(16),
        vmpl,
        signatureAlgo: SIGNATURE_ALGO_ECDSA_P384_SHA384,
        currentTcb: tcb,
        platformInfo: smtEnabled ? PLATFORM_INFO_SMT_EN : 0n,
        flags: guest.authorKeyEnabled ? 1 : 0,
        reportData,
        measurement: guest.digest.digest(),
        hostData: guest.hostData,
        idKeyDigest: guest.idKeyDigest,
        authorKeyDigest: guest.authorKeyDigest,
        reportId: guest.reportId,
        reportIdMa: new Uint8Array(32).fill(0xff), // no migration agent
        reportedTcb: tcb,
        chipId: this.derive('chip id', 64),
        committedTcb: tcb,
        currentBuild: build,
        currentMinor: apiMinor,
        currentMajor: apiMajor,
        committedBuild: build,
        committedMinor: apiMinor,
        committedMajor: apiMajor,
        launchTcb: guest.launchTcb,
      },
      this.vcek,
    );
    if (report.length !== REPORT_BYTES) throw new Error('report encoder produced a wrong size');
    return report;
  }

  private checkIdBlock(guest: GuestContext, block: IdBlock, auth: IdAuth | undefined): FwStatus | undefined {
    if (!Buffer.from(block.ld).equals(Buffer.from(guest.digest.digest())))
      return refuse('SNP_LAUNCH_FINISH', 'BAD_MEASUREMENT');
    if (block.policy !== guest.policy) return refuse('SNP_LAUNCH_FINISH', 'POLICY_FAILURE');
    if (auth === undefined) return refuse('SNP_LAUNCH_FINISH', 'BAD_SIGNATURE'); // an ID block needs its ID key signature
    if (!ecdsaVerifies(encodeIdBlock(block), auth.idBlockSignature, auth.idKey))
      return refuse('SNP_LAUNCH_FINISH', 'BAD_SIGNATURE');
    const author = auth.author;
    if (
      author !== undefined &&
      !ecdsaVerifies(encodeEcdsaPublicKey(auth.idKey), author.idKeySignature, author.key)
    ) {
      return refuse('SNP_LAUNCH_FINISH', 'BAD_SIGNATURE');
    }
    return undefined;
  }

  /**
   * Measures one page and encrypts it in place under the guest's key: the host's plaintext for
   * NORMAL, VMSA, UNMEASURED and CPUID pages, zeros for ZERO, the secrets page the firmware builds.
   */
  private measureAndEncrypt(
    guest: GuestContext,
    type: PageType,
    pfn: number,
    gpa: number,
    options: PageInfoOptions,
  ): void {
    const memory = this.memory;
    if (type === PageType.ZERO || type === PageType.SECRETS) {
      const page = type === PageType.ZERO ? new Uint8Array(PAGE_SIZE) : this.secretsPage(guest);
      guest.digest.update(type, gpa, page, options);
      memory.writePrivate(guest.asid, pfn, page);
      return;
    }
    guest.digest.update(type, gpa, memory.peek(pfn), options);
    memory.encryptInPlace(guest.asid, pfn);
  }

  private secretsPage(guest: GuestContext): Uint8Array {
    return buildSecretsPage({
      imiEnabled: guest.imiEnabled,
      fms: this.config.fms,
      gosvw: guest.gosvw,
      vmpcks: guest.vmpcks,
      tscFactor: 200,
    });
  }

  /** A CPUID page the platform contradicts is rewritten corrected and unencrypted: INVALID_PARAM. */
  private checkCpuidPage(pfn: number): FwStatus | undefined {
    const page = this.memory.read(pfn);
    const entries = decodeCpuidPage(page);
    if (entries === undefined || page.subarray(4, 16).some((b) => b !== 0))
      return refuse('SNP_LAUNCH_UPDATE', 'INVALID_PARAM');
    const corrected = correctCpuidEntries(entries, this.config.cpuid);
    if (JSON.stringify(corrected, bigints) === JSON.stringify(entries, bigints)) return undefined;
    this.memory.write(pfn, encodeCpuidPage(corrected));
    return refuse('SNP_LAUNCH_UPDATE', 'INVALID_PARAM');
  }

  /** The guest whose context page is `gctxPfn`, or the status that says why there is none. */
  private guestOf(gctxPfn: number): GuestContext | 'INVALID_PLATFORM_STATE' | 'INVALID_GUEST' {
    if (this.platformState !== 'INIT') return 'INVALID_PLATFORM_STATE';
    const guest = this.guests.get(gctxPfn);
    return guest !== undefined && this.isContext(gctxPfn) ? guest : 'INVALID_GUEST';
  }

  /** The guest of `gctxPfn` if it is in `state`, or the status that says why not. */
  private guestIn(
    gctxPfn: number,
    state: GuestContext['state'],
  ): GuestContext | 'INVALID_PLATFORM_STATE' | 'INVALID_GUEST' | 'INVALID_GUEST_STATE' {
    const guest = this.guestOf(gctxPfn);
    if (typeof guest !== 'string' && guest.state !== state) return 'INVALID_GUEST_STATE';
    return guest;
  }

  private isContext(pfn: number): boolean {
    const entry = this.entry(pfn);
    return entry !== undefined && isContextPage(entry);
  }

  private asidHasPages(asid: number): boolean {
    for (const [, e] of this.rmp.entries()) if (e.assigned && e.asid === asid) return true;
    return false;
  }

  private entry(pfn: number): RmpEntry | undefined {
    return this.rmp.has(pfn) ? this.rmp.read(pfn) : undefined;
  }

  private setEntry(pfn: number, entry: RmpEntry, command: string): void {
    if (!this.rmp.trace.active) {
      this.rmp.write(pfn, entry); // untraced: one branch, no closures (hot in LAUNCH_UPDATE)
      return;
    }
    traceChange(
      this.rmp,
      'firmware',
      `${PSP}:${command}`,
      pfn,
      () => {
        this.rmp.write(pfn, entry);
        return 0;
      },
      () => 'SUCCESS',
    );
  }

  /** HKDF-SHA-384 of the seed: the platform's and its guests' secrets, a copy of the memoised bytes. */
  private derive(info: string, bytes: number): Uint8Array {
    const key = `${this.config.seed}\0${info}\0${bytes}`;
    let derived = DERIVED.get(key);
    if (derived === undefined) {
      derived = new Uint8Array(hkdfSync('sha384', this.config.seed, 'snp-ref firmware', info, bytes));
      if (DERIVED.size >= DERIVED_LIMIT) DERIVED.clear();
      DERIVED.set(key, derived);
    }
    return Uint8Array.from(derived);
  }
}

/**
 * Secrets already derived, by seed, info and length: a fuzzing campaign creates thousands of machines
 * from one seed, each launching guests of the same generations, and HKDF was most of LAUNCH_START.
 */
const DERIVED = new Map<string, Uint8Array>();
const DERIVED_LIMIT = 4096;

const bigints = (_: string, value: unknown) => (typeof value === 'bigint' ? value.toString() : value);
