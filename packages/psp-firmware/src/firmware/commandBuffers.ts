import { PackedStruct } from '../struct.js';

// Command buffers of the SNP commands (include/linux/psp-sev.h, all __packed; docs/spec-notes.md
// §2.5). Flag words stay whole fields; the mailbox checks their reserved bits.

/** sev_data_snp_addr: GCTX_CREATE, DECOMMISSION, PLATFORM_STATUS. */
export const SnpAddr = new PackedStruct('sev_data_snp_addr', 8, { address: [0, 'u64'] });

/** SNP_ACTIVATE's command buffer: the guest context page and the ASID to bind to it. */
export const SnpActivate = new PackedStruct('sev_data_snp_activate', 12, {
  gctxPaddr: [0, 'u64'],
  asid: [8, 'u32'],
});

/** SNP_LAUNCH_START's command buffer. */
export const SnpLaunchStart = new PackedStruct('sev_data_snp_launch_start', 0x30, {
  gctxPaddr: [0x00, 'u64'],
  policy: [0x08, 'u64'],
  maGctxPaddr: [0x10, 'u64'],
  /** bit 0 ma_en, bit 1 imi_en, bits 31:2 reserved. */
  flags: [0x18, 'u32'],
  desiredTscKhz: [0x1c, 'u32'],
  gosvw: [0x20, { bytes: 16 }],
});

/** SNP_LAUNCH_UPDATE's command buffer. */
export const SnpLaunchUpdate = new PackedStruct('sev_data_snp_launch_update', 0x20, {
  gctxPaddr: [0x00, 'u64'],
  /** bit 0 page_size, bits 3:1 page_type, bit 4 imi_page, bits 31:5 reserved. */
  flags: [0x08, 'u32'],
  rsvd2: [0x0c, 'u32'],
  address: [0x10, 'u64'],
  /** bits 7:0 reserved, 15:8 vmpl1_perms, 23:16 vmpl2_perms, 31:24 vmpl3_perms. */
  perms: [0x18, 'u32'],
  rsvd4: [0x1c, 'u32'],
});

/** SNP_LAUNCH_FINISH's command buffer. */
export const SnpLaunchFinish = new PackedStruct('sev_data_snp_launch_finish', 0x40, {
  gctxPaddr: [0x00, 'u64'],
  idBlockPaddr: [0x08, 'u64'],
  idAuthPaddr: [0x10, 'u64'],
  /** bit 0 id_block_en, bit 1 auth_key_en, bit 2 vcek_disabled, bits 63:3 reserved. */
  flags: [0x18, 'u64'],
  hostData: [0x20, { bytes: 32 }],
});

/** sev_data_snp_page_reclaim and sev_data_snp_page_unsmash: paddr with bit 0 = page size. */
export const SnpPagePaddr = new PackedStruct('sev_data_snp_page_reclaim', 8, { paddr: [0, 'u64'] });

/** SNP_GUEST_REQUEST's command buffer: the guest context and the request and response pages. */
export const SnpGuestRequest = new PackedStruct('sev_data_snp_guest_request', 24, {
  gctxPaddr: [0, 'u64'],
  reqPaddr: [8, 'u64'],
  resPaddr: [16, 'u64'],
});

/** SNP_GUEST_STATUS's command buffer: the guest context and where to write the status. */
export const SnpGuestStatusArgs = new PackedStruct('sev_data_snp_guest_status', 16, {
  gctxPaddr: [0, 'u64'],
  address: [8, 'u64'],
});

/** SNP_PLATFORM_STATUS output (struct sev_user_data_snp_status). */
export const SnpPlatformStatusBuffer = new PackedStruct('sev_user_data_snp_status', 32, {
  apiMajor: [0x00, 'u8'],
  apiMinor: [0x01, 'u8'],
  state: [0x02, 'u8'],
  /** bit 0 is_rmp_initialized. */
  rmpFlags: [0x03, 'u8'],
  buildId: [0x04, 'u32'],
  flags: [0x08, 'u32'],
  guestCount: [0x0c, 'u32'],
  currentTcb: [0x10, 'u64'],
  reportedTcb: [0x18, 'u64'],
});

/** SNP_GUEST_STATUS output (AMD-ASPFW snp_guest_status_buffer_t). */
export const SnpGuestStatusBuffer = new PackedStruct('snp_guest_status', 32, {
  policy: [0x00, 'u64'],
  asid: [0x08, 'u32'],
  state: [0x0c, 'u8'],
  /** bit 0 VCEK_DIS. */
  flags: [0x10, 'u32'],
});

/** The ID authentication information page of LAUNCH_FINISH (AMD-ASPFW sev_mcmd.h), 0x1000 bytes. */
export const IdAuthInfo = new PackedStruct('snp_id_auth_info', 0x1000, {
  idKeyAlgo: [0x000, 'u32'],
  authKeyAlgo: [0x004, 'u32'],
  idBlockSig: [0x040, { bytes: 0x200 }],
  idKey: [0x240, { bytes: 0x404 }],
  idKeySig: [0x680, { bytes: 0x200 }],
  authorKey: [0x880, { bytes: 0x404 }],
});

/** The ID block page of LAUNCH_FINISH: 0x60 bytes. */
export const IdBlockBuffer = new PackedStruct('snp_id_block', 0x60, {
  ld: [0x00, { bytes: 48 }],
  familyId: [0x30, { bytes: 16 }],
  imageId: [0x40, { bytes: 16 }],
  version: [0x50, 'u32'],
  guestSvn: [0x54, 'u32'],
  policy: [0x58, 'u64'],
});
