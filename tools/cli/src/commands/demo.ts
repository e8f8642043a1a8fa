// `snp-ref demo`: the review's story with both KVM ABIs, side by side (what npm start runs).
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TraceRing, toChromeTrace } from '@snp-ref/rmp-core';
import { defineCommand } from '../commandLine/command.js';
import { filesOf } from '../files.js';
import { type FlavourRun, flavoursJson, formatFlavours } from '../format/flavours.js';
import { rmpSvg } from '../format/svg.js';
import { packageFile } from '../packageFiles.js';
import { loadScenario, scenarioModules } from './scenarioInput.js';

const ABIS = ['reviewed', 'v4'] as const;

export const demoCommand = defineCommand({
  name: 'demo',
  summary:
    "Run the review's story (examples/demo.json) with the reviewed ABI and with RFC v4: what differs, side by side",
  arguments: [],
  options: [
    {
      flag: '--trace-out',
      type: 'string',
      value: 'file',
      default: 'snp-ref-out/demo.trace.json',
      description: 'where to write the Perfetto trace of both runs (the RMP map goes next to it)',
    },
    {
      flag: '--json',
      type: 'boolean',
      description: 'print what differs as JSON (shape: tools/cli/README.md)',
    },
  ],
  action: async ({ options: { traceOut, json } }, io) => {
    const files = filesOf(io);
    const scenario = await loadScenario(files, packageFile('examples/demo.json'));
    const { runScenario } = await scenarioModules();
    const out = dirname(traceOut);
    mkdirSync(files.path(out), { recursive: true });
    const events: ReturnType<TraceRing['events']> = [];
    const runs: FlavourRun[] = ABIS.map((abi) => {
      const ring = new TraceRing(1 << 20);
      const result = runScenario({ ...scenario, kvm: { ...scenario.kvm, abi } }, ring);
      events.push(...ring.events().map((e) => ({ ...e, by: `${abi}:${e.by}` })));
      return { abi, result };
    });
    const map = join(out, 'demo.rmp.svg');
    files.writeText(
      map,
      rmpSvg(
        'The RMP after the demo (examples/demo.json), with each KVM ABI',
        scenario.host.pages,
        runs.map((r) => ({ label: `KVM ABI: ${r.abi}`, rmp: r.result.rmp })),
      ),
    );
    files.writeText(traceOut, `${JSON.stringify(toChromeTrace(events))}\n`);
    if (json) {
      io.stdout(`${JSON.stringify({ ...flavoursJson(scenario, runs), map, trace: traceOut }, null, 2)}\n`);
      return;
    }
    io.stdout(
      [
        `snp-ref demo: examples/demo.json with each KVM ABI, ${ABIS.join(' and ')}`,
        '',
        ...formatFlavours(scenario, runs),
        `RMP map of both runs: ${map}`,
        `RMP transitions of both runs: ${traceOut} (open it in https://ui.perfetto.dev)`,
        'Every step of a run: snp-ref run tools/cli/examples/demo.json --format text',
        '',
      ].join('\n'),
    );
  },
});
