// A private containerd for the end-to-end tests: its own config file, root, state dir, socket
// (/run/<test name>-containerd/containerd.sock) and namespace, so it never meets Docker's managed
// containerd or another engineer's. sysbox-runc is reached as the runc shim's runc binary, through
// a two-line wrapper naming the test daemons' sockets (the shim passes no arguments of ours).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  DOCKER, DOCKER_HOST, REPO, TEST_NAME, mountsUnder, pipeDockerSave, processAlive, processesMentioning, run, testSubnetOctet, waitForExit, writeSysboxRuncWrapper,
  type Result,
} from './env.js';

export const CTR = '/usr/bin/ctr';
export const CONTAINERD = '/usr/bin/containerd';
/** The shim every test uses; its `--runc-binary` (or the CRI entry's BinaryName) is sysbox-runc. */
export const RUNC_SHIM = 'io.containerd.runc.v2';
/** The name kubelet's RuntimeClass handler refers to (deploy/kubernetes/runtimeclass.yaml). */
export const CRI_RUNTIME = 'sysbox-runc';

export interface Containerd {
  dir: string;
  socket: string;
  config: string;
  namespace: string;
  /** The wrapper the shim runs as runc: sysbox-runc with the test daemons' sockets. */
  runtime: string;
  /**
   * `ctr run` flags for sysbox-runc: the runc shim, the wrapper as its runc, and a runc state dir
   * of ours (the shim's default is /run/containerd/runc/NAMESPACE, shared with other containerds).
   */
  sysboxFlags: string[];
  pid: number;
  /** `ctr -a SOCKET -n NAMESPACE ARGS`; never throws. */
  ctr(...args: string[]): Promise<Result>;
  /** The same, but must succeed; trimmed stdout. */
  ctrOk(...args: string[]): Promise<string>;
}

/** The pod sandbox ("pause") image of the CRI plugin: busybox sleeping (images/build.sh has none). */
export const PAUSE_IMAGE = 'sysbox/pause:latest';
const PAUSE_IMAGE_REF = `docker.io/${PAUSE_IMAGE}`;
/** CRI's own namespace in containerd: images kubelet's pods use are imported there. */
export const CRI_NAMESPACE = 'k8s.io';
/** Debian's containernetworking-plugins (ptp, host-local). */
const CNI_BIN_DIR = '/usr/lib/cni';

/** The CRI runtime entry this project ships for node operators (docs/kubernetes.md). */
export const CRI_SNIPPET = path.join(REPO, 'deploy', 'kubernetes', 'containerd-sysbox-runc.toml');
export const RUNTIME_CLASS = path.join(REPO, 'deploy', 'kubernetes', 'runtimeclass.yaml');

/**
 * The containerd config the tests run: own paths, the default runc entry, and the shipped CRI
 * snippet as it is but for BinaryName (the tests' sysbox-runc wrapper instead of /usr/bin/sysbox-runc).
 */
export function containerdConfig(dir: string, runtime: string): string {
  const snippet = fs.readFileSync(CRI_SNIPPET, 'utf8');
  if (!snippet.includes('BinaryName = "/usr/bin/sysbox-runc"')) throw new Error(`${CRI_SNIPPET} names no BinaryName /usr/bin/sysbox-runc`);
  return `version = 2
root = "${dir}/root"
state = "${dir}/state"
[grpc]
  address = "${dir}/containerd.sock"
[ttrpc]
  address = "${dir}/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE_REF}"
[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "${CNI_BIN_DIR}"
  conf_dir = "${dir}/cni"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
    Root = "${dir}/cri-runc"
${snippet.replace('BinaryName = "/usr/bin/sysbox-runc"', `BinaryName = "${runtime}"`)}`;
}

export async function startContainerd(): Promise<Containerd> {
  const name = TEST_NAME;
  const dir = `/run/${name}-containerd`;
  await stopLeftover(dir);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const runtime = path.join(dir, 'sysbox-runc');
  writeSysboxRuncWrapper(runtime);
  fs.mkdirSync(path.join(dir, 'cni'));
  // containerd 1.6 wants an address for every sandbox: a point-to-point veth per pod (no bridge to
  // share), addresses from a /24 of 10.214.0.0/16 picked from the name, leases kept in our dir.
  const net = testSubnetOctet(name);
  fs.writeFileSync(path.join(dir, 'cni', '10-pods.conflist'), JSON.stringify({
    cniVersion: '0.4.0', name: `${name}-pods`,
    plugins: [{ type: 'ptp', ipMasq: false, ipam: { type: 'host-local', ranges: [[{ subnet: `10.214.${net}.0/24` }]], dataDir: path.join(dir, 'ipam') } }],
  }));
  const config = path.join(dir, 'config.toml');
  fs.writeFileSync(config, containerdConfig(dir, runtime));
  const socket = path.join(dir, 'containerd.sock');
  const log = fs.openSync(path.join(dir, 'containerd.log'), 'a');
  const child = spawn(CONTAINERD, ['--config', config], { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  fs.closeSync(log);
  const pid = child.pid!;
  fs.writeFileSync(path.join(dir, 'containerd.pid'), String(pid));
  const namespace = name;
  const ctr = (...args: string[]): Promise<Result> => run(CTR, ['-a', socket, '-n', namespace, ...args]);
  const ctrOk = async (...args: string[]): Promise<string> => {
    const r = await ctr(...args);
    if (r.status !== 0) throw new Error(`ctr ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    return r.stdout.trim();
  };
  for (let i = 0; i < 100 && (await ctr('version')).status !== 0; i++) {
    if (!processAlive(pid)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const v = await ctr('version');
  if (v.status !== 0) throw new Error(`containerd did not come up: ${v.stderr}\n${fs.readFileSync(path.join(dir, 'containerd.log'), 'utf8').slice(-3000)}`);
  const sysboxFlags = ['--runtime', RUNC_SHIM, '--runc-binary', runtime, '--runc-root', path.join(dir, 'runc')];
  return { dir, socket, config, namespace, runtime, sysboxFlags, pid, ctr, ctrOk };
}

/** The CRI plugin's sandbox image, built on the test dockerd from busybox (a build without RUN steps needs no network). */
export async function buildPauseImage(): Promise<void> {
  const r = await run('bash', ['-c', `printf 'FROM sysbox/busybox:latest\\nCMD ["sleep", "infinity"]\\n' | "${DOCKER}" -H "${DOCKER_HOST}" build -q -t ${PAUSE_IMAGE} -`]);
  if (r.status !== 0) throw new Error(`building ${PAUSE_IMAGE} failed: ${r.stderr}`);
}

/** Kills every task (SIGKILL), deletes tasks and containers, stops containerd and its shims, unmounts and removes its dirs. */
export async function stopContainerd(c: Containerd): Promise<void> {
  const tasks = (await c.ctr('task', 'ls', '-q')).stdout.split('\n').filter(Boolean);
  for (const t of tasks) await c.ctr('task', 'kill', '-s', 'SIGKILL', t);
  for (const t of tasks) await c.ctr('task', 'delete', '-f', t);
  const containers = (await c.ctr('container', 'ls', '-q')).stdout.split('\n').filter(Boolean);
  if (containers.length) await c.ctr('container', 'rm', ...containers);
  await stopLeftover(c.dir);
  fs.rmSync(c.dir, { recursive: true, force: true });
}

/** The containerd a killed test run left in dir (pid file), its shims (they name its socket), and its mounts. */
async function stopLeftover(dir: string): Promise<void> {
  const pidFile = path.join(dir, 'containerd.pid');
  if (fs.existsSync(pidFile)) {
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    if (processAlive(pid)) {
      process.kill(pid, 'SIGTERM');
      if (!(await waitForExit(pid, 10_000))) process.kill(pid, 'SIGKILL');
    }
  }
  for (const p of processesMentioning(`${dir}/containerd.sock`)) {
    const pid = Number(p.split(' ')[0]);
    process.kill(pid, 'SIGKILL');
    await waitForExit(pid);
  }
  for (const m of mountsUnder([dir])) await run('umount', ['-l', m]);
}

/** `docker save IMAGE` from the test dockerd into a namespace of containerd (no registry here); returns the ref ctr knows it by. */
export async function importImage(c: Containerd, image: string, namespace = c.namespace): Promise<string> {
  const r = await pipeDockerSave([image], `"${CTR}" -a "${c.socket}" -n "${namespace}" images import -`);
  if (r.status !== 0) throw new Error(`importing ${image} into containerd failed: ${r.stderr}`);
  return `docker.io/${image}`;
}

/** The host pid of a task's init, from `ctr task ls`. */
export async function taskPid(c: Containerd, id: string): Promise<number> {
  const line = (await c.ctrOk('task', 'ls')).split('\n').find((l) => l.split(/\s+/)[0] === id);
  if (!line) throw new Error(`no task ${id}`);
  return Number(line.split(/\s+/)[1]);
}

/** A task's status (RUNNING, PAUSED, STOPPED ...) from `ctr task ls`, or '' if there is none. */
export async function taskStatus(c: Containerd, id: string): Promise<string> {
  const line = (await c.ctrOk('task', 'ls')).split('\n').find((l) => l.split(/\s+/)[0] === id);
  return line?.split(/\s+/)[2] ?? '';
}
