// The command lines of test/reference-runs-modes.json: every flag of sev-snp-measure's sev, seves
// and snp:svsm modes, on Debian's OVMF, the synthetic firmware and sev-snp-measure's own fixtures
// ({amdSev}, {ovmfX64}: its OVMF suffixes; {svsmOvmf}, {svsm}: its Coconut SVSM and matching OVMF).

/** Space-separated flags, then tokens taken as they are (a command line with spaces). */
const line = (flags: string, ...tokens: string[]): readonly string[] => [...flags.split(' '), ...tokens];

const SVSM = '--mode snp:svsm --ovmf {svsmOvmf} --svsm {svsm}';

export const MODE_RUNS: readonly (readonly string[])[] = [
  // sev: SHA-256 over the firmware and the kernel hashes table; no vCPU state.
  line('--mode sev --ovmf {debian}'),
  line('--mode sev --ovmf {debian} -v'),
  line('--mode sev --ovmf {debian} --output-format base64'),
  line('--mode sev --ovmf {amdSev} --kernel {kernel}'),
  line(
    '--mode sev --ovmf {amdSev} --kernel {kernel} --initrd {initrd} --append',
    'console=ttyS0 root=/dev/vda1 é',
  ),
  line('--mode sev --ovmf {synthetic} --kernel {kernel} --append', 'quiet'),
  line('--mode sev --ovmf {ovmfX64}'),
  line('--mode sev --ovmf {ovmfX64} --kernel {kernel}'),
  line('--mode sev --ovmf {debian} --kernel {kernel}'),
  line('--mode sev --ovmf {debian} --vcpus 4 --vcpu-type EPYC-Milan --guest-features 0x21 --vmm-type ec2'),
  line('--mode sev --ovmf {debian} --dump-vmsa'),
  line('--mode sev --ovmf {debian} --snp-ovmf-hash {debianOvmfHash}'),
  line('--mode sev --ovmf {debian} --initrd {initrd}'),
  line('--mode sev --ovmf {debian} --vmm-type xen'),
  // seves: the same, then one VMSA per vCPU with SEV_FEATURES 0.
  line('--mode seves --vcpus 4 --vcpu-type EPYC-v4 --ovmf {debian}'),
  line('--mode seves --vcpus 1 --vcpu-type EPYC-Rome --ovmf {debian} -v'),
  line('--mode seves --vcpus 2 --vcpu-type EPYC-Genoa --ovmf {debian} --output-format base64'),
  line('--mode seves --vcpus 2 --vcpu-sig 0xa00f11 --ovmf {debian}'),
  line('--mode seves --vcpus 3 --vcpu-family 25 --vcpu-model 17 --vcpu-stepping 1 --ovmf {debian}'),
  line('--mode seves --vcpus 2 --vcpu-type EPYC-Milan --vmm-type ec2 --ovmf {debian}'),
  line('--mode seves --vcpus 3 --vmm-type gce --ovmf {debian}'),
  line('--mode seves --vcpus 2 --vcpu-type EPYC-v4 --guest-features 0x21 --ovmf {debian}'),
  line(
    '--mode seves --vcpus 2 --vcpu-type EPYC-v4 --ovmf {synthetic} --kernel {kernel} --initrd {initrd} --append',
    'ro',
  ),
  line('--mode seves --vcpus 1 --vcpu-type EPYC-v4 --ovmf {amdSev} --kernel {kernel}'),
  line('--mode seves --vcpus 1 --vcpu-type EPYC-v4 --ovmf {ovmfX64} --kernel {kernel}'),
  line('--mode seves --vcpus 3 --vcpu-type EPYC-v4 --ovmf {debian} --dump-vmsa'),
  line('--mode seves --vcpus 2 --vcpu-type EPYC-v4 --vmm-type ec2 --ovmf {debian} --dump-vmsa'),
  line('--mode seves --vcpu-type EPYC-v4 --ovmf {debian}'),
  line('--mode seves --vcpus 2 --ovmf {debian}'),
  line('--mode seves --vcpus 2 --vcpu-type EPYC-v4 --ovmf {debian} --snp-ovmf-hash {debianOvmfHash}'),
  // snp:svsm: OVMF, OVMF_VARS below it, the SVSM below that; every vCPU starts at the SVSM's entry.
  line(`${SVSM} --vcpus 1 --vcpu-type EPYC-v4 --vars-size 540672`),
  line(`${SVSM} --vcpus 4 --vcpu-type EPYC-Milan --vars-size 540672`),
  line(`${SVSM} --vcpus 2 --vcpu-type EPYC-v4 --vars-file {vars}`),
  line(`${SVSM} --vcpus 2 --vcpu-type EPYC-v4 --vars-size 4096`),
  line(`${SVSM} --vcpus 2 --vcpu-sig 0xa00f11 --vars-size 540672 -v`),
  line(
    `${SVSM} --vcpus 2 --vcpu-family 25 --vcpu-model 17 --vcpu-stepping 0 --vars-size 540672 --output-format base64`,
  ),
  line(`${SVSM} --vcpus 2 --vcpu-type EPYC-v4 --vars-size 540672 --guest-features 0x21`),
  line(`${SVSM} --vcpus 2 --vcpu-type EPYC-v4 --vars-size 540672 --kernel {kernel}`),
  line(`${SVSM} --vcpus 3 --vcpu-type EPYC-v4 --vars-size 540672 --dump-vmsa`),
  line(`${SVSM} --vcpus 2 --vcpu-type EPYC-v4`),
  line(`${SVSM} --vcpus 2 --vcpu-type EPYC-v4 --vars-size 0`),
  line(`${SVSM} --vcpus 2 --vcpu-type EPYC-v4 --vars-size 540672 --vars-file {vars}`),
  line(`${SVSM} --vcpus 2 --vcpu-type EPYC-v4 --vars-size 540672 --vmm-type ec2`),
  line(`${SVSM} --vcpus 2 --vars-size 540672`),
  line(`${SVSM} --vcpu-type EPYC-v4 --vars-size 540672`),
  line(`${SVSM} --vcpus 2 --vcpu-type EPYC-v4 --vars-size 540672 --snp-ovmf-hash {debianOvmfHash}`),
];
