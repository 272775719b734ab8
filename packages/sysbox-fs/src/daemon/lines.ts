// The fd keeper's control channel speaks newline-terminated lines both ways.
import type net from 'node:net';

/** Calls onLine for every complete line the socket receives. */
export function onLines(conn: net.Socket, onLine: (line: string) => void): void {
  let buf = '';
  conn.setEncoding('utf8');
  conn.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      onLine(line);
    }
  });
  conn.on('error', () => {});
}
