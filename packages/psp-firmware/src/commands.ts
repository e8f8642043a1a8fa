/** SNP firmware command ids (`enum sev_cmd`, include/linux/psp-sev.h; docs/spec-notes.md §2.1). */
export const SnpCommand = {
  SNP_INIT: 0x081,
  SNP_SHUTDOWN: 0x082,
  SNP_PLATFORM_STATUS: 0x083,
  SNP_DF_FLUSH: 0x084,
  SNP_INIT_EX: 0x085,
  SNP_DECOMMISSION: 0x090,
  SNP_ACTIVATE: 0x091,
  SNP_GUEST_STATUS: 0x092,
  SNP_GCTX_CREATE: 0x093,
  SNP_GUEST_REQUEST: 0x094,
  SNP_LAUNCH_START: 0x0a0,
  SNP_LAUNCH_UPDATE: 0x0a1,
  SNP_LAUNCH_FINISH: 0x0a2,
  SNP_PAGE_RECLAIM: 0x0c7,
  SNP_PAGE_UNSMASH: 0x0c8,
} as const;
/** The name of an SNP firmware command (a key of {@link SnpCommand}). */
export type SnpCommandName = keyof typeof SnpCommand;
