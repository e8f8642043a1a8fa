import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKS } from '@snp-ref/kvm-svm';
import { describe, expect, it } from 'vitest';
import { explain } from './explain.js';
import { snpRef } from './snpRefRun.js';

const examples = join(import.meta.dirname, '../examples');

describe('why a scenario step failed', () => {
  const results = readdirSync(examples)
    .filter((f) => f.endsWith('.expected.json'))
    .map(
      (f) =>
        [
          f,
          JSON.parse(readFileSync(join(examples, f), 'utf8')) as { steps: Record<string, unknown>[] },
        ] as const,
    );

  it.each(results)('%s: every failed step says which check refused, and the rule behind it', (_, result) => {
    for (const step of result.steps.filter((s) => s.ok === false)) {
      const why = step.why as { check: string; side: string; text: string; rule: string };
      expect(why, `step ${step.i}`).toMatchObject({
        check: expect.any(String),
        text: expect.stringMatching(/\w/),
        rule: expect.stringMatching(/\w/),
      });
      const kvm = CHECKS[why.check as keyof typeof CHECKS];
      if (kvm !== undefined) expect(step.errno, `step ${step.i}: ${why.check}`).toBe(kvm.errno);
      // upstream reports fw_error 0 (SUCCESS) with its -EIO when the firmware never ran.
      if (step.fwError !== undefined && step.fwError !== 'SUCCESS') expect(why.side).toBe('firmware');
      if (kvm !== undefined && 'innerErrno' in kvm)
        expect(why, `step ${step.i}`).toMatchObject({ innerErrno: kvm.innerErrno });
    }
  });

  it('names the firmware check and the page behind an EIO', async () => {
    const run = JSON.parse(
      (await snpRef(['run', join(examples, '04-firmware-failure-reviewed.json')])).stdout,
    ) as {
      steps: Record<string, unknown>[];
    };
    const eio = run.steps.find((s) => s.errno === 'EIO');
    expect(eio?.why).toMatchObject({
      check: 'launch_update.firmware',
      side: 'firmware',
      gpa: expect.stringMatching(/^0x/),
      rule: expect.stringMatching(/SNP_LAUNCH_UPDATE/),
    });
  });
});

describe('snp-ref explain', () => {
  it('lists the kernel-side checks behind ret -22 with fw_error 0, and only those', async () => {
    const e = explain('launch_update', '-22', '0');
    expect(e.firmware).toEqual([]);
    expect(e.kernel.map((c) => c.check)).toEqual(
      Object.values(CHECKS)
        .filter((c) => c.cmd === 'launch_update' && c.errno === 'EINVAL')
        .map((c) => c.check),
    );
    expect(e.kernel.some((c) => 'abi' in c && c.abi === 'v4')).toBe(true);
    const text = (await snpRef(['explain', '--cmd', 'launch_update', '--ret', '-22', '--fw-error', '0']))
      .stdout;
    expect(text).toMatch(/^Kernel-side refusals \(fw_error 0: the firmware did not refuse\):$/m);
    expect(text).toMatch(/no memslot maps a page of the hva range .* \[v4 ABI only\]/);
    expect(text).not.toMatch(/pinning fails/);
  });

  it('separates the firmware checks behind a status, by number or by name', () => {
    const byNumber = explain('KVM_SEV_SNP_LAUNCH_UPDATE', '-5', '0x16');
    expect(byNumber).toEqual(explain('snp_launch_update', 'EIO', 'INVALID_PARAM'));
    expect(byNumber.kernel.map((c) => c.errno)).toEqual(['EIO']);
    expect(byNumber.firmware.map((c) => c.fwError)).toEqual(['INVALID_PARAM']);
    expect(explain('launch_update', '-22', 'INVALID_PAGE_OWNER').note).toMatch(
      /not a combination KVM produces/,
    );
  });

  it('reads the flags as typed: 0x16 as a status, -5 as the errno, with = or without', async () => {
    const { stdout } = await snpRef([
      'explain',
      '--cmd=launch_update',
      '--ret',
      '-5',
      '--fw-error',
      '0x16',
      '--json',
    ]);
    expect(JSON.parse(stdout)).toEqual(explain('launch_update', 'EIO', 'INVALID_PARAM'));
  });

  describe('--abi upstream: the -EIO that hides the errno from inside kvm_gmem_populate', () => {
    const upstream = (...more: string[]) =>
      snpRef(['explain', '--cmd', 'launch_update', '--ret', '-5', '--abi', 'upstream', ...more]);
    /** The catalogue's populate refusals, by whether the firmware ran (inner EIO). */
    const populate = (firmwareRan: boolean) =>
      Object.values(CHECKS).filter((c) => 'innerErrno' in c && (c.innerErrno === 'EIO') === firmwareRan) as {
        check: string;
        innerErrno: string;
      }[];

    it('with fw_error 0, lists the refusals before the firmware and the errno each hides', async () => {
      const { status, stdout } = await upstream();
      expect(status).toBe(0);
      expect(stdout).toMatch(
        /^KVM_SEV_SNP_LAUNCH_UPDATE returned -5 \(EIO\) with fw_error 0 \(upstream ABI\)\.$/m,
      );
      expect(stdout).toMatch(
        /^The -EIO hides the errno from inside kvm_gmem_populate: -17 \(EEXIST\), -22 \(EINVAL\), -14 \(EFAULT\);/m,
      );
      expect(stdout).toMatch(
        /KVM_SET_MEMORY_ATTRIBUTES\(PRIVATE\) was not called for it\n {4}inside: kvm_gmem_populate returned -22 \(EINVAL\)/,
      );
      expect(stdout).toMatch(
        /^note: upstream snp_launch_update returns -EIO whenever kvm_gmem_populate fails/m,
      );
      for (const c of populate(false)) expect(stdout).toContain(c.check);
      for (const c of populate(true)) expect(stdout).not.toContain(c.check);
      const json = JSON.parse((await upstream('--json')).stdout);
      expect(json).toMatchObject({ abi: 'upstream', fwError: 'SUCCESS', firmware: [] });
      expect(json.kernel.map((c: { check: string }) => c.check)).toEqual(populate(false).map((c) => c.check));
      expect(new Set(json.innerErrnos)).toEqual(new Set(populate(false).map((c) => c.innerErrno)));
    });

    it('with a firmware status, names the firmware refusal inside (-EIO) and its checks', async () => {
      const { stdout } = await upstream('--fw-error', 'INVALID_PARAM');
      expect(stdout).toMatch(/hides the errno from inside kvm_gmem_populate: -5 \(EIO\);/);
      expect(stdout).toMatch(
        /only that page is reclaimed.*\n {4}inside: kvm_gmem_populate returned -5 \(EIO\)/,
      );
      expect(stdout).toMatch(/^Firmware checks that return INVALID_PARAM:\n {2}- /m);
      for (const c of populate(false)) expect(stdout).not.toContain(c.check);
    });

    it('without --abi, points to it instead of listing the populate refusals', async () => {
      const { stdout } = await snpRef(['explain', '--cmd', 'launch_update', '--ret', '-5']);
      expect(stdout).toMatch(/^note: on Linux 6\.11 and later .* --abi upstream lists them/m);
      expect(stdout).not.toMatch(/inside: kvm_gmem_populate/);
    });

    it('refuses an ABI it does not know: exit 2, the flag named', async () => {
      expect(await upstream('--abi', 'rfc9')).toMatchObject({
        status: 2,
        stderr: 'snp-ref: --abi: unknown ABI "rfc9"; expected reviewed, v4, upstream\n',
      });
    });
  });

  it('refuses what it does not know: exit 2, the flag named', async () => {
    expect(await snpRef(['explain', '--cmd', 'launch_nothing', '--ret', '-22'])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/--cmd: unknown command "launch_nothing"/),
    });
    expect((await snpRef(['explain', '--cmd', 'launch_update', '--ret', '-999'])).stderr).toMatch(
      /--ret: "-999" is not an errno/,
    );
    expect(
      (await snpRef(['explain', '--cmd', 'launch_update', '--ret', '-5', '--fw-error', 'OOPS'])).stderr,
    ).toMatch(/--fw-error: "OOPS" is not a firmware status/);
  });
});
