// AMD's root keys: what identifies an ARK as AMD's for a product.
import type { Product } from './product.js';

/**
 * SHA-256 of the DER SubjectPublicKeyInfo of AMD's ARK (AMD Root Key) per product. Source: the ARK
 * certificates AMD's Key Distribution Service serves as each product's cert_chain
 * (kdsintf.amd.com/vcek/v1/<product>/cert_chain), as vendored in go-sev-guest verify/trust/
 * ask_ark_{milan,genoa,turin_vcek}.pem and, with the same keys, virtee/sev
 * src/certs/snp/builtin/<product>/ark.pem; computed as
 * `openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum`. The Milan ASVK
 * chain (ask_ark_milan_vlek.pem) has the same Milan ARK.
 */
export const AMD_ARK_SPKI_SHA256: Readonly<Record<Product, string>> = {
  Milan: '9f056bee44377e29308cb5ffa895bdfb62d18881fa6bed8d6f075b0204089cb9',
  Genoa: '429a69c9422aa258ee4d8db5fcda9c6470ef15f8cd5a9cebd6cbc7d90b863831',
  Turin: '4f125410563a2ab9a50356f9243f6fe0b6f73de98603f53f90339c70e9d7ad08',
};

/** The product whose ARK has this key, or undefined when it is none of AMD's. */
export function productOfArkKey(spkiSha256: string): Product | undefined {
  return (Object.keys(AMD_ARK_SPKI_SHA256) as Product[]).find((p) => AMD_ARK_SPKI_SHA256[p] === spkiSha256);
}
