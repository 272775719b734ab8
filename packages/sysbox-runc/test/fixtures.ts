// A spec shaped like the one Docker 20.10 hands a runtime (captured on this machine, trimmed), and
// a bundle the launcher tests create containers from.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Spec } from '../src/spec/oci.js';

/**
 * An OCI bundle at dir: the host's static busybox as its rootfs, `runtime spec`'s config.json
 * running `busybox sleep 60` without a terminal.
 */
export function busyboxBundle(dir: string, runtime: string): string {
  fs.mkdirSync(path.join(dir, 'rootfs', 'bin'), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(dir, 'rootfs', 'bin', 'busybox'));
  fs.chmodSync(path.join(dir, 'rootfs', 'bin', 'busybox'), 0o755);
  execFileSync(runtime, ['spec'], { cwd: dir });
  const spec = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { process: { terminal: boolean; args: string[] } };
  spec.process.terminal = false;
  spec.process.args = ['/bin/busybox', 'sleep', '60'];
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
  return dir;
}

/** test/lib/crun-logged.sh copied into dir as crun-logged: crun, each call's arguments logged to dir/calls. */
export function crunLogged(dir: string): { crun: string; calls: string } {
  const crun = path.join(dir, 'crun-logged');
  fs.copyFileSync(path.resolve(__dirname, '..', '..', '..', '..', 'test', 'lib', 'crun-logged.sh'), crun);
  fs.chmodSync(crun, 0o755);
  return { crun, calls: path.join(dir, 'calls') };
}

export function dockerLikeSpec(): Spec {
  return {
    ociVersion: '1.0.2-dev',
    process: {
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      cwd: '/',
      capabilities: { bounding: ['CAP_CHOWN', 'CAP_KILL'], effective: ['CAP_CHOWN', 'CAP_KILL'], permitted: ['CAP_CHOWN', 'CAP_KILL'] },
      apparmorProfile: 'docker-default',
    },
    root: { path: '/var/lib/docker/overlay2/abc/merged' },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/etc/resolv.conf', type: 'bind', source: '/var/lib/docker/containers/abc/resolv.conf', options: ['rbind', 'rprivate'] },
      { destination: '/data', source: '/srv/data', options: ['rbind', 'ro'] },
    ],
    linux: {
      namespaces: [{ type: 'mount' }, { type: 'network' }, { type: 'uts' }, { type: 'pid' }, { type: 'ipc' }],
      sysctl: { 'net.ipv4.ip_unprivileged_port_start': '0', 'net.ipv4.ping_group_range': '0 2147483647' },
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      maskedPaths: ['/proc/kcore', '/sys/firmware'],
      readonlyPaths: ['/proc/bus', '/proc/sys', '/proc/sysrq-trigger'],
      seccomp: {
        defaultAction: 'SCMP_ACT_ERRNO',
        syscalls: [
          { names: ['read', 'write', 'clone'], action: 'SCMP_ACT_ALLOW' },
          { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }] },
          { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
        ],
      },
    },
  };
}
