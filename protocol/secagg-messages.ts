import { z } from 'zod';
import { binarySchema } from './binary.js';
import { MAX_SHARES, SHARE_CIPHERTEXT_LENGTH, SHARE_LENGTH, SHARE_NONCE_LENGTH } from './secagg-sizes.js';

/**
 * Stage payloads, validated with zod by whoever receives them (coordinator or client).
 * Binary fields accept a Node Buffer, a Uint8Array or an ArrayBuffer and parse to Uint8Array.
 * Stage 0 advertise keys → roster; 1 share keys → forwarded shares; 2 masked input → unmask request; 3 unmask response.
 */

const bytesOf = (n: number, what: string) => binarySchema.refine((b) => b.length === n, `${what} must be ${n} bytes`);
const clientIdSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'client id: 1-128 of [A-Za-z0-9_.:-]');
const roundIdSchema = z.number().int().min(0);
const publicKeySchema = bytesOf(32, 'public key');
const MAX_ROSTER = 100_000;
const MAX_VECTOR_WORDS = 64 * 1024 * 1024;

/** Stage 0, client → server: two fresh X25519 public keys for this round. */
export const advertiseKeysSchema = z.object({
  roundId: roundIdSchema,
  cipherPublicKey: publicKeySchema,
  maskPublicKey: publicKeySchema,
});

/** Stage 0 result, server → each client: who is in the round, the graph seed, and its neighbours' keys. */
export const rosterSchema = z.object({
  roundId: roundIdSchema,
  /** Every client that advertised keys, sorted by id: clients recompute the neighbour graph from it. */
  roster: z.array(clientIdSchema).max(MAX_ROSTER),
  graphSeed: bytesOf(32, 'graph seed'),
  threshold: z.number().int().min(2).max(MAX_SHARES),
  vectorLength: z.number().int().min(1).max(MAX_VECTOR_WORDS),
  neighbours: z.array(z.object({ clientId: clientIdSchema, cipherPublicKey: publicKeySchema, maskPublicKey: publicKeySchema })).max(MAX_SHARES - 1),
});

const encryptedSharesFields = {
  nonce: bytesOf(SHARE_NONCE_LENGTH, 'nonce'),
  ciphertext: bytesOf(SHARE_CIPHERTEXT_LENGTH, 'share ciphertext'),
};

/** Stage 1, client → server: one encrypted share pair per neighbour. */
export const shareKeysSchema = z.object({
  roundId: roundIdSchema,
  encryptedShares: z.array(z.object({ to: clientIdSchema, ...encryptedSharesFields })).max(MAX_SHARES - 1),
});

/** Stage 1 result, server → each client: the share pairs its neighbours encrypted for it. */
export const forwardedSharesSchema = z.object({
  roundId: roundIdSchema,
  encryptedShares: z.array(z.object({ from: clientIdSchema, ...encryptedSharesFields })).max(MAX_SHARES - 1),
});

/** Stage 2, client → server: the masked, quantized input (uint32 little-endian). */
export const maskedInputSchema = z.object({
  roundId: roundIdSchema,
  masked: binarySchema.refine((b) => b.length % 4 === 0 && b.length > 0 && b.length <= 4 * MAX_VECTOR_WORDS, 'masked input must be whole uint32 words'),
});

/** Stage 2 result, server → each surviving client: whose seed shares and whose key shares to reveal. */
export const unmaskRequestSchema = z.object({
  roundId: roundIdSchema,
  /** Peers (and the client itself) whose masked input arrived: reveal self-mask seed shares. */
  survivors: z.array(clientIdSchema).max(MAX_SHARES),
  /** Peers that shared keys but sent no masked input: reveal mask-key shares. */
  dropped: z.array(clientIdSchema).max(MAX_SHARES),
});

const revealedShareSchema = z.object({ of: clientIdSchema, share: bytesOf(SHARE_LENGTH, 'share') });

/** Stage 3, client → server: the shares it was asked for. */
export const unmaskResponseSchema = z.object({
  roundId: roundIdSchema,
  seedShares: z.array(revealedShareSchema).max(MAX_SHARES),
  keyShares: z.array(revealedShareSchema).max(MAX_SHARES),
  /**
   * When `dropped` was not empty: −Σ sign·PRG(pairwise seed) over those dropped peers, as uint32 words (the
   * cancelling term the server would otherwise expand itself from each dropped peer's rebuilt key: cheap unmasking).
   */
  correction: binarySchema
    .refine((b) => b.length % 4 === 0 && b.length > 0 && b.length <= 4 * MAX_VECTOR_WORDS, 'correction must be whole uint32 words')
    .optional(),
});

export type AdvertiseKeys = z.output<typeof advertiseKeysSchema>;
export type Roster = z.output<typeof rosterSchema>;
export type ShareKeys = z.output<typeof shareKeysSchema>;
export type ForwardedShares = z.output<typeof forwardedSharesSchema>;
export type MaskedInput = z.output<typeof maskedInputSchema>;
export type UnmaskRequest = z.output<typeof unmaskRequestSchema>;
export type UnmaskResponse = z.output<typeof unmaskResponseSchema>;
