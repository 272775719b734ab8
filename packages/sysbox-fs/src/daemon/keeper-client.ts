// sysbox-fs's side of the fd keeper (keeper-process.ts): find or start it, hand it fds, take
// them back after a restart.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import * as native from '@sysbox/native';
import { onLines } from './lines.js';

export class Keeper {
  private waiting: Array<(line: string) => void> = [];

  pid = 0;

  private constructor(private readonly conn: net.Socket) {
    onLines(conn, (line) => this.waiting.shift()?.(line));
  }

  /** Connects to a running keeper; undefined if none answers on socket. */
  static async connect(socket: string): Promise<Keeper | undefined> {
    const conn = await new Promise<net.Socket | undefined>((resolve) => {
      const c = net.connect(socket);
      c.once('connect', () => resolve(c));
      c.once('error', () => resolve(undefined));
    });
    if (!conn) return undefined;
    const k = new Keeper(conn);
    k.pid = Number((await k.ok('pid')).split(' ')[1]);
    return k;
  }

  /**
   * Starts a keeper (detached: its own session, surviving us) and connects to it. Its argv[0] is
   * `name`, so `pidof` finds it by that name while its flags stay separate words in its cmdline.
   */
  static async start(socket: string, argv: readonly string[], name: string): Promise<Keeper> {
    fs.rmSync(socket, { force: true });
    const child = spawn(process.execPath, [...argv], { argv0: name, detached: true, stdio: 'ignore' });
    child.unref();
    for (let i = 0; i < 100; i++) {
      const k = await Keeper.connect(socket);
      if (k) return k;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`the fd keeper did not start on ${socket}`);
  }

  private line(cmd: string): Promise<string> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.conn.write(`${cmd}\n`);
    });
  }

  private async ok(cmd: string): Promise<string> {
    const reply = await this.line(cmd);
    if (!reply.startsWith('ok')) throw new Error(`fd keeper: ${cmd}: ${reply}`);
    return reply;
  }

  /** Gives the keeper a copy of our fd under name. */
  async keep(name: string, fd: number): Promise<void> {
    await this.ok(`take ${process.pid} ${fd} ${name}`);
  }

  /** Has the keeper own the FUSE rings of the kept connection and arena (keeper-process.ts). */
  async holdRings(): Promise<void> {
    await this.ok('hold-rings');
  }

  async drop(name: string): Promise<void> {
    await this.ok(`drop ${name}`);
  }

  /** Copies of every fd the keeper holds, by name. */
  async takeBack(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const lines: string[] = [];
    await new Promise<void>((resolve) => {
      const onLine = (l: string): void => {
        if (l === 'end') return resolve();
        lines.push(l);
        this.waiting.unshift(onLine);
      };
      this.waiting.push(onLine);
      this.conn.write('list\n');
    });
    for (const l of lines) {
      const [name, fd] = l.split(' ');
      out.set(name, native.pidfdGetfd(this.pid, Number(fd)));
    }
    return out;
  }

  async quit(): Promise<void> {
    await this.ok('quit');
    this.conn.destroy();
  }
}
