// Generated from proto/sysboxmgr.proto by scripts/gen-proto.mjs. Do not edit.
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
  subidPoolStart?: number;
  subidPoolSize?: number;
  subidRangesFree?: number;
  dataRoot?: string;
}

export interface RegisterRequest {
  id?: string;
  bundle?: string;
}

export interface RegisterReply {
  runDir?: string;
}

export interface IdMapping {
  containerId?: number;
  hostId?: number;
  size?: number;
}

export interface SubidAllocRequest {
  id?: string;
  size?: number;
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
}

export interface SubidAllocReply {
  uid?: number;
  gid?: number;
  size?: number;
}

export interface BindSource {
  source?: string;
}

export interface PrepareMountsRequest {
  id?: string;
  rootfs?: string;
  binds?: BindSource[];
  noShift?: boolean;
}

export interface PrepareMountsReply {
  rootfs?: string;
  bindSources?: string[];
}

export interface ContainerInfo {
  id?: string;
  uid?: number;
  gid?: number;
  size?: number;
  state?: string;
  mounts?: string[];
  rootfs?: string;
}

export interface ListContainersReply {
  containers?: ContainerInfo[];
}

export const schemas: Record<string, MessageSchema> = {
  Empty: [],
  ContainerRef: [[1, 'id', 'string', false, undefined]],
  StatusRequest: [],
  StatusReply: [[1, 'version', 'string', false, undefined], [2, 'pid', 'int32', false, undefined], [3, 'containers', 'uint32', false, undefined], [4, 'subidPoolStart', 'uint64', false, undefined], [5, 'subidPoolSize', 'uint64', false, undefined], [6, 'subidRangesFree', 'uint64', false, undefined], [7, 'dataRoot', 'string', false, undefined]],
  RegisterRequest: [[1, 'id', 'string', false, undefined], [2, 'bundle', 'string', false, undefined]],
  RegisterReply: [[1, 'runDir', 'string', false, undefined]],
  IdMapping: [[1, 'containerId', 'uint32', false, undefined], [2, 'hostId', 'uint32', false, undefined], [3, 'size', 'uint32', false, undefined]],
  SubidAllocRequest: [[1, 'id', 'string', false, undefined], [2, 'size', 'uint32', false, undefined], [3, 'uidMappings', 'message', true, 'IdMapping'], [4, 'gidMappings', 'message', true, 'IdMapping']],
  SubidAllocReply: [[1, 'uid', 'uint32', false, undefined], [2, 'gid', 'uint32', false, undefined], [3, 'size', 'uint32', false, undefined]],
  BindSource: [[1, 'source', 'string', false, undefined]],
  PrepareMountsRequest: [[1, 'id', 'string', false, undefined], [2, 'rootfs', 'string', false, undefined], [3, 'binds', 'message', true, 'BindSource'], [4, 'noShift', 'bool', false, undefined]],
  PrepareMountsReply: [[1, 'rootfs', 'string', false, undefined], [2, 'bindSources', 'string', true, undefined]],
  ContainerInfo: [[1, 'id', 'string', false, undefined], [2, 'uid', 'uint32', false, undefined], [3, 'gid', 'uint32', false, undefined], [4, 'size', 'uint32', false, undefined], [5, 'state', 'string', false, undefined], [6, 'mounts', 'string', true, undefined], [7, 'rootfs', 'string', false, undefined]],
  ListContainersReply: [[1, 'containers', 'message', true, 'ContainerInfo']],
};

export const SysboxMgrService = 'sysbox.mgr.v1.SysboxMgr';
export const SysboxMgrMethods = {
  status: { path: '/sysbox.mgr.v1.SysboxMgr/Status', request: 'StatusRequest', response: 'StatusReply' },
  register: { path: '/sysbox.mgr.v1.SysboxMgr/Register', request: 'RegisterRequest', response: 'RegisterReply' },
  subidAlloc: { path: '/sysbox.mgr.v1.SysboxMgr/SubidAlloc', request: 'SubidAllocRequest', response: 'SubidAllocReply' },
  prepareMounts: { path: '/sysbox.mgr.v1.SysboxMgr/PrepareMounts', request: 'PrepareMountsRequest', response: 'PrepareMountsReply' },
  pause: { path: '/sysbox.mgr.v1.SysboxMgr/Pause', request: 'ContainerRef', response: 'Empty' },
  resume: { path: '/sysbox.mgr.v1.SysboxMgr/Resume', request: 'ContainerRef', response: 'Empty' },
  unregister: { path: '/sysbox.mgr.v1.SysboxMgr/Unregister', request: 'ContainerRef', response: 'Empty' },
  listContainers: { path: '/sysbox.mgr.v1.SysboxMgr/ListContainers', request: 'Empty', response: 'ListContainersReply' },
} as const;

export interface SysboxMgrApi {
  status(request: StatusRequest): Promise<StatusReply>;
  register(request: RegisterRequest): Promise<RegisterReply>;
  subidAlloc(request: SubidAllocRequest): Promise<SubidAllocReply>;
  prepareMounts(request: PrepareMountsRequest): Promise<PrepareMountsReply>;
  pause(request: ContainerRef): Promise<Empty>;
  resume(request: ContainerRef): Promise<Empty>;
  unregister(request: ContainerRef): Promise<Empty>;
  listContainers(request: Empty): Promise<ListContainersReply>;
}

export const descriptor: Record<string, unknown> = {"nested":{"sysbox":{"nested":{"mgr":{"nested":{"v1":{"nested":{"SysboxMgr":{"methods":{"Status":{"requestType":"StatusRequest","responseType":"StatusReply"},"Register":{"requestType":"RegisterRequest","responseType":"RegisterReply"},"SubidAlloc":{"requestType":"SubidAllocRequest","responseType":"SubidAllocReply"},"PrepareMounts":{"requestType":"PrepareMountsRequest","responseType":"PrepareMountsReply"},"Pause":{"requestType":"ContainerRef","responseType":"Empty"},"Resume":{"requestType":"ContainerRef","responseType":"Empty"},"Unregister":{"requestType":"ContainerRef","responseType":"Empty"},"ListContainers":{"requestType":"Empty","responseType":"ListContainersReply"}}},"Empty":{"fields":{}},"ContainerRef":{"fields":{"id":{"type":"string","id":1}}},"StatusRequest":{"fields":{}},"StatusReply":{"fields":{"version":{"type":"string","id":1},"pid":{"type":"int32","id":2},"containers":{"type":"uint32","id":3},"subidPoolStart":{"type":"uint64","id":4},"subidPoolSize":{"type":"uint64","id":5},"subidRangesFree":{"type":"uint64","id":6},"dataRoot":{"type":"string","id":7}}},"RegisterRequest":{"fields":{"id":{"type":"string","id":1},"bundle":{"type":"string","id":2}}},"RegisterReply":{"fields":{"runDir":{"type":"string","id":1}}},"IdMapping":{"fields":{"containerId":{"type":"uint32","id":1},"hostId":{"type":"uint32","id":2},"size":{"type":"uint32","id":3}}},"SubidAllocRequest":{"fields":{"id":{"type":"string","id":1},"size":{"type":"uint32","id":2},"uidMappings":{"rule":"repeated","type":"IdMapping","id":3},"gidMappings":{"rule":"repeated","type":"IdMapping","id":4}}},"SubidAllocReply":{"fields":{"uid":{"type":"uint32","id":1},"gid":{"type":"uint32","id":2},"size":{"type":"uint32","id":3}}},"BindSource":{"fields":{"source":{"type":"string","id":1}}},"PrepareMountsRequest":{"fields":{"id":{"type":"string","id":1},"rootfs":{"type":"string","id":2},"binds":{"rule":"repeated","type":"BindSource","id":3},"noShift":{"type":"bool","id":4}}},"PrepareMountsReply":{"fields":{"rootfs":{"type":"string","id":1},"bindSources":{"rule":"repeated","type":"string","id":2}}},"ContainerInfo":{"fields":{"id":{"type":"string","id":1},"uid":{"type":"uint32","id":2},"gid":{"type":"uint32","id":3},"size":{"type":"uint32","id":4},"state":{"type":"string","id":5},"mounts":{"rule":"repeated","type":"string","id":6},"rootfs":{"type":"string","id":7}}},"ListContainersReply":{"fields":{"containers":{"rule":"repeated","type":"ContainerInfo","id":1}}}}}}}}}}};
