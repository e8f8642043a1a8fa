import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeEcdsaPublicKey,
  decodeEcdsaSignature,
  decodeReportResponse,
  ecdsaVerifies,
  encodeReportRequest,
  IdAuthInfo,
  IdBlockBuffer,
  MsgType,
  openGuestMessage,
  PhysicalMemory,
  runCommand,
  SnpCommand,
  SnpFirmware,
  SnpLaunchFinish,
  sealGuestMessage,
  verifyReport,
  vmpckOf,
} from '@snp-ref/psp-firmware';
import { PageType, seededBytes } from '@snp-ref/psp-firmware/measure';
import { HostRmp, RmpTable } from '@snp-ref/rmp-core';
import { describe, expect, it } from 'vitest';
import { snpRef } from './snpRefRun.js';

const CLI = join(import.meta.dirname, '..');
const ID_KEY = 'test/id-keys/test-id-key.pem';
const AUTHOR_KEY = 'test/id-keys/test-author-key.pem';
const reference = JSON.parse(readFileSync(join(CLI, 'test/id-block-runs.json'), 'utf8')) as {
  runs: { why: string; args: string[]; stdout: string }[];
};
const dir = mkdtempSync(join(tmpdir(), 'snp-ref-id-block-'));
const write = (name: string, data: string | Uint8Array) => {
  writeFileSync(join(dir, name), data);
  return join(dir, name);
};

/** The lines snp-create-id-block prints, as bytes: id-block, id-auth, and the key digests. */
function parseOutput(stdout: string) {
  const [first = '', idKeyLine = '', authorLine] = stdout.trimEnd().split('\n');
  const [, block = '', auth = ''] = /^id-block=([^,]*),id-auth=(.*)$/.exec(first) ?? [];
  return {
    idBlock: Buffer.from(block, 'base64'),
    idAuth: Buffer.from(auth, 'base64'),
    idKeyHash: idKeyLine.replace(/^id_key_hash: /, ''),
    authorKey: authorLine?.replace(/^author_key: /, ''),
  };
}

/** r and s of both signatures (0x040 and 0x680, 72 bytes each): sev-snp-measure's are random. */
const withoutSignatures = (idAuth: Uint8Array) => {
  const copy = Buffer.from(idAuth);
  for (const at of [0x040, 0x040 + 72, 0x680, 0x680 + 72]) copy.fill(0, at, at + 72);
  return copy;
};

/** The ID key's signature of the block and, when AUTH_KEY_ALGO is set, the author key's of the ID key verify. */
function signaturesVerify(idBlock: Uint8Array, idAuth: Uint8Array): boolean {
  const auth = IdAuthInfo.decode(idAuth);
  const idKey = decodeEcdsaPublicKey(auth.idKey);
  const authorKey = decodeEcdsaPublicKey(auth.authorKey);
  if (idKey === undefined) return false;
  const blockSigned = ecdsaVerifies(idBlock, decodeEcdsaSignature(auth.idBlockSig), idKey);
  if (auth.authKeyAlgo === 0) return blockSigned;
  return (
    blockSigned &&
    authorKey !== undefined &&
    ecdsaVerifies(auth.idKey, decodeEcdsaSignature(auth.idKeySig), authorKey)
  );
}

describe('snp-ref id-block: what sev-snp-measure snp-create-id-block.py prints', () => {
  it.each(reference.runs)('$why', async ({ args, stdout }) => {
    const ours = await snpRef(['id-block', ...args], { cwd: CLI });
    expect(ours.status).toBe(0);
    const [a, b] = [parseOutput(ours.stdout), parseOutput(stdout)];
    expect(ours.stdout.split('\n').map((line) => line.replace(/,id-auth=.*/, ''))).toEqual(
      stdout.split('\n').map((line) => line.replace(/,id-auth=.*/, '')),
    );
    expect(a.idAuth.length).toBe(0x1000);
    expect(withoutSignatures(a.idAuth).equals(withoutSignatures(b.idAuth))).toBe(true);
    expect(signaturesVerify(a.idBlock, a.idAuth)).toBe(true);
    expect(signaturesVerify(b.idBlock, b.idAuth)).toBe(true);
    expect((await snpRef(['id-block', ...args], { cwd: CLI })).stdout).toBe(ours.stdout); // RFC 6979
  });

  it('signs without an author key: no author_key line, AUTH_KEY_ALGO and the author fields zero', async () => {
    const [measurement = ''] = reference.runs[0]?.args.slice(1) ?? [];
    const run = await snpRef(['id-block', '--measurement', measurement, '--idkey', ID_KEY], { cwd: CLI });
    expect(run.status).toBe(0);
    const out = parseOutput(run.stdout);
    expect(out.authorKey).toBeUndefined();
    expect(IdAuthInfo.decode(out.idAuth)).toMatchObject({
      idKeyAlgo: 1,
      authKeyAlgo: 0,
      authorKey: new Uint8Array(0x404),
      idKeySig: new Uint8Array(0x200),
    });
    expect(signaturesVerify(out.idBlock, out.idAuth)).toBe(true);
  });

  it('puts --policy, --family-id, --image-id and --guest-svn in the block; takes a hex digest', async () => {
    const run = await snpRef(
      [
        'id-block',
        '--measurement',
        'ab'.repeat(48),
        '--idkey',
        ID_KEY,
        '--policy',
        '0xb0000',
        '--family-id',
        '11'.repeat(16),
        '--image-id',
        '22'.repeat(16),
        '--guest-svn',
        '7',
        '--json',
      ],
      { cwd: CLI },
    );
    const json = JSON.parse(run.stdout);
    expect(IdBlockBuffer.decode(Buffer.from(json.idBlock, 'base64'))).toEqual({
      ld: new Uint8Array(48).fill(0xab),
      familyId: new Uint8Array(16).fill(0x11),
      imageId: new Uint8Array(16).fill(0x22),
      version: 1,
      guestSvn: 7,
      policy: 0xb0000n,
    });
    expect(json).toMatchObject({ authorKeyDigest: null, authorKeyEnabled: false });
    expect(json.idKeyDigest).toMatch(/^[0-9a-f]{96}$/);
  });

  const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const encrypted = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({
    format: 'pem',
    type: 'pkcs8',
    cipher: 'aes-256-cbc',
    passphrase: 'x',
  });
  it.each([
    ['no --idkey', () => ['--measurement', 'ab'.repeat(48)], /--measurement and --idkey are required/],
    [
      'a short digest',
      () => ['--measurement', 'abcd', '--idkey', ID_KEY],
      /--measurement: expected 48 bytes/,
    ],
    [
      'a P-256 key',
      () => [
        '--measurement',
        'ab'.repeat(48),
        '--idkey',
        write('p256.pem', p256.privateKey.export({ format: 'pem', type: 'sec1' })),
      ],
      /p256\.pem: a prime256v1 EC key; SNP's ID and author keys are ECDSA P-384/,
    ],
    [
      'a public key',
      () => [
        '--measurement',
        'ab'.repeat(48),
        '--idkey',
        write('pub.pem', p256.publicKey.export({ format: 'pem', type: 'spki' })),
      ],
      /pub\.pem: not a private key/,
    ],
    [
      'an encrypted key',
      () => ['--measurement', 'ab'.repeat(48), '--idkey', write('enc.pem', encrypted)],
      /enc\.pem: an encrypted private key/,
    ],
    [
      'a missing author key file',
      () => ['--measurement', 'ab'.repeat(48), '--idkey', ID_KEY, '--authorkey', join(dir, 'absent.pem')],
      /absent\.pem: cannot read \(ENOENT\)/,
    ],
  ])('%s: exit 2, a message, no stack', async (_, args, message) => {
    const run = await snpRef(['id-block', ...args()], { cwd: CLI });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toContain('    at ');
    expect(run.stdout).toBe('');
  });
});

// image → measurement → ID block → launch on the model's firmware → report → verify.
const GCTX = 0x100;
const [REQUEST, RESPONSE, ID_BLOCK_PAGE, ID_AUTH_PAGE] = [0x101, 0x102, 0x103, 0x104];
const ASID = 1;
const GUEST = 0x200;
const SECRETS_GPA = 0x6000;
const PLAN = {
  name: 'id-block launch',
  seed: 'id-block launch',
  ops: [
    { op: 'normal', gpa: '0x0', pages: 4, file: 'image.bin', offset: 0 },
    { op: 'zero', gpa: '0x4000', pages: 2 },
    { op: 'secrets', gpa: '0x6000' },
    { op: 'unmeasured', gpa: '0x7000' },
  ],
};
const IMAGE = seededBytes('snp-ref id-block image', 4 * 4096);

/** KVM and QEMU's side of the plan's launch, with the ID block and auth as QEMU passes them; the report the guest then gets. */
function launchAndAttest(
  idBlock: Uint8Array,
  idAuth: Uint8Array,
  authorKeyEnabled: boolean,
  reportData: Uint8Array,
) {
  const rmp = RmpTable.create(4096);
  const host = new HostRmp(rmp);
  const memory = PhysicalMemory.create('id-block launch');
  const fw = new SnpFirmware(rmp, memory, { seed: 'id-block platform' });
  fw.snpInit();
  fw.dfFlush();
  for (const pfn of [GCTX, RESPONSE]) host.makePrivate(pfn, 0, 0, true, 'kvm');
  fw.gctxCreate(GCTX);
  fw.launchStart(GCTX, { policy: 0x3_0000n });
  fw.activate(GCTX, ASID);
  const pages: [number, number][] = [
    ...[0, 1, 2, 3].map((i) => [PageType.NORMAL, i] as [number, number]),
    [PageType.ZERO, 4],
    [PageType.ZERO, 5],
    [PageType.SECRETS, 6],
    [PageType.UNMEASURED, 7],
  ];
  for (const [type, i] of pages) {
    if (type === PageType.NORMAL) memory.write(GUEST + i, IMAGE.subarray(i * 4096, (i + 1) * 4096));
    host.makePrivate(GUEST + i, i * 4096, ASID, true, 'kvm');
    expect(fw.launchUpdate(GCTX, { pfn: GUEST + i, pageType: type }).name).toBe('SUCCESS');
  }
  memory.write(ID_BLOCK_PAGE, idBlock);
  memory.write(ID_AUTH_PAGE, idAuth);
  const paddr = (pfn: number) => BigInt(pfn) << 12n;
  const finish = runCommand(
    fw,
    SnpCommand.SNP_LAUNCH_FINISH,
    SnpLaunchFinish.encode({
      gctxPaddr: paddr(GCTX),
      idBlockPaddr: paddr(ID_BLOCK_PAGE),
      idAuthPaddr: paddr(ID_AUTH_PAGE),
      flags: authorKeyEnabled ? 3n : 1n, // ID_BLOCK_EN, AUTH_KEY_EN
      hostData: new Uint8Array(32),
    }),
  );
  if (finish.name !== 'SUCCESS') return { finish: finish.name };
  const vmpck0 = vmpckOf(memory.readPrivate(ASID, GUEST + SECRETS_GPA / 4096), 0);
  const payload = encodeReportRequest({ reportData, vmpl: 0 });
  memory.write(
    REQUEST,
    sealGuestMessage(vmpck0, { seqno: 1n, msgType: MsgType.REPORT_REQ, msgVersion: 1, vmpck: 0, payload }),
  );
  expect(fw.guestRequest(GCTX, REQUEST, RESPONSE).name).toBe('SUCCESS');
  const { report } = decodeReportResponse(
    openGuestMessage(vmpck0, memory.read(RESPONSE))?.payload ?? new Uint8Array(),
  );
  return { finish: finish.name, report, vcek: fw.vcek.publicKey };
}

describe('image → measurement → ID block → launch → report → verify', () => {
  const reportData = new Uint8Array(64).fill(0x5a);
  writeFileSync(join(dir, 'image.bin'), IMAGE);
  const plan = write('plan.json', JSON.stringify(PLAN));

  it('the report carries the digests id-block printed, and report verify checks them', async () => {
    const measured = await snpRef(['measure', '--plan', plan, '--output-format', 'base64']);
    const measurement = measured.stdout.trim();
    expect(measurement).toBe(reference.runs[3]?.args[1]); // the reference's run on this launch
    const signed = await snpRef(
      ['id-block', '--measurement', measurement, '--idkey', ID_KEY, '--authorkey', AUTHOR_KEY],
      {
        cwd: CLI,
      },
    );
    const out = parseOutput(signed.stdout);
    const launched = launchAndAttest(out.idBlock, out.idAuth, true, reportData);
    expect(launched.finish).toBe('SUCCESS');
    const report = launched.report ?? new Uint8Array();
    expect(verifyReport(report, launched.vcek ?? new Uint8Array()).valid).toBe(true);
    const file = write('report.bin', report);

    const json = JSON.parse(
      (
        await snpRef(
          ['id-block', '--measurement', measurement, '--idkey', ID_KEY, '--authorkey', AUTHOR_KEY, '--json'],
          { cwd: CLI },
        )
      ).stdout,
    );
    const expectations = [
      '--measurement',
      Buffer.from(measurement, 'base64').toString('hex'),
      '--id-key-digest',
      out.idKeyHash, // base64, pasted from id-block's output
      '--author-key-digest',
      json.authorKeyDigest, // hex, from --json
      '--policy',
      '0x30000',
      '--report-data',
      Buffer.from(reportData).toString('hex'),
      '--vmpl',
      '0',
    ];
    const verify = await snpRef(['report', 'verify', file, ...expectations, '--no-check-time', '--json']);
    const verdict = JSON.parse(verify.stdout) as { checks: { id: string; ok: boolean; skipped?: boolean }[] };
    const passed = verdict.checks.filter((c) => c.ok && !c.skipped).map((c) => c.id);
    expect(passed).toEqual([
      'report.version',
      'report.reserved',
      'measurement',
      'report-data',
      'id-key-digest',
      'author-key-digest',
      'policy',
      'vmpl',
    ]);
    // The model's VCEK has no AMD certificate: what needs one is not checked, and not called good.
    expect(verdict.checks.filter((c) => !c.ok).every((c) => c.skipped)).toBe(true);
    expect(verify.status).toBe(1);

    const other = await snpRef(['id-block', '--measurement', measurement, '--idkey', AUTHOR_KEY, '--json'], {
      cwd: CLI,
    });
    const wrongKey = await snpRef([
      'report',
      'verify',
      file,
      '--id-key-digest',
      JSON.parse(other.stdout).idKeyDigest,
      '--json',
    ]);
    expect(
      JSON.parse(wrongKey.stdout).checks.find((c: { id: string }) => c.id === 'id-key-digest'),
    ).toMatchObject({
      ok: false,
      actual: Buffer.from(out.idKeyHash, 'base64').toString('hex'),
    });
  });

  it("the model's firmware accepts sev-snp-measure's ID block for the same launch, and refuses a changed one", () => {
    const run = reference.runs[3];
    const theirs = parseOutput(run?.stdout ?? '');
    const launched = launchAndAttest(theirs.idBlock, theirs.idAuth, true, reportData);
    expect(launched.finish).toBe('SUCCESS');
    const fields = verifyReport(
      launched.report ?? new Uint8Array(),
      launched.vcek ?? new Uint8Array(),
    ).report;
    expect(Buffer.from(fields?.idKeyDigest ?? []).toString('base64')).toBe(theirs.idKeyHash);
    expect(Buffer.from(fields?.authorKeyDigest ?? []).toString('base64')).toBe(theirs.authorKey);
    const tampered = Buffer.from(theirs.idAuth);
    tampered[0x40] = (tampered[0x40] ?? 0) ^ 1;
    expect(launchAndAttest(theirs.idBlock, tampered, true, reportData).finish).toBe('BAD_SIGNATURE');
  });
});
