import assert from 'node:assert/strict';
import { CHROMIUM_CANDIDATES, findChromium } from '../../scripts/chromium.js';

describe('test setup: finding Chromium (scripts/chromium.ts, used by pretest and the browser suites)', () => {
  it('takes FEDREC_CHROMIUM when it is an executable, and reports a wrong one as missing', () => {
    assert.equal(findChromium({ FEDREC_CHROMIUM: process.execPath }), process.execPath);
    assert.equal(findChromium({ FEDREC_CHROMIUM: '/no/such/chromium' }), undefined);
  });

  it('otherwise finds one of the Debian paths (or none)', () => {
    const found = findChromium({});
    assert.ok(found === undefined || CHROMIUM_CANDIDATES.includes(found));
  });
});
