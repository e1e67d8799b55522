import { z } from 'zod';
import { secAggConfigSchema } from './secagg-config.js';
import { binarySchema } from './binary.js';
import { modelSpecSchema, trainingConfigSchema } from './config.js';
import { sealedEnvelopeSchema } from './envelope.js';
import { ERROR_CODES } from './errors.js';
import { uploadSlotTaskField } from './upload-slot.js';
import { signPublicKeyHexSchema, signatureHexSchema } from './identity.js';
import { compressionSchema } from './compression.js';
import { wireWeightsSchema } from './weights.js';

const clientIdSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'client id: 1-128 of [A-Za-z0-9_.:-]');

const runtimeNameSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,32}$/, 'runtime name: 1-32 of [A-Za-z0-9_.:-]');

/** What a device computes with: its training engine ("js", "tfjs") and tfjs backend ("webgl", "wasm", "none"). */
export const clientRuntimeSchema = z.object({ engine: runtimeNameSchema, backend: runtimeNameSchema }).strict();
export type ClientRuntime = z.infer<typeof clientRuntimeSchema>;

/** Sent by the client as Socket.IO `auth` when it connects. */
export const handshakeSchema = z.object({
  protocolVersion: z.number().int(),
  clientId: clientIdSchema,
  token: z.string().max(1024).optional(),
  /** The device's ed25519 public key (hex): the client id is bound to it at first registration. */
  publicKey: signPublicKeyHexSchema,
  /** Enrolment mode: the app backend's signature over (clientId, publicKey), see identity.ts. */
  enrolment: signatureHexSchema.optional(),
  /** Optional: lets the coordinator's status and dashboard count clients by engine and backend. */
  runtime: clientRuntimeSchema.optional(),
});
export type Handshake = z.infer<typeof handshakeSchema>;

/** First message after a successful handshake: who the coordinator is and which key to seal to. */
export const welcomeSchema = z.object({
  clientId: clientIdSchema,
  protocolVersion: z.number().int(),
  coordinatorPublicKey: binarySchema.refine((b) => b.length === 32, 'public key must be 32 bytes'),
  fingerprint: z.string(),
  modelVersion: z.number().int().min(0),
  /** The catalogue version (app item ids -> rows); a client holding an older copy fetches `catalogue:get`. */
  catalogueVersion: z.number().int().min(0).optional(),
});
export type Welcome = z.input<typeof welcomeSchema>;
export type ParsedWelcome = z.output<typeof welcomeSchema>;

/** A model version on the wire: a whole, non-negative, safe integer (anything else is refused). */
export const modelVersionSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const taskBase = {
  taskId: z.string().min(1).max(128),
  roundId: z.number().int().min(0),
  /** The model the task runs on: a device that holds this version uses its copy, else asks model:get for it once. */
  modelVersion: modelVersionSchema,
  /** The catalogue version that model belongs to (a device holding an older catalogue fetches catalogue:get). */
  catalogueVersion: modelVersionSchema.optional(),
  /** Epoch milliseconds after which the coordinator stops waiting. */
  deadline: z.number(),
  config: trainingConfigSchema,
  modelSpec: modelSpecSchema,
  /** The run's compression: how the device encodes its plain update (downloads say their own encoding). Absent = none. */
  compression: compressionSchema.optional(),
  /** The model inline (older coordinators, tests); the coordinator sends only the version (see modelVersion). */
  weights: wireWeightsSchema.optional(),
};

export const fitTaskSchema = z.object({ ...taskBase, ...uploadSlotTaskField });
export type FitTask = z.input<typeof fitTaskSchema>;
export type ParsedFitTask = z.output<typeof fitTaskSchema>;

/** A fit result: everything (delta, example count, metrics) is inside the sealed envelope. */
export const fitReplySchema = z.object({ envelope: sealedEnvelopeSchema });
export type FitReply = z.input<typeof fitReplySchema>;

export const evaluateTaskSchema = z.object(taskBase);
export type EvaluateTask = z.input<typeof evaluateTaskSchema>;
export type ParsedEvaluateTask = z.output<typeof evaluateTaskSchema>;

/**
 * A plain evaluation result: what a device's `round:evaluate` reply seals (evaluate-reply.ts), never sent in
 * clear, since one device's hr10 says whether its held-out item ranked in its top 10.
 */
export const evaluateMetricsSchema = z
  .object({
    numExamples: z.number().finite().min(0),
    metrics: z.record(z.string().max(64), z.number().finite()),
  })
  .strict();
export type EvaluateMetrics = z.infer<typeof evaluateMetricsSchema>;

/** A plain evaluate reply: the result, sealed to the coordinator's key and bound to kind 'evaluate'. */
export const evaluateReplySchema = z.object({ envelope: sealedEnvelopeSchema });
export type EvaluateReply = z.input<typeof evaluateReplySchema>;

/** `model:get`'s request: a version (the one a task names), or nothing for the current model. */
export const modelGetSchema = z.object({ modelVersion: modelVersionSchema.optional() }).strict().optional();
export type ModelGet = z.input<typeof modelGetSchema>;

/** A global model as served by model:get (its weights in the run's compression, weights.encoding says which). */
export const modelSnapshotSchema = z.object({
  modelVersion: modelVersionSchema,
  modelSpec: modelSpecSchema,
  weights: wireWeightsSchema,
});
export type ModelSnapshot = z.input<typeof modelSnapshotSchema>;
export type ParsedModelSnapshot = z.output<typeof modelSnapshotSchema>;

export const modelUpdatedSchema = z.object({
  modelVersion: z.number().int().min(0),
  roundId: z.number().int().min(0),
  /** The catalogue version the model belongs to (it grows when items are added). */
  catalogueVersion: z.number().int().min(0).optional(),
});
export type ModelUpdated = z.infer<typeof modelUpdatedSchema>;

/** The coordinator's verdict on one fit result, so a client learns whether its update counted and why not. */
export const roundResultSchema = z.object({
  roundId: z.number().int().min(0),
  taskId: z.string().min(1).max(128),
  accepted: z.boolean(),
  error: z.object({ code: z.enum(ERROR_CODES), message: z.string() }).optional(),
});
export type RoundResult = z.infer<typeof roundResultSchema>;

/**
 * Secure aggregation (secagg/): the fit task of a masked round, sent as `secagg:advertise`.
 * The client trains as usual but answers stage by stage (advertise keys now, the masked input at
 * `secagg:forward`); the config (mode, threshold, clipping, quantization) is the coordinator's, checked by the client.
 */
export const secureAggregationTaskSchema = z.object({
  config: secAggConfigSchema.refine((c) => c.mode !== 'off', 'a secure-aggregation task needs mode secagg or secagg+'),
  /**
   * Set on a secure evaluation: the device evaluates instead of training and masks [n·metric for each name | n]
   * (secagg/evaluation.ts), so the coordinator learns only the sums over the round, never one device's result.
   */
  evaluate: z
    .object({ metrics: z.array(z.string().min(1).max(64)).min(1).max(16) })
    .strict()
    .optional(),
});
// uploadSlot: a pacing coordinator asks the device to get an upload slot for its masked input (protocol/upload-slot.ts).
export const secAggFitTaskSchema = z.object({ ...taskBase, secureAggregation: secureAggregationTaskSchema, ...uploadSlotTaskField });
export type SecAggFitTask = z.input<typeof secAggFitTaskSchema>;
export type ParsedSecAggFitTask = z.output<typeof secAggFitTaskSchema>;
