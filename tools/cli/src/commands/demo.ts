// `snp-ref demo`: the review's story with the three KVM ABIs (what npm start runs). reviewed and v4
// run one scenario and are compared step by step; upstream takes its pages from guest_memfd, so it
// tells the same story with its own steps (examples/demo-upstream.json), point by point.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TraceRing, toChromeTrace } from '@snp-ref/rmp-core';
import type { Scenario } from '@snp-ref/scenario';
import { defineCommand } from '../commandLine/command.js';
import { filesOf } from '../files.js';
import {
  type FlavourRun,
  flavoursJson,
  formatFlavours,
  formatStory,
  storyJson,
  vmLines,
} from '../format/flavours.js';
import { rmpSvg } from '../format/svg.js';
import { packageFile } from '../packageFiles.js';
import { loadScenario, scenarioModules } from './scenarioInput.js';

type Abi = NonNullable<NonNullable<Scenario['kvm']>['abi']>;

/** The ABIs that run examples/demo.json; the upstream ABI runs examples/demo-upstream.json. */
const ABIS: readonly Abi[] = ['reviewed', 'v4'];

/** What the upstream ABI does differently, before its points of the story (docs/architecture.md). */
const UPSTREAM =
  "upstream (Linux ≥ 6.11; examples/demo-upstream.json): the VMM's page is only copied into a private guest_memfd page";

export const demoCommand = defineCommand({
  name: 'demo',
  summary:
    "Run the review's story with each KVM ABI: reviewed and RFC v4 side by side, then upstream (guest_memfd) point by point",
  arguments: [],
  options: [
    {
      flag: '--trace-out',
      type: 'string',
      value: 'file',
      default: 'snp-ref-out/demo.trace.json',
      description: 'where to write the Perfetto trace of the three runs (the RMP map goes next to it)',
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
    const upstream = await loadScenario(files, packageFile('examples/demo-upstream.json'));
    const { runScenario } = await scenarioModules();
    const out = dirname(traceOut);
    mkdirSync(files.path(out), { recursive: true });
    const events: ReturnType<TraceRing['events']> = [];
    const run = (abi: Abi, s: Scenario): FlavourRun => {
      const ring = new TraceRing(1 << 20);
      const result = runScenario({ ...s, kvm: { ...s.kvm, abi } }, ring);
      events.push(...ring.events().map((e) => ({ ...e, by: `${abi}:${e.by}` })));
      return { abi, result };
    };
    const runs = ABIS.map((abi) => run(abi, scenario));
    const upstreamRun = run('upstream', upstream);
    const all = [...runs, upstreamRun];
    const map = join(out, 'demo.rmp.svg');
    files.writeText(
      map,
      rmpSvg(
        'The RMP after the demo, with each KVM ABI (upstream: examples/demo-upstream.json)',
        Math.max(scenario.host.pages, upstream.host.pages),
        all.map((r) => ({ label: `KVM ABI: ${r.abi}`, rmp: r.result.rmp })),
      ),
    );
    files.writeText(traceOut, `${JSON.stringify(toChromeTrace(events))}\n`);
    if (json) {
      const story = storyJson(upstream, upstreamRun);
      io.stdout(
        `${JSON.stringify({ ...flavoursJson(scenario, runs), upstream: story, map, trace: traceOut }, null, 2)}\n`,
      );
      return;
    }
    io.stdout(
      [
        `snp-ref demo: the review's story (examples/demo.json) with each KVM ABI, ${ABIS.join(' and ')}, then upstream`,
        '',
        ...formatFlavours(scenario, runs),
        UPSTREAM,
        ...formatStory(upstream, upstreamRun),
        ...vmLines(all),
        `RMP map and transitions of the three runs: ${map}, ${traceOut} (open it in https://ui.perfetto.dev)`,
        'Every step of a run: snp-ref run tools/cli/examples/demo.json (or demo-upstream.json) --format text',
        '',
      ].join('\n'),
    );
  },
});
