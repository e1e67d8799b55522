import nacl from 'tweetnacl';

/**
 * Byte sizes fixed by the secure-aggregation wire format. The secagg package builds its values to
 * these sizes and the stage schemas (secagg-messages.ts) refuse anything else, so they live here,
 * on the contract both sides import.
 */

/** A PRG seed (the AES-256-CTR key of a mask). */
export const SEED_LENGTH = 32;
/** GF(2^8) Shamir: at most 255 shares of one secret (why full SecAgg caps a round at 255 clients). */
export const MAX_SHARES = 255;
/** One Shamir share of a seed: the secret's bytes plus one byte for its x coordinate. */
export const SHARE_LENGTH = SEED_LENGTH + 1;
/** tweetnacl secretbox nonce. */
export const SHARE_NONCE_LENGTH = nacl.secretbox.nonceLength;
/** secretbox(binding digest ‖ seed share ‖ key share): Poly1305 tag + sha256 binding (32) + two shares. */
export const SHARE_CIPHERTEXT_LENGTH = nacl.secretbox.overheadLength + 32 + 2 * SHARE_LENGTH;
