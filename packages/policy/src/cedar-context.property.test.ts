import { describe, it } from 'node:test';
import fc from 'fast-check';
import { cedarContextProperties } from './cedar-context.props.ts';

/** Bounded in `npm test`; `node scripts/fuzz-policy.ts --runs N` runs the same properties longer. */
describe('Cedar context building on hostile arguments (property-based)', () => {
  for (const { name, property } of cedarContextProperties()) {
    it(name, () => fc.assert(property, { numRuns: 200 }));
  }
});
