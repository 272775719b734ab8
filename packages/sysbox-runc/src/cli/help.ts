// `sysbox-runc --help` and `sysbox-runc help [COMMAND]` / `COMMAND --help`, laid out as runc 1.1
// (urfave/cli) lays them out: runc's global flags and commands, then the original Sysbox's
// additions. A command's own help is runc's (the flags are runc's, passed through), named as ours.
import { VERSION } from '@sysbox/common/paths';
import { runcCapture } from '../executor.js';

const GLOBAL_OPTIONS: ReadonlyArray<readonly [string, string]> = [
  ['--debug', 'enable debug logging'],
  ['--log value', 'set the log file to write sysbox-runc logs to (default is stderr)'],
  ['--log-format value', 'set the log format (\'text\' (default), or \'json\') (default: "text")'],
  ['--root value', 'root directory for storage of container state (this should be located in tmpfs) (default: "/run/runc")'],
  ['--criu value', 'path to the criu binary used for checkpoint and restore (default: "criu")'],
  ['--systemd-cgroup', 'enable systemd cgroup support, expects cgroupsPath to be of form "slice:prefix:name" for e.g. "system.slice:runc:434234"'],
  ['--rootless value', 'ignore cgroup permission errors (\'true\', \'false\', or \'auto\') (default: "auto")'],
  ['--no-sysbox-fs', 'do not interact with sysbox-fs; meant for testing and debugging (create and run refuse it here: a system container needs sysbox-fs)'],
  ['--no-sysbox-mgr', 'do not interact with sysbox-mgr; meant for testing and debugging (create and run refuse it here: a system container needs sysbox-mgr)'],
  ['--no-kernel-check', 'do not check kernel compatibility; meant for testing and debugging (no effect here: there is no kernel check to skip)'],
  ['--sysbox-mgr-socket value', 'sysbox-mgr gRPC socket (default: "/run/sysbox/sysmgr.sock")'],
  ['--sysbox-fs-socket value', 'sysbox-fs gRPC socket (default: "/run/sysbox/sysfs.sock")'],
  ['--help, -h', 'show help'],
  ['--version, -v', 'print the version'],
];

const HELP_COMMAND: readonly [string, string] = ['help, h', 'Shows a list of commands or help for one command'];

/** Left column padded to the widest entry plus two spaces, as urfave/cli does. */
function table(rows: ReadonlyArray<readonly [string, string]>): string {
  const w = Math.max(...rows.map(([l]) => l.length)) + 2;
  return rows.map(([l, r]) => `   ${l.padEnd(w)}${r}`).join('\n');
}

/** The global help; `commands` maps each command to its one-line usage. */
export function globalHelp(commands: Readonly<Record<string, string>>, runcPath: string): string {
  return `NAME:\n   sysbox-runc - system container runtime (runc-compatible; executor: ${runcPath})\n\n` +
    'sysbox-runc turns an OCI bundle into a system container (user namespace with its own id range,\n' +
    'ID-shifted rootfs, virtual /proc and /sys from sysbox-fs) and runs it with runc.\n\n' +
    'USAGE:\n   sysbox-runc [global options] command [command options] [arguments...]\n\n' +
    `VERSION:\n   ${VERSION}\n\n` +
    `COMMANDS:\n${table([...Object.entries(commands), HELP_COMMAND])}\n\n` +
    `GLOBAL OPTIONS:\n${table(GLOBAL_OPTIONS)}\n`;
}

/** runc's help for `name`, with our command name and one-line usage. */
export function commandHelp(name: string, usage: string): string {
  const r = runcCapture([name, '--help']);
  if (r.status !== 0) throw new Error(`${name} --help: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout
    .replace(/^ {3}runc (\S+) - .*$/m, `   sysbox-runc $1 - ${usage}`)
    .replace(/^ {3}runc /gm, '   sysbox-runc ');
}
