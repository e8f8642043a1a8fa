// `report fetch-ca` and `report fetch-vcek`: AMD's certificates from its Key Distribution Service,
// for users with network access (never needed by a test). `--url` prints the URL and fetches nothing.
import {
  type DecodedReport,
  kdsCertChainUrl,
  kdsVcekUrl,
  MAX_CERTIFICATE_FILE_BYTES,
  type Product,
  parseCertificates,
} from '@snp-ref/attestation';
import { CliInputError } from '../commandLine/inputError.js';
import type { CliIo } from '../commandLine/io.js';
import { errnoCode, type Files } from '../files.js';

export interface FetchFlags {
  readonly out?: string | undefined;
  readonly url?: boolean | undefined;
  readonly vlek?: boolean | string | undefined;
}

/** KDS answers in seconds; a stalled connection ends here rather than hanging. */
const FETCH_TIMEOUT_MS = 60_000;

/** The URL of the product's ASK (or ASVK with --vlek) + ARK bundle. */
export const certChainUrl = (product: Product | undefined, flags: FetchFlags): string => {
  if (product === undefined)
    throw new CliInputError('USAGE', 'report fetch-ca: --product is required (Milan, Genoa or Turin)');
  return kdsCertChainUrl(product, flags.vlek === undefined || flags.vlek === false ? 'VCEK' : 'VLEK');
};

/** The URL of the VCEK that signed the report, or why there is none. */
export function vcekUrl(report: DecodedReport, product: Product | undefined, file: string): string {
  if (product === undefined)
    throw new CliInputError(
      'USAGE',
      `${file}: the report does not say its generation (version 2 has no CPUID): give --product`,
    );
  if (((report.fields.flags >> 2) & 7) === 1)
    throw new CliInputError(
      'INPUT',
      `${file}: a VLEK signed this report (SIGNING_KEY, 0x048): KDS serves VLEKs to cloud providers only; ask yours for it`,
    );
  try {
    return kdsVcekUrl(report, product);
  } catch (error) {
    throw new CliInputError('INPUT', `${file}: ${(error as Error).message}`);
  }
}

/** Prints the URL with --url; otherwise downloads it, checks it holds certificates, and writes `out`. */
export async function fetchToFile(url: string, out: string, flags: FetchFlags, io: CliIo, files: Files) {
  if (flags.url) {
    io.stdout(`${url}\n`);
    return;
  }
  let bytes: Uint8Array;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    throw new CliInputError(
      'INPUT',
      `${url}: cannot fetch (${(error as Error).message || errnoCode(error)})`,
    );
  }
  if (bytes.length > MAX_CERTIFICATE_FILE_BYTES)
    throw new CliInputError('INPUT', `${url}: ${bytes.length} bytes is too large for certificates`);
  parseCertificates(bytes, url); // what is written is a certificate, not an error page
  files.writeText(out, bytes);
  io.stdout(`wrote ${out} (${bytes.length} bytes) from ${url}\n`);
}
