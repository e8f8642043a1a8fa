import type { Scenario, ScenarioResult } from '@snp-ref/scenario';

const OUTCOME_FIELDS = ['errno', 'fwError', 'rmpRet', 'fault'] as const;

/** The readable form of a result: one line per step (with the scenario's notes), then the VMs. */
export function formatResultText(result: ScenarioResult, scenario?: Scenario): string {
  const rows = result.steps.map((s) => {
    const outcome = s.ok
      ? 'ok'
      : OUTCOME_FIELDS.map((f) => s[f])
          .filter((v) => v !== undefined)
          .join(' ');
    const detail = [
      s.ok && s.asid !== undefined ? `asid ${s.asid}` : '',
      s.pages === undefined ? '' : `${s.pages} page${s.pages === 1 ? '' : 's'}`,
      s.ok && s.data !== undefined ? `data ${s.data.length > 32 ? `${s.data.slice(0, 32)}…` : s.data}` : '',
      s.ok ? '' : s.message,
      scenario?.steps[s.i]?.note === undefined ? '' : `# ${scenario.steps[s.i]?.note}`,
    ]
      .filter((d) => d !== '')
      .join(', ');
    return [String(s.i).padStart(3), s.op.padEnd(18), outcome.padEnd(24), detail].join('  ').trimEnd();
  });
  const vms = Object.entries(result.vms).map(
    ([name, vm]) =>
      `  ${name}: asid ${vm.asid}, ${vm.state}${vm.measurement === null ? '' : `, measurement ${vm.measurement}`}`,
  );
  return [`  i  ${'op'.padEnd(18)}  ${'outcome'.padEnd(24)}  detail`, ...rows, '', 'VMs:', ...vms, ''].join(
    '\n',
  );
}
