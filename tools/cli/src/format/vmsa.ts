import type { VmsaProvenance } from '@snp-ref/psp-firmware/measure';
import type { GuestMode } from '../ovmfMeasure.js';

/** Why a launch has no VMSA to explain. */
const NO_VMSA: Readonly<Record<string, string>> = {
  sev: 'no VMSA in this launch: SEV encrypts no vCPU state (SEV-ES and SNP do)',
  'snp:ovmf-hash': 'no VMSA in this launch: --mode snp:ovmf-hash measures the firmware pages only',
  plan: 'no VMSA provenance for a plan: it spells its VMSA fields out (--dump-plan prints them)',
};

/** The VMSAs' provenance as a table per vCPU role: field, value, where the value comes from. */
export function formatVmsaProvenance(vmsas: VmsaProvenance = [], mode?: GuestMode): string {
  if (vmsas.length === 0) return `${NO_VMSA[mode ?? 'plan']}\n`;
  return vmsas
    .map(({ role, vcpus, eip, settings }) => {
      const rows = settings.map((s) => [s.field, `0x${s.value.toString(16)}`, s.from]);
      const widths = [0, 1].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length), i === 0 ? 5 : 5));
      const line = (r: readonly string[]) =>
        `${(r[0] ?? '').padEnd(widths[0] ?? 0)}  ${(r[1] ?? '').padStart(widths[1] ?? 0)}  ${r[2]}`;
      return [
        `VMSA of vCPU ${vcpus} (${role}, reset EIP 0x${eip.toString(16)})`,
        line(['field', 'value', 'from']),
        ...rows.map(line),
      ].join('\n');
    })
    .join('\n\n')
    .concat('\nEvery other field is zero.\n');
}
