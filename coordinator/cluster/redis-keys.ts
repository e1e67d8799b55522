/** Every Redis key and channel a cluster uses, under one prefix (several clusters can share a Redis). */
export class RedisKeys {
  constructor(readonly prefix = 'fedrec:') {}

  /** The leader lease: "nodeId:fence", set NX with a TTL. */
  get lease(): string {
    return `${this.prefix}lease`;
  }
  /** INCR counter: each lease acquisition takes the next fencing token. */
  get fence(): string {
    return `${this.prefix}fence`;
  }
  /** Hash { version, token, at }: the newest committed model version and the lease token that committed it. */
  get committed(): string {
    return `${this.prefix}committed`;
  }
  /** Set of node ids that ever joined (liveness is `alive`). */
  get nodes(): string {
    return `${this.prefix}nodes`;
  }
  alive(nodeId: string): string {
    return `${this.prefix}alive:${nodeId}`;
  }
  /** Hash clientId → { socketId, connectedAt } of the clients connected to one node. */
  clients(nodeId: string): string {
    return `${this.prefix}clients:${nodeId}`;
  }
  /** Hash clientId → device public key (hex): the signed-identity table. */
  get identities(): string {
    return `${this.prefix}identities`;
  }
  /** A short lock for one-time setup (creating the shared key file). */
  get initLock(): string {
    return `${this.prefix}init-lock`;
  }
  /** Channel: fit orders for one node's clients. */
  fitOrders(nodeId: string): string {
    return `${this.prefix}fit:${nodeId}`;
  }
  /** Channel: partial sums sent to one (leader) node. */
  partials(nodeId: string): string {
    return `${this.prefix}partial:${nodeId}`;
  }
  /** Channel: committed versions, for every node. */
  get commits(): string {
    return `${this.prefix}commits`;
  }
  /** Channel: requests that commit through the leader (a rollback asked of a follower), to one node. */
  leaderRequests(nodeId: string): string {
    return `${this.prefix}leader-request:${nodeId}`;
  }
  /** Channel: the leader's answers to those requests, to the node that asked. */
  leaderReplies(nodeId: string): string {
    return `${this.prefix}leader-reply:${nodeId}`;
  }
  /** Socket.IO adapter channel prefix. */
  get adapter(): string {
    return `${this.prefix}socket.io`;
  }
}
