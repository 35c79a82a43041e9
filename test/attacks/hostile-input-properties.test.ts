import { describe, it } from 'node:test';
import { framingProperty, hashingProperty, validationProperty } from './lib/input-properties.ts';

/** Issue 8 acceptance criterion 3: bounded property runs here; `scripts/fuzz-input.ts` runs longer. */
const RUNS = 200;

describe('hostile input, property-based (fast-check)', () => {
  it('JSON-RPC framing: every complete line gets exactly one outcome, valid ones pass unchanged', () =>
    framingProperty(RUNS));
  it('argument validation never throws and never coerces or changes the arguments', () => validationProperty(RUNS));
  it('call hashing: key order does not matter, values do, and only unrepresentable input throws (JcsError → invalid_args)', () =>
    hashingProperty(RUNS));
});
