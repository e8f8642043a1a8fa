import { describe, expect, it } from 'vitest';
import { parseScenario } from './schema.js';
import { ScenarioSession } from './session.js';

const launch = (inject: Record<string, unknown>) => ({
  scenario: 1,
  host: { pages: 64 },
  steps: [
    { op: 'vm.create', vm: 'a' },
    { op: 'mmap', vm: 'a', hva: '0x10000', pfn: 8, pages: 2 },
    { op: 'snp.launch_start', vm: 'a' },
    { op: 'inject', ...inject },
    { op: 'snp.launch_update', vm: 'a', hva: '0x10000', gpa: '0x0', len: '8KiB', type: 'normal' },
  ],
});

function run(inject: Record<string, unknown>) {
  const parsed = parseScenario(launch(inject));
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => p.message).join('; '));
  const session = new ScenarioSession(parsed.scenario);
  return parsed.scenario.steps.map((step) => session.run(step));
}

describe('the inject step at the kernel sites', () => {
  it.each([
    [{ at: 'copy_from_user', nth: 1 }, 'EFAULT', 'launch_update.copy_from_user'],
    [{ at: 'alloc', nth: 2 }, 'ENOMEM', 'launch_update.alloc'],
    [{ at: 'pin', nth: 2 }, 'EFAULT', 'launch_update.pin'],
  ])('%o fails the launch update with %s (%s)', (inject, errno, check) => {
    const [, , , injected, update] = run(inject);
    expect(injected).toMatchObject({ ok: true });
    expect(update).toMatchObject({ ok: false, errno, check });
  });

  it('refuses a code at a kernel site and requires one at a coded site', () => {
    expect(run({ at: 'alloc', nth: 1, error: 'FAIL_INUSE' })[3]).toMatchObject({
      ok: false,
      errno: 'EINVAL',
    });
    expect(run({ at: 'rmpupdate', nth: 1 })[3]).toMatchObject({
      ok: false,
      errno: 'EINVAL',
      message: 'rmpupdate fails with a code: add "error" (a name or a number)',
    });
  });

  it('refuses copy_to_user, which a scenario never reaches, rather than arming a failure that cannot fire', () => {
    const [, , , injected, update] = run({ at: 'copy_to_user', nth: 1 });

    expect(injected).toMatchObject({
      ok: false,
      errno: 'EINVAL',
      message: expect.stringMatching(/^copy_to_user: /),
    });
    expect(update).toMatchObject({ ok: true });
  });

  it('names every site when the site is unknown', () => {
    const parsed = parseScenario(launch({ at: 'kmalloc', nth: 1 }));
    expect(parsed.ok ? [] : parsed.problems.map((p) => p.message)).toEqual([
      'expected one of "psp.launch_update", "rmpupdate", "pin", "alloc", "copy_from_user", "copy_to_user"',
    ]);
  });
});
