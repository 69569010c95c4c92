// Free loopback ports for the processes a benchmark run starts (never the stack's or the defaults).

import net from 'node:net';

export { freePort } from '../../test/helpers/ports';

/** portOpen is true when something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}
