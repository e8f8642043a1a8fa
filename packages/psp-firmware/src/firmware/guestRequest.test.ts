import { describe, expect, it } from 'vitest';
import {
  decodeReportResponse,
  encodeReportRequest,
  MsgType,
  openGuestMessage,
  sealGuestMessage,
} from '../attestation/guestMessage.js';
import { P384SigningKey } from '../attestation/signingKey.js';
import { verifyReport } from '../attestation/verify.js';
import { PageType } from '../pageType.js';
import {
  ASID,
  GCTX,
  machineIn,
  observable,
  POLICY,
  preGuestPage,
  REQUEST_PFN,
  RESPONSE_PFN,
  SECRETS_PFN,
  writeReportRequest,
} from '../test/machine.js';
import { encodeIdBlock, type IdBlock } from './guestContext.js';
import { encodeEcdsaPublicKey, type IdAuth, keyDigest } from './idAuth.js';
import { vmpckOf } from './secretsPage.js';

const reportData = new Uint8Array(64).map((_, i) => i);

describe('SNP_GUEST_REQUEST: an attestation report', () => {
  it('answers MSG_REPORT_REQ with a VCEK-signed report of the launch', () => {
    const m = machineIn('RUNNING');
    const vmpck0 = writeReportRequest(m, reportData);
    expect(m.fw.guestRequest(GCTX, REQUEST_PFN, RESPONSE_PFN).name).toBe('SUCCESS');

    const response = openGuestMessage(vmpck0, m.memory.read(RESPONSE_PFN));
    expect(response).toMatchObject({ seqno: 2n, msgType: MsgType.REPORT_RSP, vmpck: 0 });
    const { status, report } = decodeReportResponse(response?.payload ?? new Uint8Array());
    expect(status).toBe(0);
    const verified = verifyReport(report, m.fw.vcek.publicKey);
    expect(verified.valid).toBe(true);
    expect(verified.report).toMatchObject({
      version: 2,
      policy: POLICY,
      vmpl: 0,
      signatureAlgo: 1,
      reportData,
      measurement: m.fw.launchDigest(GCTX),
      reportIdMa: new Uint8Array(32).fill(0xff),
    });
  });

  it('expects sequence numbers to advance by two, and refuses a replay with AEAD_OFLOW', () => {
    const m = machineIn('RUNNING');
    writeReportRequest(m, reportData, 1n);
    expect(m.fw.guestRequest(GCTX, REQUEST_PFN, RESPONSE_PFN).name).toBe('SUCCESS');
    const before = observable(m);
    expect(m.fw.guestRequest(GCTX, REQUEST_PFN, RESPONSE_PFN).name).toBe('AEAD_OFLOW');
    expect(observable(m)).toBe(before);
    writeReportRequest(m, reportData, 3n);
    expect(m.fw.guestRequest(GCTX, REQUEST_PFN, RESPONSE_PFN).name).toBe('SUCCESS');
  });

  it('refuses a message whose tag does not verify with BAD_MEASUREMENT', () => {
    const m = machineIn('RUNNING');
    writeReportRequest(m, reportData);
    const tampered = m.memory.read(REQUEST_PFN);
    tampered[0x60] = (tampered[0x60] ?? 0) ^ 1;
    m.memory.write(REQUEST_PFN, tampered);
    expect(m.fw.guestRequest(GCTX, REQUEST_PFN, RESPONSE_PFN).name).toBe('BAD_MEASUREMENT');
  });

  it('puts INVALID_PARAM in the response when a VMPCK1 request asks for a VMPL0 report', () => {
    const m = machineIn('RUNNING');
    const vmpck1 = vmpckOf(m.memory.readPrivate(ASID, SECRETS_PFN), 1);
    const payload = encodeReportRequest({ reportData, vmpl: 0 });
    m.memory.write(
      REQUEST_PFN,
      sealGuestMessage(vmpck1, { seqno: 1n, msgType: 5, msgVersion: 1, vmpck: 1, payload }),
    );
    expect(m.fw.guestRequest(GCTX, REQUEST_PFN, RESPONSE_PFN).name).toBe('SUCCESS');
    const response = openGuestMessage(vmpck1, m.memory.read(RESPONSE_PFN));
    expect(decodeReportResponse(response?.payload ?? new Uint8Array())).toEqual({
      status: 0x16,
      report: new Uint8Array(),
    });
  });

  it('writes the response only into a FIRMWARE page', () => {
    const m = machineIn('RUNNING');
    writeReportRequest(m, reportData);
    expect(m.fw.guestRequest(GCTX, REQUEST_PFN, REQUEST_PFN + 10).name).toBe('INVALID_PAGE_STATE');
  });
});

describe('SNP_LAUNCH_FINISH with an ID block', () => {
  const idKey = new P384SigningKey('guest owner ID key');
  const authorKey = new P384SigningKey('guest owner author key');

  function launched() {
    const m = machineIn('ACTIVE');
    preGuestPage(m, SECRETS_PFN, 0x8000);
    m.fw.launchUpdate(GCTX, { pfn: SECRETS_PFN, pageType: PageType.SECRETS });
    const idBlock: IdBlock = {
      ld: m.fw.launchDigest(GCTX) ?? new Uint8Array(48),
      familyId: new Uint8Array(16).fill(0xfa),
      imageId: new Uint8Array(16).fill(0x1a),
      version: 1,
      guestSvn: 3,
      policy: POLICY,
    };
    const idAuth: IdAuth = {
      idKey: idKey.publicKey,
      idBlockSignature: idKey.sign(encodeIdBlock(idBlock)),
      author: {
        key: authorKey.publicKey,
        idKeySignature: authorKey.sign(encodeEcdsaPublicKey(idKey.publicKey)),
      },
    };
    return { m, idBlock, idAuth };
  }

  it('accepts a signed ID block that matches the launch, and reports its identity and key digests', () => {
    const { m, idBlock, idAuth } = launched();
    const hostData = new Uint8Array(32).fill(0x42);
    expect(m.fw.launchFinish(GCTX, { idBlock, idAuth, hostData }).name).toBe('SUCCESS');
    writeReportRequest(m, reportData);
    m.fw.guestRequest(GCTX, REQUEST_PFN, RESPONSE_PFN);
    const vmpck0 = vmpckOf(m.memory.readPrivate(ASID, SECRETS_PFN), 0);
    const { report } = decodeReportResponse(
      openGuestMessage(vmpck0, m.memory.read(RESPONSE_PFN))?.payload ?? new Uint8Array(),
    );
    expect(verifyReport(report, m.fw.vcek.publicKey).report).toMatchObject({
      familyId: idBlock.familyId,
      imageId: idBlock.imageId,
      guestSvn: 3,
      hostData,
      flags: 1, // AUTHOR_KEY_EN
      idKeyDigest: keyDigest(idKey.publicKey),
      authorKeyDigest: keyDigest(authorKey.publicKey),
    });
  });

  it.each([
    ['an ID block for another launch', 'BAD_MEASUREMENT', (b: IdBlock) => ({ ...b, ld: new Uint8Array(48) })],
    ['an ID block with another policy', 'POLICY_FAILURE', (b: IdBlock) => ({ ...b, policy: POLICY | 1n })],
  ])('refuses %s with %s', (_, expected, change) => {
    const { m, idBlock, idAuth } = launched();
    const before = observable(m);
    expect(m.fw.launchFinish(GCTX, { idBlock: change(idBlock), idAuth }).name).toBe(expected);
    expect(observable(m)).toBe(before);
  });

  it('refuses an ID block the ID key did not sign, or an ID key the author did not sign, with BAD_SIGNATURE', () => {
    const { m, idBlock, idAuth } = launched();
    const forged = { ...idAuth, idBlockSignature: authorKey.sign(encodeIdBlock(idBlock)) };
    expect(m.fw.launchFinish(GCTX, { idBlock, idAuth: forged }).name).toBe('BAD_SIGNATURE');
    const author = {
      key: idKey.publicKey,
      idKeySignature: authorKey.sign(encodeEcdsaPublicKey(idKey.publicKey)),
    };
    expect(m.fw.launchFinish(GCTX, { idBlock, idAuth: { ...idAuth, author } }).name).toBe('BAD_SIGNATURE');
    expect(m.fw.launchFinish(GCTX, { idBlock, idAuth }).name).toBe('SUCCESS');
  });
});
