import assert from 'node:assert/strict';
import { BASE_ROUND_TIMEOUT_MS, simulationRoundTimeoutMs } from '@fedrec/simulate/socket/round-deadline.js';

describe('simulation round deadline', () => {
  it('stays at the base deadline for small fleets and grows with the devices one thread trains in turn', () => {
    assert.equal(simulationRoundTimeoutMs(300, 2), BASE_ROUND_TIMEOUT_MS);
    assert.equal(simulationRoundTimeoutMs(600, 2), BASE_ROUND_TIMEOUT_MS);
    // The 17,632-item run: 1,884 devices on 2 threads, 942 each, 1 s apiece.
    assert.equal(simulationRoundTimeoutMs(1884, 2), 942_000);
    assert.equal(simulationRoundTimeoutMs(1884, 4), 471_000);
    assert.equal(simulationRoundTimeoutMs(1884, 0), 1_884_000, 'no threads counts as one');
  });
});
