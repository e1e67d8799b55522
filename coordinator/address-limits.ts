/**
 * Per-address abuse limits checked before a connection costs anything: open connections per address
 * and handshakes per address per second (a fixed one-second window). 0 turns a limit off.
 */
export interface AddressLimitSettings {
  maxConnectionsPerAddress: number;
  maxHandshakesPerSecond: number;
}

export class AddressLimits {
  private readonly open = new Map<string, number>();
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly settings: AddressLimitSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts a handshake attempt; returns a reason to refuse, or undefined to go on. */
  admit(address: string): string | undefined {
    const { maxConnectionsPerAddress, maxHandshakesPerSecond } = this.settings;
    if (maxHandshakesPerSecond > 0) {
      const t = this.now();
      let w = this.windows.get(address);
      if (!w || t - w.start >= 1000) {
        if (this.windows.size > 10_000) this.sweep(t);
        w = { start: t, count: 0 };
        this.windows.set(address, w);
      }
      if (++w.count > maxHandshakesPerSecond) return `more than ${maxHandshakesPerSecond} handshakes a second from ${address}`;
    }
    if (maxConnectionsPerAddress > 0 && (this.open.get(address) ?? 0) >= maxConnectionsPerAddress) {
      return `${address} already holds ${maxConnectionsPerAddress} connections`;
    }
    return undefined;
  }

  opened(address: string): void {
    this.open.set(address, (this.open.get(address) ?? 0) + 1);
  }

  closed(address: string): void {
    const n = (this.open.get(address) ?? 0) - 1;
    if (n > 0) this.open.set(address, n);
    else this.open.delete(address);
  }

  connectionsFrom(address: string): number {
    return this.open.get(address) ?? 0;
  }

  /** Drops finished windows so a flood of one-off addresses cannot grow the map without bound. */
  private sweep(t: number): void {
    for (const [address, w] of this.windows) if (t - w.start >= 1000) this.windows.delete(address);
  }
}
