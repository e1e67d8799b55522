import assert from 'node:assert/strict';
import { SecAggClient, SecAggError, SecAggServer } from './index.js';
import { type ForwardedShares, type Roster, type UnmaskRequest } from '@fedrec/protocol';
import { config, contributions, encodeAll, ids } from './testing/helpers.js';

/** Runs stages 0–2 by hand for 6 clients (threshold 4) so a test can play a misbehaving server at stage 3. */
async function toUnmask(dropBeforeMasked: string[] = []) {
  const cfg = config({ mode: 'secagg' });
  const clientIds = ids(6);
  const inputs = encodeAll(contributions(clientIds, 11), cfg);
  const vectorLength = inputs.get(clientIds[0]!)!.length;
  const server = new SecAggServer({ roundId: 5, config: cfg, vectorLength });
  const clients = new Map(clientIds.map((id) => [id, new SecAggClient({ clientId: id, roundId: 5, config: cfg, vectorLength })]));
  for (const [id, c] of clients) server.acceptAdvertisement(id, c.advertiseKeys());
  const rosters = server.closeAdvertisement();
  assert.equal(rosters.status, 'continue');
  const rosterMessages = (rosters as { messages: Map<string, Roster> }).messages;
  for (const [id, c] of clients) server.acceptShareKeys(id, await c.shareKeys(rosterMessages.get(id)!));
  const forwarded = server.closeShareKeys();
  const forwardedMessages = (forwarded as { messages: Map<string, ForwardedShares> }).messages;
  for (const [id, c] of clients) {
    c.receiveShares(forwardedMessages.get(id)!);
    if (!dropBeforeMasked.includes(id)) server.acceptMaskedInput(id, c.maskInput(inputs.get(id)!));
  }
  const requests = server.closeMaskedInput();
  assert.equal(requests.status, 'continue');
  return { server, clients, clientIds, rosterMessages, forwardedMessages, requests: (requests as { messages: Map<string, UnmaskRequest> }).messages };
}

function refusedWith(reason: string) {
  return (err: unknown) => err instanceof SecAggError && err.reason === reason;
}

describe('secagg client refusals', () => {
  it('refuses a request for both the seed share and the key share of the same peer, and then reveals nothing', async () => {
    const { clients, clientIds } = await toUnmask();
    const [self, peer] = [clientIds[0]!, clientIds[1]!];
    const greedy: UnmaskRequest = { roundId: 5, survivors: clientIds, dropped: [peer] };
    const client = clients.get(self)!;
    assert.throws(() => client.unmask(greedy), refusedWith('BOTH_SHARES_REQUESTED'));
    assert.equal(client.stage, 'aborted');
    const honest: UnmaskRequest = { roundId: 5, survivors: clientIds, dropped: [] };
    assert.throws(() => client.unmask(honest), SecAggError, 'an aborted client answers nothing');
  });

  it('answers an honest request once, with exactly the asked shares, and refuses a second one', async () => {
    const { clients, clientIds, requests } = await toUnmask(['client-002']);
    const id = clientIds[0]!;
    const request = requests.get(id)!;
    assert.deepEqual(request.dropped, ['client-002']);
    const reply = clients.get(id)!.unmask(request);
    assert.deepEqual(reply.seedShares.map((s) => s.of).sort(), [...request.survivors].sort());
    assert.deepEqual(
      reply.keyShares.map((s) => s.of),
      ['client-002'],
    );
    // A server that now claims a survivor dropped, to get its key share too, is refused.
    assert.throws(() => clients.get(id)!.unmask({ roundId: 5, survivors: [id], dropped: ['client-001'] }), refusedWith('WRONG_STAGE'));
  });

  it('refuses key shares of peers that never shared keys with it, and requests below the threshold', async () => {
    const { clients, clientIds } = await toUnmask();
    assert.throws(
      () => clients.get(clientIds[0]!)!.unmask({ roundId: 5, survivors: clientIds.slice(0, 5), dropped: ['stranger'] }),
      refusedWith('UNEXPECTED_PEER'),
    );
    assert.throws(() => clients.get(clientIds[1]!)!.unmask({ roundId: 5, survivors: clientIds.slice(1, 3), dropped: [] }), refusedWith('BELOW_THRESHOLD'));
    assert.throws(() => clients.get(clientIds[2]!)!.unmask({ roundId: 6, survivors: clientIds, dropped: [] }), refusedWith('WRONG_ROUND'));
    assert.throws(
      () => clients.get(clientIds[3]!)!.unmask({ roundId: 5, survivors: clientIds.filter((c) => c !== clientIds[3]), dropped: [] }),
      refusedWith('UNEXPECTED_PEER'),
    );
  });

  it('a client that did not send its masked input reveals nothing', async () => {
    const { clients, clientIds } = await toUnmask(['client-004']);
    assert.throws(() => clients.get('client-004')!.unmask({ roundId: 5, survivors: clientIds, dropped: [] }), refusedWith('WRONG_STAGE'));
  });

  it('refuses tampered or re-addressed share ciphertexts', async () => {
    const cfg = config({ mode: 'secagg' });
    const clientIds = ids(4);
    const server = new SecAggServer({ roundId: 1, config: cfg, vectorLength: 8 });
    const clients = new Map(clientIds.map((id) => [id, new SecAggClient({ clientId: id, roundId: 1, config: cfg, vectorLength: 8 })]));
    for (const [id, c] of clients) server.acceptAdvertisement(id, c.advertiseKeys());
    const rosters = server.closeAdvertisement() as { messages: Map<string, Roster> };
    for (const [id, c] of clients) server.acceptShareKeys(id, await c.shareKeys(rosters.messages.get(id)!));
    const fwd = (server.closeShareKeys() as { messages: Map<string, ForwardedShares> }).messages;
    const a = fwd.get('client-000')!;
    const flipped = a.encryptedShares.map((s, i) => (i === 0 ? { ...s, ciphertext: s.ciphertext.map((b, j) => (j === 20 ? b ^ 1 : b)) } : s));
    assert.throws(() => clients.get('client-000')!.receiveShares({ roundId: 1, encryptedShares: flipped }), refusedWith('BAD_SHARES'));
    // The shares meant for client-000, handed to client-001 under the right sender name: the binding fails.
    const b = fwd.get('client-001')!;
    const swapped = b.encryptedShares.map((s) => (s.from === 'client-002' ? { ...s, ...a.encryptedShares.find((x) => x.from === 'client-002')! } : s));
    assert.throws(() => clients.get('client-001')!.receiveShares({ roundId: 1, encryptedShares: swapped }), refusedWith('BAD_SHARES'));
  });

  it('refuses a roster whose neighbour keys do not follow from the roster and seed, or whose threshold is lowered', async () => {
    const cfg = config({ mode: 'secagg+', neighbours: 4 });
    const clientIds = ids(10);
    const server = new SecAggServer({ roundId: 1, config: cfg, vectorLength: 8 });
    const clients = new Map(clientIds.map((id) => [id, new SecAggClient({ clientId: id, roundId: 1, config: cfg, vectorLength: 8 })]));
    for (const [id, c] of clients) server.acceptAdvertisement(id, c.advertiseKeys());
    const rosters = (server.closeAdvertisement() as { messages: Map<string, Roster> }).messages;
    const r0 = rosters.get('client-000')!;
    const other = rosters.get(clientIds.find((id) => !r0.neighbours.some((n) => n.clientId === id) && id !== 'client-000')!)!;
    // A stranger to client-000 (the random graph may make other's first neighbour one of client-000's own).
    const stranger = other.neighbours.find((n) => n.clientId !== 'client-000' && !r0.neighbours.some((m) => m.clientId === n.clientId))!;
    const swappedNeighbour = { ...r0, neighbours: [...r0.neighbours.slice(1), { ...stranger }] };
    await assert.rejects(clients.get('client-000')!.shareKeys(swappedNeighbour), refusedWith('BAD_ROSTER'));
    await assert.rejects(clients.get('client-001')!.shareKeys({ ...rosters.get('client-001')!, threshold: 2 }), refusedWith('BAD_ROSTER'));
    const r2 = rosters.get('client-002')!;
    const replayedKey = { ...r2, neighbours: r2.neighbours.map((n, i) => (i === 1 ? { ...n, maskPublicKey: r2.neighbours[0]!.maskPublicKey } : n)) };
    await assert.rejects(clients.get('client-002')!.shareKeys(replayedKey), refusedWith('BAD_ROSTER'));
  });

  it('the server refuses out-of-stage, duplicate, foreign and malformed messages with SecAggError codes', async () => {
    const { server, clients, clientIds, requests } = await toUnmask();
    await assert.rejects(
      async () => server.acceptMaskedInput(clientIds[0]!, { roundId: 5, masked: new Uint8Array(4) }),
      (e: unknown) => e instanceof SecAggError && e.code === 'ROUND_CLOSED',
    );
    const id = clientIds[0]!;
    const reply = clients.get(id)!.unmask(requests.get(id)!);
    server.acceptUnmaskResponse(id, reply);
    assert.throws(
      () => server.acceptUnmaskResponse(id, reply),
      (e: unknown) => e instanceof SecAggError && e.code === 'DUPLICATE_UPDATE',
    );
    assert.throws(
      () => server.acceptUnmaskResponse('nobody', reply),
      (e: unknown) => e instanceof SecAggError && e.code === 'NOT_SELECTED',
    );
    const id2 = clientIds[1]!;
    const partial = clients.get(id2)!.unmask(requests.get(id2)!);
    assert.throws(
      () => server.acceptUnmaskResponse(id2, { ...partial, seedShares: partial.seedShares.slice(1) }),
      (e: unknown) => e instanceof SecAggError && e.reason === 'BAD_SHARES',
    );
    // The right count but one peer twice, or one peer nobody asked about: refused the same way (the reply check
    // compares sets, not lengths).
    const repeated = [...partial.seedShares.slice(0, -1), partial.seedShares[0]!];
    assert.throws(
      () => server.acceptUnmaskResponse(id2, { ...partial, seedShares: repeated }),
      (e: unknown) => e instanceof SecAggError && e.reason === 'BAD_SHARES',
    );
    const foreign = partial.seedShares.map((s, i) => (i === 0 ? { ...s, of: 'client-999' } : s));
    assert.throws(
      () => server.acceptUnmaskResponse(id2, { ...partial, seedShares: foreign }),
      (e: unknown) => e instanceof SecAggError && e.reason === 'BAD_SHARES',
    );
    // A share of the wrong length (a direct caller that skipped the schema): refused before anything is kept.
    const short = partial.seedShares.map((s, i) => (i === 0 ? { ...s, share: s.share.subarray(1) } : s));
    assert.throws(
      () => server.acceptUnmaskResponse(id2, { ...partial, seedShares: short }),
      (e: unknown) => e instanceof SecAggError && e.reason === 'BAD_SHARES',
    );
    // Refusals changed nothing: the genuine reply is still accepted.
    server.acceptUnmaskResponse(id2, partial);
  });
});
