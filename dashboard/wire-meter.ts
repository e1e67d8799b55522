import type { CoordinatorServer } from '@fedrec/coordinator';

/** Byte size of one engine.io payload (a string frame or a binary attachment). */
export function payloadBytes(data: unknown): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}

/**
 * Counts what crosses the federated clients' connections (the main namespace), in both
 * directions, as running totals: a round's traffic is the difference between two readings.
 */
export class WireMeter {
  bytesUp = 0;
  bytesDown = 0;

  attach(io: CoordinatorServer): void {
    io.on('connection', (socket) => {
      const conn = socket.conn;
      conn.on('data', (data: unknown) => {
        this.bytesUp += payloadBytes(data);
      });
      conn.on('packetCreate', (packet: { data?: unknown }) => {
        this.bytesDown += payloadBytes(packet.data);
      });
    });
  }

  reading(): { bytesUp: number; bytesDown: number } {
    return { bytesUp: this.bytesUp, bytesDown: this.bytesDown };
  }
}
