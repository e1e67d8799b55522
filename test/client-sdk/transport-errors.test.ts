import assert from 'node:assert/strict';
import { transportFailure } from '@fedrec/client-sdk/transport-errors.js';

/** socket.io-client's connect_error in Node: a TransportError whose description is ws's ErrorEvent. */
const connectError = (code: string | undefined, message = `connect ${code}`) =>
  Object.assign(new Error('websocket error'), { description: { error: code === undefined ? {} : { code, message } } });

describe('client-sdk: transport failures read from connect_error', () => {
  it('maps refused, DNS and TLS causes to codes, keeping the system detail', () => {
    assert.deepEqual(transportFailure(connectError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1')), {
      code: 'CONNECTION_REFUSED',
      detail: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1',
    });
    for (const c of ['ENOTFOUND', 'EAI_AGAIN']) assert.equal(transportFailure(connectError(c))?.code, 'HOST_NOT_FOUND');
    for (const c of ['EPROTO', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID']) {
      assert.equal(transportFailure(connectError(c))?.code, 'TLS_ERROR', c);
    }
  });

  it('leaves everything else to the retry and the connect timeout (browsers, resets, server refusals)', () => {
    assert.equal(transportFailure(connectError('ECONNRESET')), undefined);
    assert.equal(transportFailure(connectError(undefined)), undefined);
    assert.equal(transportFailure(new Error('UNAUTHORIZED')), undefined);
  });
});
