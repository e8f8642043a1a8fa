// For the tests: sev-snp-measure's own fixtures (its tests/fixtures at 8f2b337), beside the
// repository's checkout with their provenance, not part of the repository.
import { join } from 'node:path';

export const SEV_SNP_MEASURE_FIXTURES = join(
  import.meta.dirname,
  '../../../../shared/vectors/sev-snp-measure/fixtures',
);
