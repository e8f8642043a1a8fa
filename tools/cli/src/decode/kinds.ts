// What `snp-ref decode KIND VALUE` knows: each kind's layout, with the source it follows.
import { PolicyBit, SevStatus } from '@snp-ref/psp-firmware';
import { hex, PsmashRet, PvalidateRet, RMP_FIELDS, RmpAdjustRet, RmpUpdateRet } from '@snp-ref/rmp-core';
import { type BitRange, flag, named } from './bitfields.js';
import { type FoundEntry, rmpEntriesOfDmesg } from './rmpDmesg.js';

export interface Kind {
  readonly summary: string;
  readonly width: number;
  readonly source: string;
  /** The value of the input text; undefined if the text is not one. */
  readonly parse?: (text: string) => bigint | undefined;
  /** The values in a pasted log (dmesg), each with its page; undefined if the text is no such log. */
  readonly find?: (text: string) => FoundEntry[] | undefined;
  readonly layout: (value: bigint) => readonly BitRange[];
}

type Meaning = (v: bigint) => string | undefined;

/** What an RMP field's value means, by the field names of rmp-core's RMP_FIELDS. */
const RMP_MEANINGS = {
  assigned: (v) => (v ? 'owned by a guest or the firmware' : 'hypervisor-owned'),
  pagesize: (v) => (v ? '2 MiB' : '4 KiB'),
  immutable: flag('only the firmware may change it'),
  gpa: (v) => `gpa 0x${(v << 12n).toString(16)}`,
  asid: (v) => (v ? `ASID ${v}` : 'no ASID (hypervisor or firmware)'),
  vmsa: flag('the page is a VMSA'),
  validated: flag('PVALIDATEd by the guest'),
} satisfies Readonly<Record<string, Meaning>>;

/**
 * 16 bytes: "[0xLO - 0xHI]" as dump_rmpentry() prints an entry (a whole dmesg line is read by
 * rmpDmesg.ts first), "high=0x… low=0x…" as the SNP host RFCs did, or 32 hex digits in memory order.
 */
function parse16Bytes(text: string): bigint | undefined {
  const qwords = /^\[?\s*0x([0-9a-f]{1,16})\s*-\s*0x([0-9a-f]{1,16})\s*\]?$/i.exec(text.trim());
  if (qwords) return (BigInt(`0x${qwords[2]}`) << 64n) | BigInt(`0x${qwords[1]}`);
  const older = /high=0x([0-9a-f]{1,16})\s+low=0x([0-9a-f]{1,16})/i.exec(text);
  if (older) return (BigInt(`0x${older[1]}`) << 64n) | BigInt(`0x${older[2]}`);
  const bytes = text.replace(/^0x/i, '').replace(/[\s:]/g, '');
  if (!/^[0-9a-f]{32}$/i.test(bytes)) return undefined;
  // Raw bytes in memory order: byte 0 holds bits 7:0.
  return [...Buffer.from(bytes, 'hex')].reduceRight((v, b) => (v << 8n) | BigInt(b), 0n);
}

const code = (summary: string, codes: Readonly<Record<string, number>>, source: string): Kind => ({
  summary,
  width: 32,
  source,
  layout: () => [{ name: 'code', lo: 0, width: 32, meaning: named(codes) }],
});

const RETURN_CODES =
  'arch/x86/include/asm/sev.h and the SNP host RFC rmptable.h; PSMASH FAIL_BADADDR and RMPADJUST per MSVC intrinsics and coconut-svsm (rmp-core returnCodes.ts)';

/** GHCB MSR protocol messages by GHCBInfo (arch/x86/include/asm/sev-common.h; GHCB specification §2.3.1). */
const GHCB_INFO = {
  SEV_INFO_RESP: 0x001,
  SEV_INFO_REQ: 0x002,
  CPUID_REQ: 0x004,
  CPUID_RESP: 0x005,
  AP_RESET_HOLD_REQ: 0x006,
  AP_RESET_HOLD_RESP: 0x007,
  PREF_GPA_REQ: 0x010,
  PREF_GPA_RESP: 0x011,
  REG_GPA_REQ: 0x012,
  REG_GPA_RESP: 0x013,
  PSC_REQ: 0x014,
  PSC_RESP: 0x015,
  VMPL_REQ: 0x016,
  VMPL_RESP: 0x017,
  HV_FT_REQ: 0x080,
  HV_FT_RESP: 0x081,
  TERM_REQ: 0x100,
} as const;
const TERM_REASONS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  '0': { GHCB_SEV_ES_GEN_REQ: 0, GHCB_SEV_ES_PROT_UNSUPPORTED: 1, GHCB_SNP_UNSUPPORTED: 2 },
  '1': {
    GHCB_TERM_REGISTER: 0,
    GHCB_TERM_PSC: 1,
    GHCB_TERM_PVALIDATE: 2,
    GHCB_TERM_NOT_VMPL0: 3,
    GHCB_TERM_CPUID: 4,
    GHCB_TERM_CPUID_HV: 5,
    GHCB_TERM_SECRETS_PAGE: 6,
    GHCB_TERM_NO_SVSM: 7,
    GHCB_TERM_SVSM_VMPL0: 8,
    GHCB_TERM_SVSM_CAA: 9,
    GHCB_TERM_SECURE_TSC: 10,
  },
};
const CPUID_REG = { EAX: 0, EBX: 1, ECX: 2, EDX: 3 };
const HV_FEATURES: readonly [string, bigint][] = [
  ['SNP', 0n],
  ['SNP_AP_CREATION', 1n],
  ['SNP_MULTI_VMPL', 5n],
];

function ghcbLayout(value: bigint): BitRange[] {
  const info: BitRange = { name: 'GHCBInfo', lo: 0, width: 12, meaning: named(GHCB_INFO) };
  switch (Number(value & 0xfffn)) {
    case GHCB_INFO.SEV_INFO_RESP:
      return [
        info,
        { name: 'cbit', lo: 24, width: 8 },
        { name: 'min_protocol', lo: 32, width: 16 },
        { name: 'max_protocol', lo: 48, width: 16 },
      ];
    case GHCB_INFO.CPUID_REQ:
    case GHCB_INFO.CPUID_RESP:
      return [
        info,
        { name: 'register', lo: 30, width: 2, meaning: named(CPUID_REG) },
        { name: (value & 0xfffn) === 4n ? 'function' : 'value', lo: 32, width: 32, meaning: hex },
      ];
    case GHCB_INFO.AP_RESET_HOLD_RESP:
      return [info, { name: 'result', lo: 12, width: 52 }];
    case GHCB_INFO.PREF_GPA_RESP:
    case GHCB_INFO.REG_GPA_REQ:
    case GHCB_INFO.REG_GPA_RESP:
      return [info, { name: 'gfn', lo: 12, width: 52, meaning: (v) => `gpa ${hex(v << 12n)}` }];
    case GHCB_INFO.PSC_REQ:
      return [
        info,
        { name: 'gfn', lo: 12, width: 40, meaning: (v) => `gpa ${hex(v << 12n)}` },
        { name: 'operation', lo: 52, width: 4, meaning: named({ PRIVATE: 1, SHARED: 2 }) },
      ];
    case GHCB_INFO.PSC_RESP:
    case GHCB_INFO.VMPL_RESP:
      return [
        info,
        {
          name: 'error',
          lo: 32,
          width: 32,
          meaning: (v) =>
            v === 0n ? 'success' : v === 0x8000_0000n ? "KVM's generic error (bit 63)" : 'error',
        },
      ];
    case GHCB_INFO.VMPL_REQ:
      return [info, { name: 'vmpl', lo: 32, width: 8 }];
    case GHCB_INFO.HV_FT_RESP:
      return [
        info,
        {
          name: 'features',
          lo: 12,
          width: 52,
          meaning: (v) =>
            HV_FEATURES.filter(([, bit]) => (v >> bit) & 1n)
              .map(([n]) => n)
              .join(' ') || undefined,
        },
      ];
    case GHCB_INFO.TERM_REQ:
      return [
        info,
        {
          name: 'reason_set',
          lo: 12,
          width: 4,
          meaning: named({ SEV_TERM_SET_GEN: 0, SEV_TERM_SET_LINUX: 1 }),
        },
        {
          name: 'reason_code',
          lo: 16,
          width: 8,
          meaning: (v) => named(TERM_REASONS[String((value >> 12n) & 0xfn)] ?? {})(v),
        },
      ];
    default:
      return [info];
  }
}

const POLICY_MEANINGS: Readonly<Record<string, string>> = {
  SMT: 'SMT allowed',
  RSVD_MBO: 'must be one',
  MIGRATE_MA: 'migration agent allowed',
  DEBUG: 'debugging allowed',
  SINGLE_SOCKET: 'single socket only',
  CXL_ALLOW: 'CXL memory allowed',
  MEM_AES_256_XTS: 'AES-256-XTS required',
  RAPL_DIS: 'RAPL must be disabled',
  CIPHERTEXT_HIDING_DRAM: 'ciphertext hiding required',
  PAGE_SWAP_DISABLE: 'page swap commands disabled',
};

/** SEV_FEATURES of the VMSA (AMD APM Vol 2 Table 15-34; the list sev-snp-measure's README gives for --guest-features). */
export const SEV_FEATURES: readonly (readonly [string, number])[] = [
  ['SNPActive', 0],
  ['vTOM', 1],
  ['ReflectVC', 2],
  ['RestrictedInjection', 3],
  ['AlternateInjection', 4],
  ['DebugSwap', 5],
  ['PreventHostIBS', 6],
  ['BTBIsolation', 7],
  ['VmplSSS', 8],
  ['SecureTSC', 9],
  ['VmgexitParameter', 10],
  ['IbsVirtualization', 12],
  ['VmsaRegProt', 14],
  ['SmtProtection', 15],
];

export const KINDS: Readonly<Record<string, Kind>> = {
  'rmp-entry': {
    summary:
      'a raw 16-byte RMP entry of Zen 3/Zen 4: a dmesg line or block, "[0xLO - 0xHI]", or 32 hex digits in memory order',
    width: 128,
    source:
      "the Zen 3/4 layout (PPR Family 19h Model 01h): Linux arch/x86/virt/svm/sev.c struct rmpentry_raw, dump_rmpentry(); high qword's VMPL bytes as rmp-core models them. Zen 5 dumps another, non-architectural layout (Linux 0cbc02584158): decode RMPREAD's output there (kind rmpread)",
    parse: parse16Bytes,
    find: rmpEntriesOfDmesg,
    layout: () =>
      Object.values(RMP_FIELDS).map((f) => ({
        name: f.name,
        lo: f.start,
        width: f.width,
        ...(Object.hasOwn(RMP_MEANINGS, f.name) && {
          meaning: (RMP_MEANINGS as Readonly<Record<string, Meaning>>)[f.name],
        }),
      })),
  },
  rmpread: {
    summary:
      'the 16 bytes RMPREAD writes (any Zen with RMPREAD, Zen 5 included): "[0xLO - 0xHI]" or 32 hex digits in memory order',
    width: 128,
    source:
      'Linux arch/x86/virt/svm/sev.c struct rmpentry, "as returned by the RMPREAD instruction" (0cbc02584158); rmp-core encodeRmpReadOutput',
    parse: parse16Bytes,
    layout: () => [
      { name: 'gpa', lo: 0, width: 64, meaning: (v) => `gpa ${hex(v)}` },
      { name: 'assigned', lo: 64, width: 1, meaning: RMP_MEANINGS.assigned },
      { name: 'pagesize', lo: 72, width: 1, meaning: RMP_MEANINGS.pagesize },
      {
        name: 'hpage_region_status',
        lo: 73,
        width: 1,
        meaning: flag('another page of this 2 MiB region is assigned'),
      },
      { name: 'immutable', lo: 80, width: 1, meaning: RMP_MEANINGS.immutable },
      { name: 'asid', lo: 96, width: 32, meaning: RMP_MEANINGS.asid },
    ],
  },
  rmpupdate: code('RMPUPDATE return code (EAX)', RmpUpdateRet, RETURN_CODES),
  psmash: code('PSMASH return code (EAX)', PsmashRet, RETURN_CODES),
  pvalidate: code('PVALIDATE return code (EAX; 255 = no update, CF set)', PvalidateRet, RETURN_CODES),
  rmpadjust: code('RMPADJUST return code (EAX)', RmpAdjustRet, RETURN_CODES),
  'fw-status': code(
    'SEV/SNP firmware status',
    SevStatus,
    'SEV-SNP firmware ABI, Table "Status Codes"; include/uapi/linux/psp-sev.h sev_ret_code',
  ),
  policy: {
    summary: 'the 64-bit SNP guest policy',
    width: 64,
    source: 'SEV-SNP firmware ABI §4.3 "Guest Policy" (psp-firmware policy.ts)',
    layout: () => [
      { name: 'ABI_MINOR', lo: 0, width: 8 },
      { name: 'ABI_MAJOR', lo: 8, width: 8 },
      ...Object.entries(PolicyBit).map(([name, bit]) => ({
        name,
        lo: bit.toString(2).length - 1,
        width: 1,
        meaning: flag(POLICY_MEANINGS[name] ?? 'set'),
      })),
    ],
  },
  'sev-features': {
    summary: "a VMSA's SEV_FEATURES (sev-snp-measure --guest-features)",
    width: 64,
    source: 'AMD APM Vol 2 Table 15-34 SEV_FEATURES; virtee/sev-snp-measure README',
    layout: () => SEV_FEATURES.map(([name, lo]) => ({ name, lo, width: 1, meaning: flag('enabled') })),
  },
  'ghcb-msr': {
    summary: 'a GHCB MSR protocol value (MSR 0xC0010130)',
    width: 64,
    source: 'arch/x86/include/asm/sev-common.h; GHCB specification §2.3.1',
    layout: ghcbLayout,
  },
  'exit-code': code(
    'an SVM exit code, as #VC error code or VMEXIT reason',
    {
      SVM_EXIT_WRITE_DR7: 0x37,
      SVM_EXIT_RDTSC: 0x6e,
      SVM_EXIT_RDPMC: 0x6f,
      SVM_EXIT_CPUID: 0x72,
      SVM_EXIT_INVD: 0x76,
      SVM_EXIT_IOIO: 0x7b,
      SVM_EXIT_MSR: 0x7c,
      SVM_EXIT_VMMCALL: 0x81,
      SVM_EXIT_RDTSCP: 0x87,
      SVM_EXIT_WBINVD: 0x89,
      SVM_EXIT_MONITOR: 0x8a,
      SVM_EXIT_MWAIT: 0x8b,
      SVM_EXIT_XSETBV: 0x8d,
      SVM_EXIT_NPF: 0x400,
      SVM_EXIT_VMGEXIT: 0x403,
      'page not validated (#VC)': 0x404,
    },
    'arch/x86/include/uapi/asm/svm.h SVM_EXIT_*; #VC 0x404 per AMD APM Vol 2 §15.36.10',
  ),
  'npf-info': {
    summary: "a #NPF's EXITINFO1 (error code)",
    width: 64,
    source: 'KVM PFERR_* (arch/x86/include/asm/kvm_host.h); AMD APM Vol 2 §15.36.10',
    layout: () =>
      (
        [
          ['PRESENT', 0],
          ['WRITE', 1],
          ['USER', 2],
          ['RSVD', 3],
          ['FETCH', 4],
          ['PK', 5],
          ['SHSTK', 6],
          ['SGX', 15],
          ['GUEST_RMP', 31],
          ['GUEST_FINAL', 32],
          ['GUEST_PAGE', 33],
          ['GUEST_ENC', 34],
          ['GUEST_SIZEM', 35],
          ['GUEST_VMPL', 36],
        ] as const
      ).map(([name, lo]) => ({ name, lo, width: 1 })),
  },
};
