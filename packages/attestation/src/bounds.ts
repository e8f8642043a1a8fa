// A report's POLICY and PLATFORM_INFO against the most a verifier accepts, and their reserved
// bits, as go-sev-guest's `check` judges them (validate/validate.go validatePolicy,
// validatePlatformInfo; abi/abi.go ParseSnpPolicy, ParseSnpPlatformInfo).
import { PolicyBit } from '@snp-ref/psp-firmware';
import type { Check } from './check.js';

type Bits = readonly (readonly [name: string, mask: bigint])[];
const bit = (n: number) => 1n << BigInt(n);
const hex = (v: bigint) => `0x${v.toString(16)}`;

/** POLICY bits that grant the host something: the report may set one only if the maximum does. */
const POLICY_GRANTS: Bits = [
  ['SMT', PolicyBit.SMT],
  ['MIGRATE_MA', PolicyBit.MIGRATE_MA],
  ['DEBUG', PolicyBit.DEBUG],
  ['CXL_ALLOW', PolicyBit.CXL_ALLOW],
];
/** POLICY bits that restrict the host: one set in the maximum must be set in the report. */
const POLICY_RESTRICTIONS: Bits = [
  ['SINGLE_SOCKET', PolicyBit.SINGLE_SOCKET],
  ['MEM_AES_256_XTS', PolicyBit.MEM_AES_256_XTS],
  ['RAPL_DIS', PolicyBit.RAPL_DIS],
  ['CIPHERTEXT_HIDING_DRAM', PolicyBit.CIPHERTEXT_HIDING_DRAM],
  ['PAGE_SWAP_DISABLE', PolicyBit.PAGE_SWAP_DISABLE],
];

/** PLATFORM_INFO bits (abi.go ParseSnpPlatformInfo): SMT_EN, TSME_EN and TIO_EN are allowances, the rest requirements. */
export const PLATFORM_INFO_BITS: Bits = [
  ['SMT_EN', bit(0)],
  ['TSME_EN', bit(1)],
  ['ECC_EN', bit(2)],
  ['RAPL_DIS', bit(3)],
  ['CIPHERTEXT_HIDING_EN', bit(4)],
  ['ALIAS_CHECK_COMPLETE', bit(5)],
  ['TIO_EN', bit(7)],
];
const PLATFORM_GRANTS = new Set(['SMT_EN', 'TSME_EN', 'TIO_EN']);

/**
 * Reserved bits of POLICY (0x008) the report breaks: bit 17 must be one, 63:26 zero (abi.go
 * ParseSnpPolicy, which refuses such a report before any policy is compared).
 */
export function reservedPolicyBits(policy: bigint): string[] {
  const found: string[] = [];
  if ((policy & PolicyBit.RSVD_MBO) === 0n) found.push('POLICY (0x008) bit 17 is clear, must be one');
  if (policy >> 26n !== 0n) found.push(`POLICY (0x008) bits 63:26 are ${hex(policy >> 26n)}, must be zero`);
  return found;
}

/** PLATFORM_INFO bits no source names (bit 6, 63:8); a real Turin report sets bit 6 (oak/turin_oc.report.bin). */
export const unnamedPlatformInfoBits = (info: bigint): bigint =>
  info & ~PLATFORM_INFO_BITS.reduce((all, [, mask]) => all | mask, 0n);

function judged(grants: Bits, restrictions: Bits, actual: bigint, max: bigint): string[] {
  const has = (value: bigint, mask: bigint) => (value & mask) !== 0n;
  return [
    ...grants.filter(([, m]) => has(actual, m) && !has(max, m)).map(([n]) => `${n} is set, not allowed`),
    ...restrictions.filter(([, m]) => has(max, m) && !has(actual, m)).map(([n]) => `${n} is clear, required`),
  ];
}

/** The check of a field against a maximum: passes with `fine` when nothing is wrong, else lists what is. */
function boundCheck(
  id: 'policy' | 'platform-info',
  field: string,
  actual: bigint,
  max: bigint,
  problems: readonly string[],
  fine: string,
): Check {
  const ok = problems.length === 0;
  const why = ok ? `${field} ${fine}` : `${field}: ${problems.join('; ')}`;
  return { id, ok, expected: `at most ${hex(max)}`, actual: hex(actual), why };
}

/**
 * POLICY (0x008) against the most permissive policy accepted: its minimum ABI at least the
 * maximum's, no grant the maximum lacks, every restriction the maximum has (validatePolicy).
 */
export function policyCheck(actual: bigint, max: bigint): Check {
  const abi = (p: bigint) => Number(p & 0xffffn); // major << 8 | minor, compared as one number
  const name = (p: bigint) => `${(p >> 8n) & 0xffn}.${p & 0xffn}`;
  const problems = judged(POLICY_GRANTS, POLICY_RESTRICTIONS, actual, max);
  if (abi(actual) < abi(max))
    problems.unshift(`its minimum ABI ${name(actual)} is below the ${name(max)} the maximum requires`);
  const fine = 'allows nothing the maximum does not, and keeps every restriction it asks for';
  return boundCheck('policy', 'POLICY (0x008)', actual, max, problems, fine);
}

/** PLATFORM_INFO (0x040) against the most a verifier accepts (validatePlatformInfo). */
export function platformInfoCheck(actual: bigint, max: bigint): Check {
  const grants = PLATFORM_INFO_BITS.filter(([n]) => PLATFORM_GRANTS.has(n));
  const requirements = PLATFORM_INFO_BITS.filter(([n]) => !PLATFORM_GRANTS.has(n));
  const problems = judged(grants, requirements, actual, max);
  // abi.go refuses any unnamed bit once -platform_info is given; here the maximum may allow one.
  const unnamed = unnamedPlatformInfoBits(actual) & ~max;
  if (unnamed !== 0n) problems.push(`unnamed bits ${hex(unnamed)} are set, not allowed`);
  const fine = 'has no feature the maximum does not allow, and every one it requires';
  return boundCheck('platform-info', 'PLATFORM_INFO (0x040)', actual, max, problems, fine);
}
