// A private rootful Podman for the end-to-end tests: its own containers.conf and storage.conf
// (test/lib/podman-conf.sh, through CONTAINERS_CONF / CONTAINERS_STORAGE_CONF), so nothing touches
// the host's Podman state: graph root /var/lib/NAME, run root, tmp dir, file locks and events under
// /run/NAME, cgroupfs (no systemd as PID 1 here), and a CNI network of its own as the default network
// (own bridge and /24, only the bridge and host-local plugins: no iptables rules, no NAT). Images come from the test
// dockerd (`docker save | podman load`): there is no registry.
// sysbox-runc is given to Podman through a wrapper named sysbox-runc that logs every command line
// Podman passes (RUNTIME_LOG) and adds the test daemons' sockets.
import fs from 'node:fs';
import path from 'node:path';
import { REPO, TEST_NAME, mountsUnder, pipeDockerSave, run, testSubnetOctet, writeSysboxRuncWrapper, type Result } from './env.js';

export const PODMAN_NAME = `${TEST_NAME}-podman`;
export const PODMAN_STATE = `/run/${PODMAN_NAME}`;
export const PODMAN_GRAPH = `/var/lib/${PODMAN_NAME}`;
/** The wrapper runtime Podman is given (`--runtime`), and where it logs Podman's command lines. */
export const RUNTIME = path.join(PODMAN_STATE, 'bin', 'sysbox-runc');
export const RUNTIME_LOG = path.join(PODMAN_STATE, 'runtime-calls.log');
/** The CNI network every container joins by default: its name, bridge and subnet (a /24 of 10.214/16 picked from the name). */
export const NETWORK = PODMAN_NAME;
export const BRIDGE = `${TEST_NAME.slice(0, 12)}pbr`;
export const SUBNET_PREFIX = `10.214.${testSubnetOctet(PODMAN_NAME)}.`;
/**
 * Podman's blob-info cache lives in /var/lib/containers/cache whatever the graph root; removed at
 * teardown unless the host had that dir before (a host Podman's, then left alone).
 */
export const CONTAINERS_DIR = '/var/lib/containers';
let hadContainersDir = true;
/** Where CNI's host-local plugin keeps the addresses it handed out on our network. */
const CNI_IPAM_DIR = `/var/lib/cni/networks/${NETWORK}`;

/** The environment every podman command of the tests runs with: the private configuration. */
export const PODMAN_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  CONTAINERS_CONF: path.join(PODMAN_STATE, 'containers.conf'),
  CONTAINERS_STORAGE_CONF: path.join(PODMAN_STATE, 'storage.conf'),
};

export function podman(...args: string[]): Promise<Result> {
  return run('podman', args, { env: PODMAN_ENV, timeoutMs: 300_000 });
}

/** podman command that must succeed; returns trimmed stdout. */
export async function podmanOk(...args: string[]): Promise<string> {
  const r = await podman(...args);
  if (r.status !== 0) throw new Error(`podman ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

function cniNetwork(): string {
  return JSON.stringify({
    cniVersion: '0.4.0',
    name: NETWORK,
    plugins: [{
      type: 'bridge', bridge: BRIDGE, isGateway: true, ipMasq: false, hairpinMode: true,
      ipam: { type: 'host-local', routes: [{ dst: '0.0.0.0/0' }], ranges: [[{ subnet: `${SUBNET_PREFIX}0/24`, gateway: `${SUBNET_PREFIX}1` }]] },
    }],
  }, null, 2);
}

/**
 * Writes the private configuration and the logging runtime, and loads images from the test
 * dockerd. `autoUser` names the /etc/subuid owner whose ranges `--userns=auto` draws from.
 */
export async function setUpPodman(images: string[], autoUser: string): Promise<void> {
  hadContainersDir = fs.existsSync(CONTAINERS_DIR);
  fs.mkdirSync(path.join(PODMAN_STATE, 'bin'), { recursive: true });
  const conf = await run(path.join(REPO, 'test', 'lib', 'podman-conf.sh'), [PODMAN_STATE, PODMAN_GRAPH, RUNTIME, NETWORK, autoUser]);
  if (conf.status !== 0) throw new Error(`podman-conf.sh failed: ${conf.stderr}`);
  fs.writeFileSync(path.join(PODMAN_STATE, 'net', `${NETWORK}.conflist`), cniNetwork());
  writeSysboxRuncWrapper(RUNTIME, ['# Logs the command line Podman gives the runtime.', `printf '%s\\n' "$*" >> ${RUNTIME_LOG}`]);
  fs.writeFileSync(RUNTIME_LOG, '');
  const load = await pipeDockerSave(images, 'podman load', { env: PODMAN_ENV, timeoutMs: 300_000 });
  if (load.status !== 0) throw new Error(`podman load failed: ${load.stderr}`);
}

/** Removes every container, mount, file and the bridge the private Podman made. */
export async function tearDownPodman(): Promise<void> {
  if (fs.existsSync(path.join(PODMAN_STATE, 'containers.conf'))) await podman('rm', '--all', '--force', '--time', '0');
  for (const m of mountsUnder([PODMAN_GRAPH, PODMAN_STATE])) await run('umount', ['-l', m]);
  fs.rmSync(PODMAN_GRAPH, { recursive: true, force: true });
  fs.rmSync(PODMAN_STATE, { recursive: true, force: true });
  fs.rmSync(CNI_IPAM_DIR, { recursive: true, force: true });
  if (!hadContainersDir) fs.rmSync(CONTAINERS_DIR, { recursive: true, force: true });
  await run('ip', ['link', 'del', BRIDGE]);
}

/** The runtime command lines Podman passed so far, with the given container id shown as ID. */
export function runtimeCalls(id?: string): string[] {
  const text = fs.readFileSync(RUNTIME_LOG, 'utf8');
  return text.split('\n').filter(Boolean).map((l) => (id ? l.split(id).join('ID') : l));
}
