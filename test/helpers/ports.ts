// Free loopback ports for tests that start servers, so tests never collide with a running collector.
//
// The port is checked free and released, and the child process binds it moments later. A port from the
// kernel's ephemeral range (what listen(0) hands out) can be taken in between as the local end of one of
// the suite's own outgoing connections (Kafka, Redis, Jaeger clients): the child then fails with
// EADDRINUSE. So ports come from below that range, where the kernel never picks source ports (low enough
// that a Redis Cluster node's bus port, port + 10000, is below it too), and one process never hands out the
// same port twice.

import fs from 'node:fs';
import net from 'node:net';

/** Lowest port handed out: above the fixed ports of the stack and of the collector's defaults. */
const FIRST_PORT = 20_000;

/** ephemeralLow is the first port of the kernel's range for outgoing connections (Linux; 32768 elsewhere). */
function ephemeralLow(): number {
  try {
    const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** Highest port handed out: its Redis Cluster bus port (+10000) is still below the ephemeral range. */
const LAST_PORT = ephemeralLow() - 10_001;
const handedOut = new Set<number>();

/** canListen tells whether 127.0.0.1:port can be bound now. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** osPort asks the OS for a free port (the fallback when there is no room below the ephemeral range). */
function osPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** freePort returns a TCP port on 127.0.0.1 that is free now and was not handed out before in this process. */
export async function freePort(): Promise<number> {
  if (LAST_PORT - FIRST_PORT < 1000) return osPort();
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = FIRST_PORT + Math.floor(Math.random() * (LAST_PORT - FIRST_PORT + 1));
    if (handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port on 127.0.0.1 in ${FIRST_PORT}-${LAST_PORT} after 500 tries`);
}
