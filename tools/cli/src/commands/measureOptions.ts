// The options of `snp-ref measure`: a plan's, sev-snp-measure's for an OVMF launch, and what to print.
import type { CommandInput, OptionSpec } from '../commandLine/command.js';

export const MEASURE_OPTIONS = [
  {
    flag: '--plan',
    type: 'optional-string',
    value: 'file',
    description: 'the plan (JSON); - or no file reads stdin',
  },
  {
    flag: '--mode',
    type: 'string',
    value: 'mode',
    description:
      'snp: an OVMF guest launch; snp:ovmf-hash: the firmware pages only; snp:svsm: a Coconut SVSM below OVMF; sev, seves: SEV and SEV-ES launches',
  },
  { flag: '--ovmf', type: 'string', value: 'path', description: 'the OVMF image (with --mode)' },
  { flag: '--svsm', type: 'string', value: 'path', description: 'the Coconut SVSM image (snp:svsm)' },
  {
    flag: '--vars-size',
    type: 'string',
    value: 'bytes',
    description: 'size of OVMF_VARS, mapped between the SVSM and OVMF (snp:svsm)',
  },
  {
    flag: '--vars-file',
    type: 'string',
    value: 'path',
    description: 'the OVMF_VARS file, for its size (snp:svsm; instead of --vars-size)',
  },
  { flag: '--vcpus', type: 'string', value: 'n', description: 'number of vCPUs: one VMSA page each' },
  {
    flag: '--vcpu-type',
    type: 'string',
    value: 'type',
    description: 'QEMU CPU model giving the CPUID signature (EPYC, EPYC-v4, EPYC-Milan, …)',
  },
  { flag: '--vcpu-sig', type: 'string', value: 'value', description: 'the CPUID signature itself' },
  {
    flag: '--vcpu-family',
    type: 'string',
    value: 'n',
    description: 'the signature from family, --vcpu-model and --vcpu-stepping',
  },
  { flag: '--vcpu-model', type: 'string', value: 'n', description: 'see --vcpu-family' },
  { flag: '--vcpu-stepping', type: 'string', value: 'n', description: 'see --vcpu-family' },
  {
    flag: '--vmm-type',
    type: 'string',
    value: 'type',
    description: 'QEMU (default), ec2 or gce: their initial vCPU state differs',
  },
  {
    flag: '--guest-features',
    type: 'string',
    value: 'value',
    description: 'SEV_FEATURES of the VMSAs (default 0x1)',
  },
  {
    flag: '--host-kernel',
    type: 'string',
    value: 'version',
    description:
      "the VMSA defaults of KVM in this Linux release (6.5, 6.8, 6.10, …) instead of today's (QEMU)",
  },
  {
    flag: '--kernel',
    type: 'string',
    value: 'path',
    description: 'measure the kernel hashes table (-kernel), with --initrd and --append',
  },
  { flag: '--initrd', type: 'string', value: 'path', description: 'the initrd (with --kernel)' },
  {
    flag: '--append',
    type: 'string',
    value: 'cmdline',
    description: 'the kernel command line (with --kernel)',
  },
  {
    flag: '--snp-ovmf-hash',
    type: 'string',
    value: 'hex',
    description: 'start from this precomputed --mode snp:ovmf-hash digest',
  },
  { flag: '--output-format', type: 'string', value: 'format', description: 'hex (default) or base64' },
  {
    flag: '--verbose',
    alias: '-v',
    type: 'boolean',
    description:
      'print "Calculated SEV_SNP guest measurement: …" (SEV, SEV_ES, SEV_SNP_SVSM) as sev-snp-measure -v does',
  },
  {
    flag: '--dump-plan',
    type: 'boolean',
    description: 'print the launch as a plan (the --plan format) instead of its digest',
  },
  {
    flag: '--dump-vmsa',
    type: 'boolean',
    description: 'also write each measured VMSA page to vmsa<N>.bin (not --mode sev)',
  },
  {
    flag: '--explain-vmsa',
    type: 'boolean',
    description: 'print each VMSA field the launch sets, its value and where it comes from',
  },
  {
    flag: '--log',
    type: 'optional-string',
    value: 'file',
    description:
      'write every measured page (gpa, type, SHA-384, digest before and after) to a file; no file or - for stdout',
  },
  {
    flag: '--format',
    type: 'string',
    value: 'format',
    description: 'of --log: json (JSON lines, default) or table',
  },
  { flag: '--json', type: 'boolean', description: 'print the digest and the digest after each op as JSON' },
  { flag: '--parallel', type: 'boolean', description: 'hash NORMAL file pages on all cores (same digest)' },
] as const satisfies readonly OptionSpec[];

export type MeasureOptions = CommandInput<typeof MEASURE_OPTIONS, []>['options'];
