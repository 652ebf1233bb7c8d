import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * The per-address connection cap of docs/http.md "Limits": a client address holding `perAddress` connections has
 * its next one closed at once, so one address cannot use up the process's descriptors and shut out everyone else.
 * Behind a proxy all connections come from the proxy's address: raise the cap to the global one there.
 * The global cap is node's own `maxConnections` (node closes the connection before any event).
 */
export function capConnections(server: Server, perAddress: number, maxConnections: number): void {
  server.maxConnections = maxConnections;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const count = open.get(address) ?? 0;
    if (count >= perAddress) {
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left === 0) open.delete(address);
      else open.set(address, left);
    });
  });
}
