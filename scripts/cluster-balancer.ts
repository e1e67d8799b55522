// A tiny TCP load balancer for a local cluster (scripts/cluster-local.ts, the cluster tests and bench).
// Socket.IO over WebSocket is one TCP connection per client, so those are spread round-robin over the
// live nodes; anything else (long-polling, REST, the dashboard page) sticks to one node per client
// address, because a polling session's requests must all reach the node that holds it. A node that
// refuses the connection (killed) is skipped, so a client's reconnect lands on a live node.
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

export interface Backend {
  host: string;
  port: number;
}

export interface Balancer {
  port: number;
  url: string;
  /** Connections handed to each backend ("host:port" → count). */
  counts: Map<string, number>;
  close(): Promise<void>;
}

export function startBalancer(backends: () => readonly Backend[], port = 0, host = '127.0.0.1'): Promise<Balancer> {
  let next = 0;
  const counts = new Map<string, number>();
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    open.add(client);
    client.once('close', () => open.delete(client));
    client.once('error', () => client.destroy());
    client.once('data', (first: Buffer) => {
      client.pause();
      const list = backends();
      if (list.length === 0) {
        client.destroy();
        return;
      }
      const head = first.subarray(0, 2048).toString('latin1');
      const websocket = /transport=websocket/.test(head) || /^upgrade:\s*websocket/im.test(head);
      const start = websocket ? next++ : hash(client.remoteAddress ?? '');
      const attempt = (tries: number): void => {
        if (tries >= list.length) {
          client.destroy();
          return;
        }
        const b = list[(start + tries) % list.length]!;
        const upstream = connect(b.port, b.host);
        upstream.once('error', () => {
          upstream.destroy();
          if (!upstream.readableEnded && upstream.bytesRead === 0) attempt(tries + 1);
          else client.destroy();
        });
        upstream.once('connect', () => {
          const key = `${b.host}:${b.port}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
          open.add(upstream);
          upstream.once('close', () => {
            open.delete(upstream);
            client.destroy();
          });
          client.once('close', () => upstream.destroy());
          upstream.write(first);
          client.pipe(upstream);
          upstream.pipe(client);
          client.resume();
        });
      };
      attempt(0);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : port;
      resolve({
        port: bound,
        url: `http://${host}:${bound}`,
        counts,
        close: () =>
          new Promise<void>((done) => {
            for (const s of open) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
  return h;
}
