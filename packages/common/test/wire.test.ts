// The hand-rolled codec must agree byte for byte with protobufjs (what grpc-js uses on the server).
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { schemas } from '../src/generated/sysboxmgr.js';
import { decode, encode } from '../src/grpc-lite/wire.js';

const root = protobuf.loadSync(path.resolve(__dirname, '../../../../proto/sysboxmgr.proto'));
const T = (n: string): protobuf.Type => root.lookupType(`sysbox.mgr.v1.${n}`);

describe('grpc-lite wire codec', () => {
  it('encodes what protobufjs decodes to the same message', () => {
    const msg = {
      id: 'c1', bundle: '/b', rootfs: '/b/rootfs', binds: [{ source: '/etc/hosts', destination: '/etc/hosts' }],
      uidMappings: [{ containerId: 0, hostId: 165536, size: 65536 }], gidMappings: [], specialDirs: ['/var/lib/docker'], configEnv: ['SYSBOX_HONOR_CAPS=TRUE'], netnsPath: '/proc/42/ns/net',
    };
    const t = T('RegisterRequest');
    const back = t.toObject(t.decode(encode(schemas, 'RegisterRequest', msg)), { defaults: true, arrays: true });
    assert.deepEqual(back, msg);
    // proto3 default scalars are left out of the wire, as the spec allows
    assert.equal(Buffer.from(encode(schemas, 'ContainerRef', { id: '' })).length, 0);
  });

  it('decodes what protobufjs encodes, with proto3 defaults filled in', () => {
    const msg = { version: '0.1.0', pid: 42, containers: 3, subidPoolStart: 165536, subidPoolSize: 268435456, subidRangesFree: 4093, dataRoot: '/var/lib/sysbox' };
    const bytes = T('StatusReply').encode(T('StatusReply').fromObject(msg)).finish();
    assert.deepEqual(decode(schemas, 'StatusReply', bytes), msg);
    assert.deepEqual(decode(schemas, 'RegisterReply', new Uint8Array()), { runDir: '', uid: 0, gid: 0, size: 0, rootfs: '', bindSources: [], specialDirSources: [], usernsPid: 0 });
  });

  it('round-trips nested repeated messages and skips unknown fields', () => {
    const list = { containers: [{ id: 'a', uid: 1, gid: 2, size: 3, state: 'running', mounts: ['/x', '/y'], rootfs: '/r', initPid: 4242 }] };
    const bytes = encode(schemas, 'ListContainersReply', list);
    assert.deepEqual(decode(schemas, 'ListContainersReply', bytes), list);
    const withUnknown = Buffer.concat([Buffer.from(encode(schemas, 'ContainerRef', { id: 'z' })), Buffer.from([0x78, 0x05])]);
    assert.deepEqual(decode(schemas, 'ContainerRef', withUnknown), { id: 'z' });
  });

  it('rejects truncated input', () => {
    const bytes = encode(schemas, 'ContainerRef', { id: 'abcdef' });
    assert.throws(() => decode(schemas, 'ContainerRef', bytes.subarray(0, 4)), /truncated/);
  });
});
