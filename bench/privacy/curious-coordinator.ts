import { Decoder, PacketType, type Packet } from 'socket.io-parser';
import type { CoordinatorExtension } from '@fedrec/coordinator';

/** One answer a device sent the coordinator (an ack), as it arrived: the event it answered is not on the wire, its shape says what it is. */
export interface CapturedReply {
  clientId: string;
  /** The ack's value ({ ok, value } unwrapped to value when ok). */
  value: unknown;
  /** Bytes of the packet as received: JSON text plus binary attachments. */
  bytes: number;
  /**
   * The task this reply answers (matched by ack id to the request the coordinator sent): an update's envelope is
   * bound to its round, task and model version, which a coordinator knows because it issued them.
   */
  task?: { roundId: number; taskId: string; modelVersion: number };
}

/**
 * A curious coordinator's recorder: everything devices send, decoded from the Engine.IO packets exactly as the
 * coordinator's own Socket.IO parser sees them (a second decoder per connection, so the coordinator itself is unchanged).
 * It keeps ack replies (fit updates, secagg stage messages, evaluation results) with the sender's id.
 */
export function curiousCoordinator(): { extension: CoordinatorExtension; replies: CapturedReply[] } {
  const replies: CapturedReply[] = [];
  const extension: CoordinatorExtension = {
    name: 'curious-coordinator',
    attach: ({ io }) => {
      io.on('connection', (socket) => {
        const clientId = String((socket.data as { clientId?: unknown }).clientId ?? socket.id);
        const decoder = new Decoder();
        const sent = new Decoder();
        const tasks = new Map<number, CapturedReply['task']>();
        let pending = 0;
        decoder.on('decoded', (p: Packet) => {
          const bytes = pending;
          pending = 0;
          if (p.type !== PacketType.ACK && p.type !== PacketType.BINARY_ACK) return;
          const answer = (p.data as unknown[])[0] as { ok?: boolean; value?: unknown } | undefined;
          const task = p.id === undefined ? undefined : tasks.get(p.id);
          if (p.id !== undefined) tasks.delete(p.id);
          replies.push({ clientId, value: answer?.ok === false ? answer : answer?.value, bytes, ...(task ? { task } : {}) });
        });
        // Requests the coordinator sends that expect an answer: a task's ids, by ack id.
        sent.on('decoded', (p: Packet) => {
          if ((p.type !== PacketType.EVENT && p.type !== PacketType.BINARY_EVENT) || p.id === undefined) return;
          const t = (p.data as unknown[])[1] as { roundId?: unknown; taskId?: unknown; modelVersion?: unknown } | undefined;
          if (typeof t?.taskId === 'string' && typeof t.roundId === 'number' && typeof t.modelVersion === 'number') {
            tasks.set(p.id, { roundId: t.roundId, taskId: t.taskId, modelVersion: t.modelVersion });
          }
        });
        socket.conn.on('packetCreate', (p: { type: string; data?: unknown }) => {
          if (p.type === 'message' && p.data !== undefined) sent.add(p.data as string | Buffer);
        });
        socket.conn.on('packet', (p: { type: string; data?: unknown }) => {
          if (p.type !== 'message' || p.data === undefined) return;
          const data = p.data as string | Buffer;
          pending += typeof data === 'string' ? data.length : data.byteLength;
          decoder.add(data);
        });
      });
    },
  };
  return { extension, replies };
}
