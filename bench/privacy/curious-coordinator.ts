import { Decoder, PacketType, type Packet } from 'socket.io-parser';
import type { CoordinatorExtension } from '@fedrec/coordinator';
import type { EnvelopeBinding } from '@fedrec/protocol';

/** One answer a device sent the coordinator (an ack), as it arrived: the event it answered is not on the wire, its shape says what it is. */
export interface CapturedReply {
  clientId: string;
  /** The ack's value ({ ok, value } unwrapped to value when ok). */
  value: unknown;
  /** Bytes of the packet as received: JSON text plus binary attachments. */
  bytes: number;
  /** For the answer to a round:fit task: the binding the coordinator sent with it (what its envelope is opened against). */
  binding?: EnvelopeBinding;
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
        let pending = 0;
        // The fit tasks this coordinator sent, by ack id: it knows each binding, as the plain collector does.
        const bindings = new Map<number, EnvelopeBinding>();
        const outgoing = new Decoder();
        outgoing.on('decoded', (p: Packet) => {
          const [event, task] = (p.data ?? []) as [string, { roundId: number; taskId: string; modelVersion: number } | undefined];
          if (event !== 'round:fit' || !task || p.id === undefined) return;
          bindings.set(p.id, { roundId: task.roundId, taskId: task.taskId, modelVersion: task.modelVersion, clientId });
        });
        socket.conn.on('packetCreate', (p: { type: string; data?: unknown }) => {
          if (p.type === 'message' && p.data !== undefined) outgoing.add(p.data as string | Buffer);
        });
        decoder.on('decoded', (p: Packet) => {
          const bytes = pending;
          pending = 0;
          if (p.type !== PacketType.ACK && p.type !== PacketType.BINARY_ACK) return;
          const answer = (p.data as unknown[])[0] as { ok?: boolean; value?: unknown } | undefined;
          const binding = p.id === undefined ? undefined : bindings.get(p.id);
          replies.push({ clientId, value: answer?.ok === false ? answer : answer?.value, bytes, ...(binding ? { binding } : {}) });
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
