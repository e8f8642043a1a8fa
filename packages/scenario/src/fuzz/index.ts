// @snp-ref/scenario/fuzz: random scenarios checked against the invariants after every step,
// failures shrunk to a replayable scenario (README.md "The fuzzer").
export {
  type CampaignOptions,
  type CampaignReport,
  checkScenario,
  type Failure,
  mergeShards,
  runCampaign,
  type SequenceStats,
} from './campaign.js';
export type { GeneratedScenario } from './generate.js';
export type { InvariantRule, Violation } from './invariants.js';
