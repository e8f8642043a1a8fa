// `snp-ref demo`: the review's story with both KVM ABIs, side by side (what npm start runs).
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TraceRing, toChromeTrace } from '@snp-ref/rmp-core';
import { defineCommand } from '../commandLine/command.js';
import { filesOf } from '../files.js';
import { rmpSvg } from '../format/svg.js';
import { formatResultText } from '../format/text.js';
import { packageFile } from '../packageFiles.js';
import { loadScenario, scenarioModules } from './scenarioInput.js';

export const demoCommand = defineCommand({
  name: 'demo',
  summary: "Run the review's story (examples/demo.json) with the reviewed ABI and with RFC v4, side by side",
  arguments: [],
  options: [
    {
      flag: '--trace-out',
      type: 'string',
      value: 'file',
      default: 'snp-ref-out/demo.trace.json',
      description: 'where to write the Perfetto trace of both runs',
    },
  ],
  action: async ({ options: { traceOut } }, io) => {
    const files = filesOf(io);
    const scenario = await loadScenario(files, packageFile('examples/demo.json'));
    const { runScenario } = await scenarioModules();
    const out = dirname(traceOut);
    mkdirSync(files.path(out), { recursive: true });
    const events: ReturnType<TraceRing['events']> = [];
    const maps: string[] = [];
    for (const abi of ['reviewed', 'v4'] as const) {
      const ring = new TraceRing(1 << 20);
      const result = runScenario({ ...scenario, kvm: { ...scenario.kvm, abi } }, ring);
      events.push(...ring.events().map((e) => ({ ...e, by: `${abi}:${e.by}` })));
      const map = join(out, `demo-${abi}.rmp.svg`);
      files.writeText(map, rmpSvg(scenario.host.pages, result.rmp));
      maps.push(map);
      io.stdout(`\n== KVM ABI: ${abi}\n${formatResultText(result, scenario)}`);
    }
    files.writeText(traceOut, `${JSON.stringify(toChromeTrace(events))}\n`);
    io.stdout(
      `\nRMP transition trace of both runs: ${traceOut} (open it in https://ui.perfetto.dev)\nRMP maps after each run: ${maps.join(', ')}\n`,
    );
  },
});
