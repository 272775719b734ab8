// The fd keeper: a tiny process that holds sysbox-fs's /dev/fuse connection and seccomp notify
// fds so they outlive sysbox-fs itself. While any process holds a /dev/fuse fd, the kernel keeps
// the connection (and every container's bind of it) alive; a restarted sysbox-fs copies the fds
// back with pidfd_getfd and carries on: reads inside containers never see "Transport endpoint is
// not connected". It takes fds the same way (pidfd_getfd from sysbox-fs), so the control channel
// is a plain line protocol on a unix socket:
//   take PID FD NAME → "ok KEPTFD"   drop NAME → "ok"   list → "NAME FD"... "end"   quit → "ok", exit
//   hold-rings → "ok": serve the FUSE io_uring queues of the kept connection ("fuse") from the kept
//   ring arena ("fuse-rings"): a ring's requests die with the process that owns it, and this one
//   outlives sysbox-fs (native fuse-uring.cc).
import fs from 'node:fs';
import net from 'node:net';
import { setComm } from '@sysbox/common/daemon/identity';
import * as native from '@sysbox/native';
import { onLines } from './lines.js';

/** The keeper's process name (argv[0]; its comm is the first 15 bytes, `sysbox-fs-keepe`). */
export const KEEPER_NAME = 'sysbox-fs-keeper';

export function runKeeper(socket: string): void {
  setComm(KEEPER_NAME);
  const fds = new Map<string, number>();
  /** The inode of the ring arena whose rings this process holds. */
  let heldArena: number | undefined;
  const close = (name: string): void => {
    const fd = fds.get(name);
    if (fd !== undefined) fs.closeSync(fd);
    fds.delete(name);
  };
  const answer = (line: string): string => {
    const [cmd, ...args] = line.trim().split(' ');
    switch (cmd) {
      case 'take': {
        const [pid, fd, name] = args;
        const kept = native.pidfdGetfd(Number(pid), Number(fd));
        close(name);
        fds.set(name, kept);
        return `ok ${kept}`;
      }
      case 'hold-rings': {
        const fuse = fds.get('fuse');
        const arena = fds.get('fuse-rings');
        if (fuse === undefined || arena === undefined) return 'error hold-rings needs the kept fds "fuse" and "fuse-rings"';
        // Once per process: the arena's fixed address is taken by the first one held.
        const ino = fs.fstatSync(arena).ino;
        if (heldArena !== undefined && heldArena !== ino) return 'error this keeper holds the rings of an earlier connection';
        native.uringHold(fuse, native.uringArena(arena).base);
        heldArena = ino;
        return 'ok';
      }
      case 'drop':
        close(args[0]);
        return 'ok';
      case 'list':
        return [...[...fds].map(([n, fd]) => `${n} ${fd}`), 'end'].join('\n');
      case 'pid':
        return `ok ${process.pid}`;
      case 'quit':
        setImmediate(() => {
          for (const n of [...fds.keys()]) close(n);
          fs.rmSync(socket, { force: true });
          fs.rmSync(`${socket}.pid`, { force: true });
          process.exit(0);
        });
        return 'ok';
      default:
        return `error unknown command ${JSON.stringify(cmd)}`;
    }
  };
  fs.rmSync(socket, { force: true });
  const server = net.createServer((conn) => {
    onLines(conn, (line) => {
      let reply: string;
      try {
        reply = answer(line);
      } catch (e) {
        reply = `error ${(e as Error).message}`;
      }
      conn.write(`${reply}\n`);
    });
  });
  server.listen(socket, () => {
    fs.chmodSync(socket, 0o600);
    // Beside the socket, so whoever stops sysbox-fs for good can find the keeper by pid.
    fs.writeFileSync(`${socket}.pid`, `${process.pid}\n`);
  });
  // Signals that would end an ordinary daemon must not drop the connections it keeps; only "quit" does.
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => {});
}
