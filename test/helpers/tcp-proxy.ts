/**
 * A cuttable TCP proxy in front of a real server (RabbitMQ, PostgreSQL): `cut()` closes
 * the listener and destroys every connection through it, as a network loss or a server
 * restart would; `listen()` again brings it back on the same port.
 */
import net from 'node:net';

export interface TcpProxy {
  /** Starts (or restarts) listening; resolves with the port (the same one every time). */
  listen(): Promise<number>;
  cut(): Promise<void>;
  /** Stops forwarding on the open connections (a stalled network): nothing passes until cut. */
  hold(): void;
  /** Connections currently open through the proxy. */
  connections(): number;
}

export function tcpProxy(target: { host: string; port: number }): TcpProxy {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  return {
    listen() {
      server = net.createServer((client) => {
        const up = net.connect(target.port, target.host);
        for (const s of [client, up]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => {
            client.destroy();
            up.destroy();
          });
        }
        client.pipe(up);
        up.pipe(client);
      });
      return new Promise((resolve) =>
        server!.listen(port, '127.0.0.1', () => {
          const a = server!.address();
          port = typeof a === 'object' && a ? a.port : 0;
          resolve(port);
        }),
      );
    },
    async cut() {
      await new Promise<void>((resolve) => {
        if (!server) return resolve();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
    hold() {
      for (const s of sockets) s.pause();
    },
    connections: () => sockets.size / 2,
  };
}

/** The same URL, through the proxy's port. */
export function viaPort(url: string, port: number): string {
  const u = new URL(url);
  u.port = String(port);
  return u.toString();
}
