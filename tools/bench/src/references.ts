import { execFileSync } from 'node:child_process';

// `-elapsed`: OpenSSL divides by wall-clock time, as every figure it is compared with is measured,
// not by its CPU user time (its default), which reads high on a loaded machine.

/**
 * The reference: OpenSSL's single-core SHA-384 over 4096-byte blocks, measured now
 * (`openssl speed -elapsed -evp sha384 -bytes 4096`), in bytes per second.
 */
export function opensslSha384(): number {
  let output: string;
  try {
    output = execFileSync(
      'openssl',
      ['speed', '-elapsed', '-evp', 'sha384', '-bytes', '4096', '-seconds', '2'],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
  } catch {
    throw new Error('the launch-digest figures need `openssl` on PATH for their reference');
  }
  // The last line reads "sha384   843573.27k": thousands of bytes per second for 4096-byte blocks.
  const match = /^sha384\s+([\d.]+)k\s*$/m.exec(output);
  if (match?.[1] === undefined) throw new Error(`unexpected \`openssl speed\` output:\n${output}`);
  return Number(match[1]) * 1000;
}

/** The reference: OpenSSL's single-core ECDSA P-384 verifies per second (`openssl speed -elapsed ecdsap384`). */
export function opensslEcdsaP384Verify(seconds: number): number {
  let output: string;
  try {
    output = execFileSync('openssl', ['speed', '-elapsed', '-seconds', String(seconds), 'ecdsap384'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    throw new Error('the attestation figure needs `openssl` on PATH for its reference');
  }
  // " 384 bits ecdsa (nistp384)   0.0015s   0.0014s    670.7    727.6": sign/s then verify/s.
  const match = /^\s*384 bits ecdsa \(nistp384\)\s+\S+\s+\S+\s+[\d.]+\s+([\d.]+)\s*$/m.exec(output);
  if (match?.[1] === undefined) throw new Error(`unexpected \`openssl speed\` output:\n${output}`);
  return Number(match[1]);
}
