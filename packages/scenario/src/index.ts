// @snp-ref/scenario: the scenario format (README.md), its step-wise runner and the why of every
// refusal. The fuzzer is the "./fuzz" entry point.
export { type ScenarioFile, type ScenarioFiles, scenarioFilesIn } from './files.js';
export { PAGE_TYPES } from './pageTypes.js';
export {
  type ParsedScenario,
  parseScenario,
  type Scenario,
  type ScenarioProblem,
  type Step,
  scenarioJsonSchema,
  scenarioSchema,
} from './schema.js';
export {
  injectionCode,
  runScenario,
  type ScenarioResult,
  ScenarioSession,
  type StepFailure,
  type StepResult,
  type StepSuccess,
  type TraceJson,
} from './session.js';
export { cpuWhy, kvmWhy, type Why } from './why.js';
