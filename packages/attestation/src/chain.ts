// AMD's chain of trust: ARK (self-signed, AMD's root for the product) → ASK or ASVK → VCEK or VLEK.
import { type AmdCertificate, RSASSA_PSS_OID } from './certs.js';
import { type Check, notMade } from './check.js';
import type { Product } from './product.js';
import { AMD_ARK_SPKI_SHA256, productOfArkKey } from './roots.js';

/** Signature checks already made, per certificate and issuer key: a parsed chain is checked once. */
const checked = new WeakMap<AmdCertificate, Map<string, boolean>>();

/** Whether `issuer`'s key made the certificate's RSASSA-PSS signature (OpenSSL, through node:crypto). */
export function signedBy(cert: AmdCertificate, issuer: AmdCertificate): boolean {
  const known = checked.get(cert) ?? new Map<string, boolean>();
  checked.set(cert, known);
  let valid = known.get(issuer.spkiSha256);
  if (valid === undefined) {
    valid = cert.signatureAlgorithm === RSASSA_PSS_OID && cert.x509.verify(issuer.publicKey);
    known.set(issuer.spkiSha256, valid);
  }
  return valid;
}

export interface ChainParts {
  readonly vek: AmdCertificate | undefined;
  readonly ask: AmdCertificate | undefined;
  readonly ark: AmdCertificate | undefined;
  readonly product: Product | undefined;
}

const NO_CHAIN = "no ASK/ASVK + ARK bundle given (the product's cert_chain from AMD's KDS)";

/** chain.ark, chain.ask and chain.vek. */
export function checkChain({ vek, ask, ark, product }: ChainParts): Check[] {
  return [arkCheck(ark, product), askCheck(ask, ark, vek), vekCheck(vek, ask)];
}

function arkCheck(ark: AmdCertificate | undefined, product: Product | undefined): Check {
  if (ark === undefined) return notMade('chain.ark', NO_CHAIN);
  const owner = productOfArkKey(ark.spkiSha256);
  const actual = `${ark.subject}, key SHA-256 ${ark.spkiSha256}`;
  const fail = (why: string, expected?: string): Check => ({
    id: 'chain.ark',
    ok: false,
    ...(expected === undefined ? {} : { expected }),
    actual,
    why: `${ark.where}: ${why}`,
  });
  if (!signedBy(ark, ark)) return fail('the ARK is not self-signed with RSASSA-PSS');
  if (owner === undefined) return fail("the ARK's key is none of AMD's roots (Milan, Genoa, Turin)");
  if (product !== undefined && owner !== product)
    return fail(
      `this is AMD's ARK for ${owner}, the report is from a ${product}`,
      AMD_ARK_SPKI_SHA256[product],
    );
  return { id: 'chain.ark', ok: true, actual, why: `self-signed, and AMD's root key for ${owner}` };
}

function askCheck(
  ask: AmdCertificate | undefined,
  ark: AmdCertificate | undefined,
  vek: AmdCertificate | undefined,
): Check {
  if (ask === undefined || ark === undefined) return notMade('chain.ask', NO_CHAIN);
  const wanted = vek?.role === 'VLEK' ? 'ASVK' : 'ASK';
  if (vek !== undefined && ask.role !== wanted)
    return {
      id: 'chain.ask',
      ok: false,
      expected: wanted,
      actual: `${ask.role} (${ask.subject})`,
      why: `a ${vek.role} is signed by an ${wanted}, ${ask.where} is an ${ask.role}`,
    };
  return signedBy(ask, ark)
    ? {
        id: 'chain.ask',
        ok: true,
        actual: ask.subject,
        why: `the ARK (${ark.subject}) signed the ${ask.role}`,
      }
    : {
        id: 'chain.ask',
        ok: false,
        actual: ask.subject,
        why: `${ask.where}: the ARK (${ark.subject}) did not sign this ${ask.role} (RSASSA-PSS)`,
      };
}

function vekCheck(vek: AmdCertificate | undefined, ask: AmdCertificate | undefined): Check {
  if (vek === undefined) return notMade('chain.vek', 'no VCEK or VLEK certificate given');
  if (ask === undefined) return notMade('chain.vek', NO_CHAIN);
  return signedBy(vek, ask)
    ? {
        id: 'chain.vek',
        ok: true,
        actual: vek.subject,
        why: `the ${ask.role} (${ask.subject}) signed the ${vek.role}`,
      }
    : {
        id: 'chain.vek',
        ok: false,
        actual: `${vek.subject}, issuer ${vek.issuer}`,
        why: `${vek.where}: the ${ask.role} (${ask.subject}) did not sign this certificate (RSASSA-PSS): it belongs to another product's chain`,
      };
}
