// `snp-ref rmp`: the RMP after a scenario, as a table and as a map of host memory.
import { entryText } from '@snp-ref/rmp-core';
import { defineCommand } from '../commandLine/command.js';
import { CliInputError } from '../commandLine/inputError.js';
import { filesOf } from '../files.js';
import { rmpSvg } from '../format/svg.js';
import { loadScenario, scenarioModules } from './scenarioInput.js';

export const rmpCommand = defineCommand({
  name: 'rmp',
  summary: 'Run a scenario and print the RMP entries that are not all zero; --svg draws the host memory',
  arguments: [],
  options: [
    { flag: '--scenario', type: 'string', value: 'file', description: 'the scenario to run first' },
    {
      flag: '--svg',
      type: 'string',
      value: 'file',
      description: 'also draw the host memory as an SVG map, coloured by owner',
    },
  ],
  action: async ({ options }, io) => {
    if (options.scenario === undefined)
      throw new CliInputError('USAGE', '--scenario: a scenario file is required');
    const files = filesOf(io);
    const { runScenario } = await scenarioModules();
    const scenario = await loadScenario(files, options.scenario);
    const result = runScenario(scenario);
    if (options.svg !== undefined) files.writeText(options.svg, rmpSvg(scenario.host.pages, result.rmp));
    const lines = Object.entries(result.rmp).map(
      ([pfn, e]) =>
        `${pfn.padStart(10)}  ${entryText({ ...e, gpa: Number(e.gpa), vmplPerms: [e.vmplPerms?.[0] ?? 0, e.vmplPerms?.[1] ?? 0, e.vmplPerms?.[2] ?? 0] })}`,
    );
    io.stdout(`${['       pfn  entry', ...lines].join('\n')}\n`);
  },
});
