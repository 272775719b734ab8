// Unary gRPC client over HTTP/2 on a unix socket, built on node:http2 and wire.ts.
// Used by sysbox-runc, which runs several times per `docker run` and must not pay for grpc-js.
import fs from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import { decode, encode, type Message, type MessageSchema } from './wire.js';

export const GrpcStatus = {
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5,
  ALREADY_EXISTS: 6, PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9,
  ABORTED: 10, OUT_OF_RANGE: 11, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14,
} as const;

const statusNames = new Map<number, string>(Object.entries(GrpcStatus).map(([k, v]) => [v, k]));

export class GrpcError extends Error {
  /**
   * lostMidCall: the server was reached and then went away before answering (it died or stopped
   * while handling the request), so whether the request took effect is unknown.
   */
  constructor(readonly code: number, readonly details: string, readonly method: string, readonly lostMidCall = false) {
    super(`${method}: ${statusNames.get(code) ?? `status ${code}`}: ${details}`);
  }
}

export interface MethodSpec { readonly path: string; readonly request: string; readonly response: string }

/**
 * Connection errors that mean the request never reached a server: safe to send again. ECONNRESET
 * while connecting: the socket's daemon is dying (killed, its listening socket not yet closed).
 */
const NOT_LISTENING = new Set(['ENOENT', 'ECONNREFUSED', 'ECONNRESET']);

/**
 * How long a call waits for a daemon whose socket is gone while its run dir is there: the daemon is
 * restarting (`systemctl restart sysbox` removes the socket and makes it anew within a second or two),
 * so `docker run` issued meanwhile waits instead of failing. No run dir: the daemon was never started
 * here, and the call fails at once.
 */
export const RESTART_WAIT_MS = 10_000;

export class UnaryClient {
  private session: http2.ClientHttp2Session | undefined;
  /** Code of the last session's connection error (ENOENT, ECONNREFUSED...). */
  private connectError: string | undefined;
  /** The last session reached the server. */
  private connected = false;

  constructor(
    private readonly socketPath: string,
    private readonly schemas: Record<string, MessageSchema>,
    private readonly timeoutMs = 30_000,
    private readonly restartWaitMs = RESTART_WAIT_MS,
  ) {}

  /** Opens the connection now (it is otherwise opened by the first call). */
  connect(): http2.ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const session = http2.connect('http://localhost', {
      createConnection: () => net.connect(this.socketPath),
    });
    // Connection errors surface on the request; an unhandled session 'error' would crash the CLI.
    this.connectError = undefined;
    this.connected = false;
    session.on('error', (err: NodeJS.ErrnoException) => { this.connectError = err.code; });
    session.once('connect', () => { this.connected = true; });
    this.session = session;
    return session;
  }

  async call(method: MethodSpec, request: Message): Promise<Message> {
    const deadline = Date.now() + this.restartWaitMs;
    for (;;) {
      try {
        return await this.callOnce(method, request);
      } catch (err) {
        const restarting = err instanceof GrpcError && err.code === GrpcStatus.UNAVAILABLE && !err.lostMidCall
          && NOT_LISTENING.has(this.connectError ?? '') && fs.existsSync(path.dirname(this.socketPath));
        if (!restarting) throw err;
        if (Date.now() >= deadline) {
          throw new GrpcError(err.code, `${err.details} (waited ${this.restartWaitMs / 1000} s for it to come back)`, method.path);
        }
        this.close();
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private callOnce(method: MethodSpec, request: Message): Promise<Message> {
    return new Promise((resolve, reject) => {
      let session: http2.ClientHttp2Session;
      try {
        session = this.connect();
      } catch (err) {
        reject(new GrpcError(GrpcStatus.UNAVAILABLE, (err as Error).message, method.path));
        return;
      }
      const body = encode(this.schemas, method.request, request);
      const frame = Buffer.alloc(5 + body.length);
      frame.writeUInt8(0, 0);
      frame.writeUInt32BE(body.length, 1);
      frame.set(body, 5);
      const stream = session.request({
        ':method': 'POST',
        ':path': method.path,
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      stream.setTimeout(this.timeoutMs, () => {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        reject(new GrpcError(GrpcStatus.DEADLINE_EXCEEDED, `no answer within ${this.timeoutMs} ms`, method.path));
      });
      const chunks: Buffer[] = [];
      let status: number | undefined;
      let details = '';
      const takeStatus = (h: http2.IncomingHttpHeaders): void => {
        const s = h['grpc-status'];
        if (s !== undefined) {
          status = Number(s);
          details = decodeURIComponent(String(h['grpc-message'] ?? ''));
        }
      };
      stream.on('response', takeStatus);
      stream.on('trailers', takeStatus);
      stream.on('data', (c: Buffer) => chunks.push(c));
      const unavailable = (details: string): GrpcError => {
        const lost = this.connected;
        // A broken session is not reused: a call made again connects anew (to a restarted server).
        if (this.session === session) {
          session.destroy();
          this.session = undefined;
        }
        return new GrpcError(GrpcStatus.UNAVAILABLE, details, method.path, lost);
      };
      stream.on('error', (err: Error) => {
        reject(unavailable(err.message));
      });
      // Everything is known once the trailers and the end of data are in: settle then rather than on
      // 'close', which comes a few ms later (one more turn of the HTTP/2 machinery).
      let settled = false;
      const settle = (): void => {
        if (settled) return;
        settled = true;
        if (status === undefined) {
          reject(unavailable('connection closed without a status'));
          return;
        }
        if (status !== GrpcStatus.OK) {
          reject(new GrpcError(status, details, method.path));
          return;
        }
        const data = Buffer.concat(chunks);
        if (data.length < 5) {
          reject(new GrpcError(GrpcStatus.INTERNAL, 'empty response message', method.path));
          return;
        }
        const len = data.readUInt32BE(1);
        try {
          resolve(decode(this.schemas, method.response, data.subarray(5, 5 + len)));
        } catch (err) {
          reject(new GrpcError(GrpcStatus.INTERNAL, `bad response: ${(err as Error).message}`, method.path));
        }
      };
      stream.on('end', () => { if (status !== undefined) settle(); });
      stream.on('close', settle);
      stream.resume();
      stream.end(frame);
    });
  }

  close(): void {
    this.session?.close();
    this.session = undefined;
  }
}

/** A typed client object, already connecting: one async function per method of the service. */
export function makeClient<Api>(socketPath: string, schemas: Record<string, MessageSchema>, methods: Record<string, MethodSpec>, timeoutMs?: number): Api & { close(): void } {
  const client = new UnaryClient(socketPath, schemas, timeoutMs);
  client.connect();
  const api: Record<string, unknown> = { close: () => client.close() };
  for (const [name, spec] of Object.entries(methods)) {
    api[name] = (req: Message) => client.call(spec, req);
  }
  return api as Api & { close(): void };
}
