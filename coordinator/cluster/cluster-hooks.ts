import type { KeyPair, ModelUpdated } from '@fedrec/protocol';
import type { ClientRegistry } from '../client-registry.js';
import type { FitCollector } from '../fit-collector.js';
import type { IdentityStore } from '../identity-registry.js';
import type { Logger } from '../logger.js';
import type { RoundRecord } from '../round-record.js';
import type { CheckpointState } from '../checkpoint-store.js';
import type { ClientSocket, CoordinatorServer } from '../socket-types.js';
import type { CoordinatorState } from '../state.js';
import type { Strategy } from '../strategy/strategy.js';

/** The registry calls a round needs: clients of every node (remote ones behind a forwarding stand-in). */
export type RoundRegistry = Pick<ClientRegistry, 'get' | 'list' | 'waitForCount'>;

/** What a node sees of its own coordinator once the server exists (before it listens). */
export interface ClusterContext {
  io: CoordinatorServer;
  state: CoordinatorState;
  keyPair: KeyPair;
  /** The shared checkpoint directory: a kept version, or null. */
  persistence: { load(modelVersion: number): Promise<CheckpointState | null> };
  strategy: Strategy;
  /** Tells this node's own clients about a model version (the node has it loaded). */
  localAnnounce(update: ModelUpdated): void;
  /** A follower loaded a version another node committed: its listeners (metrics, dashboard, waitForVersion) hear of it. */
  emitCommitted(record: RoundRecord): void;
  /** This node's own engine's rollback (run on the leader, for itself or for a follower that forwarded one). */
  rollback(toVersion: number | undefined, reason: string): Promise<{ modelVersion: number; from: number }>;
  logger: Logger;
}

/**
 * The seam a coordinator node uses to join a cluster (coordinator/cluster/cluster-node.ts implements it
 * over Redis). Only the type lives here: a coordinator without `options.cluster` loads nothing of Redis.
 */
export interface ClusterHooks {
  readonly nodeId: string;
  /** Runs `work` under a cluster-wide lock (the first node creates the shared key file, the others read it). */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  /** The client id → device key bindings, shared by every node. */
  readonly identities: IdentityStore;
  /** This node's registry of its own sockets (mirrored into the shared registry). */
  readonly localRegistry: ClientRegistry;
  /** The registry the round engine selects from: every node's clients. */
  readonly roundRegistry: RoundRegistry;
  /** Installs the Socket.IO adapter and the node's subscriptions; called after the server exists, before it listens. */
  attach(ctx: ClusterContext): Promise<void>;
  /** Wraps the configured collector: local clients go to it, other nodes collect theirs and send partial sums. */
  fitCollector(inner: FitCollector): FitCollector;
  /** Resolves once this node holds the leader lease (the state is then at the newest committed version). */
  waitUntilLeader(signal: AbortSignal): Promise<void>;
  /**
   * Resolves on the leader; on a follower rejects with NotLeader, naming the node that leads (or saying
   * none does right now), so an operator's action that commits a version (a rollback) is sent there.
   */
  refuseUnlessLeader(action: string): Promise<void>;
  /**
   * An operator rollback: run here on the leader; on a follower forwarded to the leader (through Redis),
   * resolving with its answer. Rejects with NotLeader only when no node holds the lease (a hand-over).
   */
  rollback(toVersion: number | undefined, reason: string): Promise<{ modelVersion: number; from: number }>;
  /** Writes a version's checkpoint under the lease: refuses (throws) unless this node still leads and the version is next. */
  fencedSave(modelVersion: number, save: () => Promise<void>): Promise<void>;
  /**
   * Whether a task to this client must carry the model's weights: a client of another node asks its own
   * node for the version, which may not have loaded it yet (it hears of a commit after the leader).
   */
  carriesModel(socket: ClientSocket): boolean;
  /** Announces a committed version to every node, which load it and tell their own clients. */
  announce(update: ModelUpdated): void;
  /** Leaves the cluster: releases the lease, forgets this node's clients, closes Redis. */
  detach(): Promise<void>;
}

/** An action that commits a version was asked of a follower: `leader` is the node to ask (null: none leads now). */
export class NotLeader extends Error {
  constructor(
    readonly nodeId: string,
    readonly leader: string | null,
    action: string,
  ) {
    super(
      `${action} commits through the cluster's leader and node ${nodeId} is a follower: ` +
        (leader !== null
          ? `node ${leader} leads; send the request to it`
          : 'no node holds the leader lease right now (a hand-over is in progress); retry in a few seconds'),
    );
    this.name = 'NotLeader';
  }
}
