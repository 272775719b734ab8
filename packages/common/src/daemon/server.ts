// grpc-js server on a unix socket: mode 0600 inside a 0700 dir, refuses to start over a live peer.
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { socketAnswers } from './identity.js';

/** Answers at once, or with a promise when it must wait for something outside the event loop. */
export type Handler = (request: Record<string, unknown>) => unknown;

/** Errors carrying a gRPC `code` keep it; anything else becomes INTERNAL. */
function toStatus(err: unknown): grpc.ServiceError {
  const e = err as Error & { code?: unknown };
  const code = typeof e.code === 'number' ? e.code : grpc.status.INTERNAL;
  return Object.assign(new Error(e.message), { code, details: e.message, metadata: new grpc.Metadata() }) as grpc.ServiceError;
}

export async function serve(opts: {
  socket: string;
  descriptor: Record<string, unknown>;
  service: string;
  handlers: Record<string, Handler>;
  onError: (method: string, err: unknown) => void;
  /** Called before each handler (the daemon's activity, e.g. for releasing memory when quiet). */
  onCall?: (method: string) => void;
}): Promise<grpc.Server> {
  const dir = path.dirname(opts.socket);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  if (await socketAnswers(opts.socket)) throw new Error(`another server is already listening on ${opts.socket}`);
  fs.rmSync(opts.socket, { force: true });

  const def = protoLoader.fromJSON(opts.descriptor, { longs: Number, enums: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(def);
  const ctor = opts.service.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], pkg) as grpc.ServiceClientConstructor;
  const impl: grpc.UntypedServiceImplementation = {};
  for (const [name, fn] of Object.entries(opts.handlers)) {
    impl[name] = (call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      const fail = (err: unknown): void => {
        opts.onError(name, err);
        cb(toStatus(err));
      };
      try {
        opts.onCall?.(name);
        const reply = fn(call.request);
        // A handler that waits (for a child process) answers when done; others meanwhile run.
        if (reply instanceof Promise) reply.then((r) => cb(null, r), fail);
        else cb(null, reply);
      } catch (err) {
        fail(err);
      }
    };
  }
  const server = new grpc.Server();
  server.addService(ctor.service, impl);
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix://${opts.socket}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve()));
  });
  fs.chmodSync(opts.socket, 0o600);
  return server;
}
