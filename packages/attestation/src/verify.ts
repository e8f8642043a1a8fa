// Every check a verifier makes of a report, each with its reason: reasons, not a boolean.
import {
  bytesToHex,
  SIGNATURE_ALGO_ECDSA_P384_SHA384,
  SIGNED_BYTES,
  verifyP384,
} from '@snp-ref/psp-firmware';
import { platformInfoCheck, policyCheck, reservedPolicyBits } from './bounds.js';
import type { AmdCertificate } from './certs.js';
import { checkChain } from './chain.js';
import { type Check, type CheckId, notApplicable, notMade } from './check.js';
import { signingKeyOf } from './fields.js';
import { type DecodedReport, KNOWN_VERSIONS } from './layout.js';
import { type Product, productOfCpuid, productOfName } from './product.js';
import { productOfArkKey } from './roots.js';
import { decodeTcb, formatTcb, TCB_PART_NAMES, type TcbParts } from './tcb.js';

/** What {@link verifyAttestation} found: every check with its reason, and ok only when none failed. */
export interface Verdict {
  readonly ok: boolean;
  readonly checks: readonly Check[];
  /** The generation the report was judged as, and what said so. */
  readonly product?: { readonly name: Product; readonly from: string };
}

/** What the verifier expects of the report's fields; each one given adds a check. */
export interface Expectations {
  readonly measurement?: Uint8Array;
  readonly reportData?: Uint8Array;
  readonly hostData?: Uint8Array;
  readonly idKeyDigest?: Uint8Array;
  readonly authorKeyDigest?: Uint8Array;
  /** The most permissive POLICY accepted (go-sev-guest `check -guest_policy`). */
  readonly policy?: bigint;
  /** The most PLATFORM_INFO may have (go-sev-guest `check -platform_info`). */
  readonly platformInfo?: bigint;
  /** Each part of REPORTED_TCB, CURRENT_TCB and COMMITTED_TCB must be at least this. */
  readonly minTcb?: TcbParts;
  /** Each part of LAUNCH_TCB must be at least this. */
  readonly minLaunchTcb?: TcbParts;
  readonly vmpl?: number;
}

/**
 * What to verify a report against: the certificates, the generation, the expected field values and the time;
 * each one left out skips the checks that need it.
 */
export interface VerifyOptions {
  /** The certificate of the key that signed the report (VCEK or VLEK). */
  readonly vek?: AmdCertificate | undefined;
  /** Which key the caller says it is; checked against the certificate and the report's flags. */
  readonly signer?: 'VCEK' | 'VLEK' | undefined;
  /** The rest of the chain: the ASK (or ASVK) and the ARK, in any order. */
  readonly chain?: readonly AmdCertificate[] | undefined;
  readonly product?: Product | undefined;
  readonly expected?: Expectations | undefined;
  /** Every certificate must be valid at this instant; undefined: validity is not checked. */
  readonly at?: Date | undefined;
}

/** Makes every check of the report that the options allow, and says why each passed or failed. */
export function verifyAttestation(report: DecodedReport, options: VerifyOptions = {}): Verdict {
  const { fields } = report;
  const vek = options.vek;
  const chain = options.chain ?? [];
  const ark = chain.find((c) => c.role === 'ARK');
  const ask = chain.find((c) => c.role === 'ASK' || c.role === 'ASVK');
  const product = productOf(report, options, ark);
  const checks: Check[] = [
    versionCheck(report),
    reservedCheck(report),
    signatureCheck(report, vek),
    signingKeyCheck(report, vek, options.signer),
    ...checkChain({ vek, ask, ark, product: product?.name }),
    validityCheck([vek, ask, ark], options.at),
    reportedTcbCheck(fields.reportedTcb, vek, product?.name),
    chipIdCheck(report, vek),
    ...expectationChecks(report, options.expected ?? {}, product?.name),
  ];
  return { ok: checks.every((c) => c.ok), checks, ...(product === undefined ? {} : { product }) };
}

function productOf(
  report: DecodedReport,
  options: VerifyOptions,
  ark: AmdCertificate | undefined,
): Verdict['product'] {
  if (options.product !== undefined) return { name: options.product, from: 'given' };
  const { cpuidFamId, cpuidModId } = report.fields;
  const fromCpuid =
    cpuidFamId === undefined || cpuidModId === undefined ? undefined : productOfCpuid(cpuidFamId, cpuidModId);
  if (fromCpuid !== undefined) return { name: fromCpuid, from: 'the report (CPUID_FAM_ID, CPUID_MOD_ID)' };
  const fromVek = options.vek?.productName === undefined ? undefined : productOfName(options.vek.productName);
  if (fromVek !== undefined)
    return { name: fromVek, from: `the ${options.vek?.role ?? 'VEK'} (product name)` };
  const fromArk = ark === undefined ? undefined : productOfArkKey(ark.spkiSha256);
  return fromArk === undefined ? undefined : { name: fromArk, from: 'the ARK (key)' };
}

function versionCheck(report: DecodedReport): Check {
  const [first, last] = [KNOWN_VERSIONS[0], KNOWN_VERSIONS[3]];
  const version = report.fields.version;
  return report.knownVersion
    ? { id: 'report.version', ok: true, actual: String(version), why: `VERSION ${version} is a known layout` }
    : {
        id: 'report.version',
        ok: false,
        expected: `${first}..${last}`,
        actual: String(version),
        why: `VERSION (0x000) ${version} is not one of the layouts this verifier knows (${first} to ${last})`,
      };
}

function reservedCheck(report: DecodedReport): Check {
  const set = report.reservedSet;
  const bits = reservedPolicyBits(report.fields.policy);
  if (set.length === 0 && bits.length === 0)
    return {
      id: 'report.reserved',
      ok: true,
      why: 'every byte the layout reserves is zero, and the reserved bits of POLICY are as the ABI fixes them',
    };
  const shown = set.slice(0, 8).map((at) => `0x${at.toString(16).padStart(3, '0')}`);
  const bytes =
    set.length === 0 ? [] : [`${set.length} set: ${shown.join(', ')}${set.length > 8 ? ', …' : ''}`];
  return {
    id: 'report.reserved',
    ok: false,
    expected: 'reserved bytes zero; POLICY bit 17 one, bits 63:26 zero',
    actual: [...bytes, ...bits].join('; '),
    why:
      set.length > 0
        ? `reserved bytes of the version ${report.layoutVersion} layout must be zero`
        : 'reserved bits of POLICY are not as the ABI fixes them (go-sev-guest abi.go ParseSnpPolicy refuses the report)',
  };
}

function signatureCheck(report: DecodedReport, vek: AmdCertificate | undefined): Check {
  const algo = report.fields.signatureAlgo;
  if (algo !== SIGNATURE_ALGO_ECDSA_P384_SHA384)
    return {
      id: 'signature',
      ok: false,
      expected: '1 (ECDSA P-384 with SHA-384)',
      actual: String(algo),
      why: 'SIGNATURE_ALGO (0x034) names no algorithm this verifier knows',
    };
  if (vek === undefined) return notMade('signature', 'no VCEK or VLEK certificate given');
  const curve = vek.publicKey.asymmetricKeyDetails?.namedCurve;
  if (curve !== 'secp384r1')
    return {
      id: 'signature',
      ok: false,
      expected: 'a P-384 key',
      actual: curve ?? vek.publicKey.asymmetricKeyType ?? 'unknown',
      why: `${vek.where}: the certificate's key cannot have signed a report`,
    };
  const { r, s } = report.signature;
  const valid = verifyP384(report.bytes.subarray(0, SIGNED_BYTES), r, s, vek.publicKey);
  return valid
    ? { id: 'signature', ok: true, why: `the ${vek.role ?? 'key'} of ${vek.where} signed bytes 0x000..0x29F` }
    : {
        id: 'signature',
        ok: false,
        why:
          `the ${vek.role ?? 'key'} of ${vek.where} did not sign bytes 0x000..0x29F (ECDSA P-384, SHA-384): ` +
          'the report was changed, or another key (another chip, another TCB, a VLEK) signed it',
      };
}

function signingKeyCheck(
  report: DecodedReport,
  vek: AmdCertificate | undefined,
  signer: 'VCEK' | 'VLEK' | undefined,
): Check {
  const flagged = signingKeyOf(report.fields.flags);
  const actual = `report: ${flagged}${vek === undefined ? '' : `, certificate: ${vek.role ?? `"${vek.subject}"`}`}`;
  if (vek === undefined) return { ...notMade('signing-key', 'no VCEK or VLEK certificate given'), actual };
  const wanted = signer ?? vek.role ?? 'VCEK or VLEK';
  if (vek.role !== 'VCEK' && vek.role !== 'VLEK')
    return {
      id: 'signing-key',
      ok: false,
      expected: wanted,
      actual,
      why: `${vek.where} is not a VCEK or VLEK (subject CN "${vek.subject}")`,
    };
  const ok = flagged === vek.role && wanted === vek.role;
  const why = ok
    ? `SIGNING_KEY (0x048 bits 4:2) says ${flagged}, and the certificate is one`
    : wanted !== vek.role
      ? `given as the ${wanted}, ${vek.where} is a ${vek.role}`
      : `SIGNING_KEY (0x048 bits 4:2) says the report was signed by the ${flagged}, the certificate is a ${vek.role}`;
  return { id: 'signing-key', ok, expected: wanted, actual, why };
}

function validityCheck(certificates: readonly (AmdCertificate | undefined)[], at: Date | undefined): Check {
  const given = certificates.filter((c): c is AmdCertificate => c !== undefined);
  if (at === undefined) return notApplicable('cert.validity', 'not checked: the time check is off');
  if (given.length === 0) return notMade('cert.validity', 'no certificate given');
  const day = (d: Date) => d.toISOString().slice(0, 10);
  const outside = given.filter((c) => at < c.notBefore || at > c.notAfter);
  const span = (c: AmdCertificate) => `${c.role ?? c.subject} ${day(c.notBefore)}..${day(c.notAfter)}`;
  return outside.length === 0
    ? {
        id: 'cert.validity',
        ok: true,
        expected: at.toISOString(),
        why: `every certificate is valid then (${given.map(span).join('; ')})`,
      }
    : {
        id: 'cert.validity',
        ok: false,
        expected: `valid at ${at.toISOString()}`,
        actual: outside.map(span).join('; '),
        why: `${outside.map((c) => `${c.where} (${c.role ?? c.subject})`).join(', ')} ${outside.length > 1 ? 'are' : 'is'} not valid at that time`,
      };
}

function reportedTcbCheck(
  reportedTcb: bigint,
  vek: AmdCertificate | undefined,
  product: Product | undefined,
): Check {
  if (vek === undefined) return notMade('tcb.reported', 'no VCEK or VLEK certificate given');
  const reported = decodeTcb(reportedTcb, product);
  const named = TCB_PART_NAMES.filter((p) => vek.tcb[p] !== undefined);
  if (named.length === 0)
    return { id: 'tcb.reported', ok: false, why: `${vek.where} has none of AMD's TCB extensions` };
  const differ = named.filter((p) => vek.tcb[p] !== reported[p]);
  const certParts = Object.fromEntries(named.map((p) => [p, vek.tcb[p]])) as unknown as TcbParts;
  return {
    id: 'tcb.reported',
    ok: differ.length === 0,
    expected: formatTcb(certParts),
    actual: formatTcb(reported),
    why:
      differ.length === 0
        ? `REPORTED_TCB (0x180) equals the TCB in the ${vek.role ?? 'certificate'}'s extensions`
        : `REPORTED_TCB (0x180) differs from the ${vek.role ?? 'certificate'}'s TCB extensions in ${differ.join(', ')}: the certificate was issued for another TCB`,
  };
}

function chipIdCheck(report: DecodedReport, vek: AmdCertificate | undefined): Check {
  if (vek === undefined) return notMade('chip-id', 'no VCEK certificate given');
  if (vek.role === 'VLEK')
    return notApplicable('chip-id', 'a VLEK is not bound to a chip: no hwID to compare');
  if ((report.fields.flags & 2) !== 0)
    return notApplicable('chip-id', 'MASK_CHIP_KEY (0x048 bit 1) is set: the report carries no CHIP_ID');
  if (vek.hwid === undefined)
    return { id: 'chip-id', ok: false, why: `${vek.where} has no hwID extension (1.3.6.1.4.1.3704.1.4)` };
  // Turin's hwID is 8 bytes, CHIP_ID those bytes and 56 zero bytes (snpguest src/fetch.rs).
  const chipId = report.fields.chipId;
  const ok =
    bytesToHex(chipId.subarray(0, vek.hwid.length)) === bytesToHex(vek.hwid) &&
    chipId.subarray(vek.hwid.length).every((b) => b === 0);
  return {
    id: 'chip-id',
    ok,
    expected: bytesToHex(vek.hwid),
    actual: bytesToHex(chipId),
    why: ok
      ? `CHIP_ID (0x1A0) is the ${vek.role}'s hwID`
      : `CHIP_ID (0x1A0) is not the ${vek.role}'s hwID: the certificate is another chip's`,
  };
}

function expectationChecks(
  report: DecodedReport,
  expected: Expectations,
  product: Product | undefined,
): Check[] {
  const { fields } = report;
  const checks: Check[] = [];
  const bytes = (id: CheckId, field: string, want: Uint8Array | undefined, got: Uint8Array) => {
    if (want === undefined) return;
    const ok = bytesToHex(want) === bytesToHex(got);
    checks.push({
      id,
      ok,
      expected: bytesToHex(want),
      actual: bytesToHex(got),
      why: ok ? `${field} is the expected value` : `${field} is not the expected value`,
    });
  };
  bytes('measurement', 'MEASUREMENT (0x090)', expected.measurement, fields.measurement);
  bytes('report-data', 'REPORT_DATA (0x050)', expected.reportData, fields.reportData);
  bytes('host-data', 'HOST_DATA (0x0C0)', expected.hostData, fields.hostData);
  bytes('id-key-digest', 'ID_KEY_DIGEST (0x0E0)', expected.idKeyDigest, fields.idKeyDigest);
  bytes('author-key-digest', 'AUTHOR_KEY_DIGEST (0x110)', expected.authorKeyDigest, fields.authorKeyDigest);
  if (expected.policy !== undefined) checks.push(policyCheck(fields.policy, expected.policy));
  if (expected.platformInfo !== undefined)
    checks.push(platformInfoCheck(fields.platformInfo, expected.platformInfo));
  const tcb = (name: string, value: bigint) => ({ name, parts: decodeTcb(value, product) });
  if (expected.minTcb !== undefined)
    checks.push(
      minTcbCheck('min-tcb', expected.minTcb, [
        tcb('REPORTED_TCB (0x180)', fields.reportedTcb),
        tcb('CURRENT_TCB (0x038)', fields.currentTcb),
        tcb('COMMITTED_TCB (0x1E0)', fields.committedTcb),
      ]),
    );
  if (expected.minLaunchTcb !== undefined)
    checks.push(
      minTcbCheck('min-launch-tcb', expected.minLaunchTcb, [tcb('LAUNCH_TCB (0x1F0)', fields.launchTcb)]),
    );
  if (expected.vmpl !== undefined) {
    const ok = expected.vmpl === fields.vmpl;
    checks.push({
      id: 'vmpl',
      ok,
      expected: String(expected.vmpl),
      actual: String(fields.vmpl),
      why: ok ? 'VMPL (0x030) is the expected level' : 'the report was requested at another VMPL (0x030)',
    });
  }
  return checks;
}

/**
 * Each TCB at least the minimum, part by part. go-sev-guest checks the minimum against
 * REPORTED_TCB and, through REPORTED ≤ CURRENT and COMMITTED = CURRENT, the other two (its `check
 * -minimum_tcb`: "CURRENT_TCB, COMMITTED_TCB, and REPORTED_TCB"); LAUNCH_TCB has its own minimum.
 */
function minTcbCheck(
  id: 'min-tcb' | 'min-launch-tcb',
  min: TcbParts,
  tcbs: readonly { readonly name: string; readonly parts: TcbParts }[],
): Check {
  const below = tcbs
    .map(({ name, parts }) => ({
      name,
      low: TCB_PART_NAMES.filter((p) => min[p] !== undefined && (parts[p] ?? 0) < (min[p] ?? 0)),
    }))
    .filter(({ low }) => low.length > 0);
  const names = tcbs.map((t) => t.name.split(' ')[0]).join(', ');
  return {
    id,
    ok: below.length === 0,
    expected: `at least ${formatTcb(min)}`,
    actual: tcbs.map(({ name, parts }) => `${name.split(' ')[0]} ${formatTcb(parts)}`).join('; '),
    why:
      below.length === 0
        ? `every part of ${names} is at least the minimum`
        : below.map(({ name, low }) => `${name} is below the minimum in ${low.join(', ')}`).join('; '),
  };
}
