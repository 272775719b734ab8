// A CRI client for containerd's CRI plugin (the calls kubelet makes), over containerd's own socket:
// enough to start a pod sandbox with a runtime handler, as a RuntimeClass selects it.
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { REPO } from './env.js';

export interface PodSandbox { name: string; uid: string; namespace: string }

export interface CriClient {
  version(): Promise<{ runtimeName: string; runtimeApiVersion: string }>;
  /** The sandbox id; rejects with the CRI plugin's error (grpc details) as the message. */
  runPodSandbox(pod: PodSandbox, runtimeHandler: string): Promise<string>;
  close(): void;
}

type Callback<T> = (err: grpc.ServiceError | null, reply: T) => void;
type Rpc = (req: object, deadline: { deadline: number }, cb: Callback<Record<string, string>>) => void;

export function criClient(socket: string): CriClient {
  const def = protoLoader.loadSync(path.join(REPO, 'test', 'lib', 'cri-runtime-subset.proto'), { keepCase: false, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { runtime: { v1: { RuntimeService: grpc.ServiceClientConstructor } } };
  const client = new pkg.runtime.v1.RuntimeService(`unix://${socket}`, grpc.credentials.createInsecure());
  const call = (method: string, req: object): Promise<Record<string, string>> => new Promise((resolve, reject) => {
    (client[method] as Rpc).call(client, req, { deadline: Date.now() + 60_000 }, (err, reply) => {
      if (err) reject(new Error(err.details || err.message));
      else resolve(reply);
    });
  });
  return {
    async version() {
      const r = await call('Version', { version: 'v1' });
      return { runtimeName: r.runtimeName ?? '', runtimeApiVersion: r.runtimeApiVersion ?? '' };
    },
    async runPodSandbox(pod, runtimeHandler) {
      const r = await call('RunPodSandbox', { config: { metadata: { ...pod, attempt: 0 }, hostname: pod.name }, runtimeHandler });
      return r.podSandboxId ?? '';
    },
    close() { client.close(); },
  };
}
