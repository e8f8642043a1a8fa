// sev-snp-measure's own test suite (tests/test_guest.py at 8f2b337, all 29 of its tests) run
// through `snp-ref measure`: each calc_launch_digest call as the command line that makes it, on
// that suite's fixtures. Its SVSM digests come from a launch on SNP hardware.
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SEV_SNP_MEASURE_FIXTURES } from '../test/vectors.js';
import { snpRef } from './snpRefRun.js';

const FIXTURES = SEV_SNP_MEASURE_FIXTURES;
const amdSev = join(FIXTURES, 'ovmf_AmdSev_suffix.bin');
const ovmfX64 = join(FIXTURES, 'ovmf_OvmfX64_suffix.bin');
const svsm = [
  '--ovmf',
  join(FIXTURES, 'svsm_ovmf.fd'),
  '--svsm',
  join(FIXTURES, 'svsm.bin'),
  '--vars-size',
  '540672',
];

/** calc_launch_digest's arguments as flags: mode, vcpus, vcpu type, OVMF, then the rest. */
const launch = (mode: string, vcpus: number | undefined, vcpuType: string | undefined, ovmf: string) => [
  '--mode',
  mode,
  ...(vcpus === undefined ? [] : ['--vcpus', String(vcpus)]),
  ...(vcpuType === undefined ? [] : ['--vcpu-type', vcpuType]),
  '--ovmf',
  ovmf,
];
const devNull = (append: string) => ['--kernel', '/dev/null', '--initrd', '/dev/null', '--append', append];
const features = (value: string) => ['--guest-features', value];
const AMD_SEV_OVMF_HASH =
  '086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74';
const hashOf = (hash: string) => ['--snp-ovmf-hash', hash];
const CMDLINE = 'console=ttyS0 loglevel=7';

const DIGESTS: readonly (readonly [string, readonly string[], string])[] = [
  [
    'test_snp_ovmf_hash_gen_default',
    [
      ...launch('snp', 1, 'EPYC-v4', amdSev),
      ...devNull(''),
      ...features('0x21'),
      ...hashOf(AMD_SEV_OVMF_HASH),
    ],
    '329c8ce0972ae52343b64d34a434a86f245dfd74f5ed7aae15d22efc78fb9683632b9b50e4e1d7fa41179ef98a7ef198',
  ],
  [
    'test_snp_ovmf_hash_gen_feature_snp_only',
    [
      ...launch('snp', 1, 'EPYC-v4', amdSev),
      ...devNull(''),
      ...features('0x1'),
      ...hashOf(AMD_SEV_OVMF_HASH),
    ],
    'ddc5224521617a536ee7ce9dd6224d1b58a8d4fda1c741f3ac99fc4bfa04ba6e9fc98646d4a07a9079397fa3852819b5',
  ],
  [
    'test_snp_ovmf_hash_full_default',
    [
      ...launch('snp', 1, 'EPYC-v4', amdSev),
      ...devNull(CMDLINE),
      ...features('0x21'),
      ...hashOf(AMD_SEV_OVMF_HASH),
    ],
    '803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977',
  ],
  [
    'test_snp_ovmf_hash_full_feature_snp_only',
    [
      ...launch('snp', 1, 'EPYC-v4', amdSev),
      ...devNull(CMDLINE),
      ...features('0x1'),
      ...hashOf(AMD_SEV_OVMF_HASH),
    ],
    '6d287813eb5222d770f75005c664e34c204f385ce832cc2ce7d0d6f354454362f390ef83a92046c042e706363b4b08fa',
  ],
  [
    'test_snp_ec2_default',
    [...launch('snp', 1, 'EPYC-v4', amdSev), ...devNull(''), ...features('0x21'), '--vmm-type', 'ec2'],
    '0ce9ccc06bab55eebe8abc234f3df6514883977a68a591b71052498ab52b2f1aa415db338033946ef93aa8278c0d67fb',
  ],
  [
    'test_snp_ec2_feature_snp_only',
    [...launch('snp', 1, 'EPYC-v4', amdSev), ...devNull(''), ...features('0x1'), '--vmm-type', 'ec2'],
    '0883bd0eeb716e65b7b977a321c278d1e51b33b5c655fab985443bbcc65c086b9c15e8a0bd8811050dec7e24964e5056',
  ],
  [
    'test_snp_gce_default',
    [...launch('snp', 1, undefined, amdSev), ...devNull(''), ...features('0x1'), '--vmm-type', 'gce'],
    '5da7106cf14cf46b1725ebab123eb9e53bd46a1e9f400cd0c08e7827b04b688ea8b4e403c8404efed4397ea5d5d0722e',
  ],
  [
    'test_snp_gce_with_multiple_vcpus_default',
    [...launch('snp', 4, undefined, amdSev), ...devNull(''), ...features('0x1'), '--vmm-type', 'gce'],
    '5c5debf100fc339f90276e761ee1f1658d08922c3b20e2a2e6c7a6c3370b2452a15a00eae11886a93d6fd1e7ab81e29d',
  ],
  [
    'test_snp_default',
    [...launch('snp', 1, 'EPYC-v4', amdSev), ...devNull(CMDLINE), ...features('0x21')],
    '803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977',
  ],
  [
    'test_snp_guest_feature_snp_only',
    [...launch('snp', 1, 'EPYC-v4', amdSev), ...devNull(CMDLINE), ...features('0x1')],
    '6d287813eb5222d770f75005c664e34c204f385ce832cc2ce7d0d6f354454362f390ef83a92046c042e706363b4b08fa',
  ],
  [
    'test_snp_without_kernel_default',
    [...launch('snp', 1, 'EPYC-v4', amdSev), ...features('0x21')],
    'e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af9b63f6e8a1674dbf281a9278a4a2ebe0eed9f22adbcd0e2b',
  ],
  [
    'test_snp_without_kernel_feature_snp_only',
    [...launch('snp', 1, 'EPYC-v4', amdSev), ...features('0x1')],
    '19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d',
  ],
  [
    'test_snp_with_multiple_vcpus_default',
    [...launch('snp', 4, 'EPYC-v4', amdSev), ...devNull(''), ...features('0x21')],
    '4953b1fb416fa874980e8442b3706d345926d5f38879134e00813c5d7abcbe78eafe7b422907be0b4698e2414a631942',
  ],
  [
    'test_snp_with_multiple_vcpus_feature_snp_only',
    [...launch('snp', 4, 'EPYC-v4', amdSev), ...devNull(''), ...features('0x1')],
    '5061fffb019493a903613d56d54b94912a1a2f9e4502385f5c194616753720a92441310ba6c4933de877c36e23046ad5',
  ],
  [
    'test_snp_with_ovmfx64_without_default',
    [...launch('snp', 1, 'EPYC-v4', ovmfX64), ...features('0x21')],
    '28797ae0afaba4005a81e629acebfb59e6687949d6be44007cd5506823b0dd66f146aaae26ff291eed7b493d8a64c385',
  ],
  [
    'test_snp_with_ovmfx64_without_kernel_feature_snp_only',
    [...launch('snp', 1, 'EPYC-v4', ovmfX64), ...features('0x1')],
    'da0296de8193586a5512078dcd719eccecbd87e2b825ad4148c44f665dc87df21e5b49e21523a9ad993afdb6a30b4005',
  ],
  [
    'test_seves',
    [...launch('seves', 1, 'EPYC-v4', amdSev), ...devNull(''), ...features('0x1')],
    '13810ae661ea11e2bb205621f582fee268f0367c8f97bc297b7fadef3e12002c',
  ],
  [
    'test_seves_with_multiple_vcpus',
    [...launch('seves', 4, 'EPYC-v4', amdSev), ...devNull(''), ...features('0x21')],
    '0dccbcaba8e90b261bd0d2e1863a2f9da714768b7b2a19363cd6ae35aa90de91',
  ],
  [
    'test_sev',
    [...launch('sev', 1, undefined, amdSev), ...devNull(CMDLINE), ...features('0x21')],
    '82a3ee5d537c3620628270c292ae30cb40c3c878666a7890ee7ef2a08fb535ff',
  ],
  [
    'test_sev_with_kernel_without_initrd_and_append',
    [...launch('sev', 1, undefined, amdSev), '--kernel', '/dev/null', ...features('0x21')],
    '77f613d7bbcdf12a73782ea9e88b0172aeda50d1a54201cb903594ff52846898',
  ],
  [
    'test_sev_with_ovmfx64_without_kernel',
    [...launch('sev', 1, undefined, ovmfX64), ...features('0x21')],
    'b4c021e085fb83ceffe6571a3d357b4a98773c83c474e47f76c876708fe316da',
  ],
  [
    'test_snp_svsm_4_vcpus',
    ['--mode', 'snp:svsm', '--vcpus', '4', '--vcpu-type', 'EPYC-v4', ...svsm, ...features('0x21')],
    '27d154c27b7b359c935e250ec6fee72aa0ae8c1225e3b0e1cf46a9567e938066d7d6f94bbdc4a857818bdb79277a44b2',
  ],
  [
    'test_snp_svsm_2_vcpus',
    ['--mode', 'snp:svsm', '--vcpus', '2', '--vcpu-type', 'EPYC-v4', ...svsm, ...features('0x21')],
    '9b94745036aafddf4f7f8b00c7513abb5b7703178cb95aaa57928bd963d68d3bfcb715d6019b9167ee2517b11b0d9be7',
  ],
];

/** The suite's "should_fail" tests: the RuntimeError's message, which sev-snp-measure prints after "Error: ". */
const FAILURES: readonly (readonly [string, readonly string[], string])[] = [
  [
    'test_snp_with_ovmfx64_and_kernel_should_fail',
    [...launch('snp', 1, 'EPYC-v4', ovmfX64), ...devNull(''), ...features('0x21')],
    "Kernel specified but OVMF metadata doesn't include SNP_KERNEL_HASHES section",
  ],
  [
    // The suite passes no vCPU signature, which only its Python API allows: the command line needs one.
    'test_seves_with_ovmfx64_and_kernel_should_fail',
    [...launch('seves', 1, 'EPYC-v4', ovmfX64), ...devNull(''), ...features('0x21')],
    "Kernel specified but OVMF doesn't support kernel/initrd/cmdline measurement",
  ],
  [
    'test_sev_with_ovmfx64_and_kernel_should_fail',
    [...launch('sev', 1, undefined, ovmfX64), ...devNull(''), ...features('0x21')],
    "Kernel specified but OVMF doesn't support kernel/initrd/cmdline measurement",
  ],
];

/** The --dump-vmsa tests: the files written in the working directory. */
const DUMPS: readonly (readonly [string, readonly string[], readonly string[]])[] = [
  [
    'test_seves_dump_vmsa',
    [...launch('seves', 4, 'EPYC-v4', amdSev), ...devNull(''), ...features('0x21')],
    ['vmsa0.bin', 'vmsa1.bin', 'vmsa2.bin', 'vmsa3.bin'],
  ],
  [
    'test_snp_dump_vmsa',
    [
      ...launch('snp', 1, 'EPYC-v4', amdSev),
      ...devNull(''),
      ...features('0x21'),
      ...hashOf(
        'cab7e085874b3acfdbe2d96dcaa3125111f00c35c6fc9708464c2ae74bfdb048a198cb9a9ccae0b3e5e1a33f5f249819',
      ),
    ],
    ['vmsa0.bin'],
  ],
  [
    'test_snp_svsm_dump_vmsa',
    ['--mode', 'snp:svsm', '--vcpus', '2', '--vcpu-type', 'EPYC-v4', ...svsm, ...features('0x21')],
    ['vmsa0.bin', 'vmsa1.bin'],
  ],
];

describe("sev-snp-measure's tests/test_guest.py through snp-ref measure", () => {
  it('has the fixtures', () => {
    expect(existsSync(join(FIXTURES, 'svsm.bin')), `${FIXTURES} is missing`).toBe(true);
    expect(DIGESTS.length + FAILURES.length + DUMPS.length).toBe(29);
  });

  it('test_snp_ovmf_hash_full_*: the OVMF hash they start from', async () => {
    expect(await snpRef(['measure', '--mode', 'snp:ovmf-hash', '--ovmf', amdSev])).toMatchObject({
      status: 0,
      stdout: `${AMD_SEV_OVMF_HASH}\n`,
    });
  });

  it.each(DIGESTS)('%s', async (_, args, digest) => {
    expect(await snpRef(['measure', ...args])).toMatchObject({ status: 0, stdout: `${digest}\n` });
  });

  it.each(FAILURES)('%s', async (_, args, message) => {
    const { status, stdout, stderr } = await snpRef(['measure', ...args]);
    expect({ status, stdout }).toEqual({ status: 2, stdout: '' });
    expect(stderr).toContain(message);
  });

  it.each(DUMPS)('%s', async (_, args, written) => {
    const cwd = mkdtempSync(join(tmpdir(), 'snp-ref-dump-'));
    expect((await snpRef(['measure', ...args, '--dump-vmsa'], { cwd })).status).toBe(0);
    expect(readdirSync(cwd).sort()).toEqual(written);
  });
});
