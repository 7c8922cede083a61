import type http from 'node:http';
import net from 'node:net';

/** A TCP port free on loopback right now (the caller binds it soon after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Listening and closing for a test's own HTTP server on loopback: `close` ends its open (keep-alive) connections too,
 * so a test never waits for a browser's idle socket; `listen` may be called again after `close` (an IdP going down
 * and coming back on its port).
 */
export function loopbackServer(server: http.Server, port: number): { listen: () => Promise<void>; close: () => Promise<void> } {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return {
    listen: () =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
