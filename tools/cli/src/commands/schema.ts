// `snp-ref schema`: the scenario format as a JSON Schema.
import { defineCommand } from '../commandLine/command.js';
import { scenarioModules } from './scenarioInput.js';

export const schemaCommand = defineCommand({
  name: 'schema',
  summary: 'Print the scenario format as a JSON Schema (draft 2020-12)',
  arguments: [],
  options: [],
  action: async (_, io) => {
    const { scenarioJsonSchema } = await scenarioModules();
    io.stdout(`${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
  },
});
