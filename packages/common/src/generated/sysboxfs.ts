// Generated from proto/sysboxfs.proto by scripts/gen-proto.mjs. Do not edit.
import type { MessageSchema } from '../grpc-lite/wire.js';

export interface Empty {
}

export interface ContainerRef {
  id?: string;
}

export interface StatusRequest {
}

export interface StatusReply {
  version?: string;
  pid?: number;
  containers?: number;
}

export interface PreRegisterRequest {
  id?: string;
  uid?: number;
  gid?: number;
  size?: number;
}

export interface RegisterRequest {
  id?: string;
  initPid?: number;
  memoryLimit?: number;
  cpusetCpus?: string;
  cpuQuota?: number;
  cpuPeriod?: number;
}

export interface RegisterReply {
  mounts?: Record<string, string>;
}

export const schemas: Record<string, MessageSchema> = {
  Empty: [],
  ContainerRef: [[1, 'id', 'string', false, undefined]],
  StatusRequest: [],
  StatusReply: [[1, 'version', 'string', false, undefined], [2, 'pid', 'int32', false, undefined], [3, 'containers', 'uint32', false, undefined]],
  PreRegisterRequest: [[1, 'id', 'string', false, undefined], [2, 'uid', 'uint32', false, undefined], [3, 'gid', 'uint32', false, undefined], [4, 'size', 'uint32', false, undefined]],
  RegisterRequest: [[1, 'id', 'string', false, undefined], [2, 'initPid', 'int32', false, undefined], [3, 'memoryLimit', 'uint64', false, undefined], [4, 'cpusetCpus', 'string', false, undefined], [5, 'cpuQuota', 'int64', false, undefined], [6, 'cpuPeriod', 'uint64', false, undefined]],
  RegisterReply: [[1, 'mounts', 'map', false, 'string:string']],
};

export const SysboxFsService = 'sysbox.fs.v1.SysboxFs';
export const SysboxFsMethods = {
  status: { path: '/sysbox.fs.v1.SysboxFs/Status', request: 'StatusRequest', response: 'StatusReply' },
  preRegister: { path: '/sysbox.fs.v1.SysboxFs/PreRegister', request: 'PreRegisterRequest', response: 'Empty' },
  register: { path: '/sysbox.fs.v1.SysboxFs/Register', request: 'RegisterRequest', response: 'RegisterReply' },
  unregister: { path: '/sysbox.fs.v1.SysboxFs/Unregister', request: 'ContainerRef', response: 'Empty' },
} as const;

export interface SysboxFsApi {
  status(request: StatusRequest): Promise<StatusReply>;
  preRegister(request: PreRegisterRequest): Promise<Empty>;
  register(request: RegisterRequest): Promise<RegisterReply>;
  unregister(request: ContainerRef): Promise<Empty>;
}

export const descriptor: Record<string, unknown> = {"nested":{"sysbox":{"nested":{"fs":{"nested":{"v1":{"nested":{"SysboxFs":{"methods":{"Status":{"requestType":"StatusRequest","responseType":"StatusReply"},"PreRegister":{"requestType":"PreRegisterRequest","responseType":"Empty"},"Register":{"requestType":"RegisterRequest","responseType":"RegisterReply"},"Unregister":{"requestType":"ContainerRef","responseType":"Empty"}}},"Empty":{"fields":{}},"ContainerRef":{"fields":{"id":{"type":"string","id":1}}},"StatusRequest":{"fields":{}},"StatusReply":{"fields":{"version":{"type":"string","id":1},"pid":{"type":"int32","id":2},"containers":{"type":"uint32","id":3}}},"PreRegisterRequest":{"fields":{"id":{"type":"string","id":1},"uid":{"type":"uint32","id":2},"gid":{"type":"uint32","id":3},"size":{"type":"uint32","id":4}}},"RegisterRequest":{"fields":{"id":{"type":"string","id":1},"initPid":{"type":"int32","id":2},"memoryLimit":{"type":"uint64","id":3},"cpusetCpus":{"type":"string","id":4},"cpuQuota":{"type":"int64","id":5},"cpuPeriod":{"type":"uint64","id":6}}},"RegisterReply":{"fields":{"mounts":{"keyType":"string","type":"string","id":1}}}}}}}}}}};
