// runc 1.1's command line, as a table: global flags, then one entry per command with its flags.
// Parsing is ours rather than yargs' because this binary starts 4+ times per `docker run` and
// yargs alone adds ~20 ms to each start (measured: bench/README.md). Unknown flags are refused the
// way runc (urfave/cli) refuses them; known ones are kept verbatim so they pass through to runc.

export interface FlagSpec {
  /** Long name without dashes; aliases (short names) follow. */
  names: readonly string[];
  takesValue: boolean;
  multi?: boolean;
}

const f = (names: string | string[], takesValue = false, multi = false): FlagSpec => ({
  names: Array.isArray(names) ? names : [names], takesValue, multi,
});

export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  f('debug'), f('log', true), f('log-format', true), f('root', true), f('criu', true),
  f('systemd-cgroup'), f('rootless', true), f(['help', 'h']), f(['version', 'v']),
  // Sysbox's own: which sysbox-mgr and sysbox-fs to use (tests run private ones).
  f('sysbox-mgr-socket', true),
  f('sysbox-fs-socket', true),
  // The low-level runtime driven in runc's place (default /usr/sbin/runc), e.g. /usr/bin/crun: an
  // operator sets it in daemon.json's runtimeArgs (docs/usage.md).
  f('executor', true),
  // The original's, accepted so its command lines keep working. It has no effect: there is no kernel
  // version check to skip (a feature the kernel lacks fails create with its own error instead).
  f('no-kernel-check'),
  // The original's testing switches for running without sysbox-fs or sysbox-mgr. Accepted so its
  // command lines parse; create and run refuse them (a system container here needs both daemons),
  // and nothing else talks to the daemons in a way they could skip.
  f('no-sysbox-fs'), f('no-sysbox-mgr'),
];

/** Global flags runc 1.1 does not know (it would refuse them): never passed to it. */
export const SYSBOX_ONLY_GLOBALS: readonly string[] = ['sysbox-mgr-socket', 'sysbox-fs-socket', 'executor', 'no-kernel-check', 'no-sysbox-fs', 'no-sysbox-mgr'];

const CONSOLE = f('console-socket', true);
const PID_FILE = f('pid-file', true);
const PRESERVE_FDS = f('preserve-fds', true);
const NO_PIVOT = f('no-pivot');
const NO_NEW_KEYRING = f('no-new-keyring');
const BUNDLE = f(['bundle', 'b'], true);

export const COMMAND_FLAGS: Readonly<Record<string, readonly FlagSpec[]>> = {
  checkpoint: [],
  create: [BUNDLE, CONSOLE, PID_FILE, NO_PIVOT, NO_NEW_KEYRING, PRESERVE_FDS],
  delete: [f(['force', 'f'])],
  events: [f('interval', true), f('stats')],
  exec: [
    CONSOLE, f('cwd', true), f(['env', 'e'], true, true), f(['tty', 't']), f(['user', 'u'], true),
    f(['additional-gids', 'g'], true, true), f(['process', 'p'], true), f(['detach', 'd']), PID_FILE,
    f('process-label', true), f('apparmor', true), f('no-new-privs'), f(['cap', 'c'], true, true),
    PRESERVE_FDS, f('cgroup', true, true), f('ignore-paused'),
  ],
  features: [],
  kill: [f(['all', 'a'])],
  list: [f(['format', 'f'], true), f(['quiet', 'q'])],
  pause: [],
  ps: [f(['format', 'f'], true)],
  restore: [],
  resume: [],
  run: [BUNDLE, CONSOLE, f(['detach', 'd']), f('keep'), PID_FILE, f('no-subreaper'), NO_PIVOT, NO_NEW_KEYRING, PRESERVE_FDS],
  spec: [BUNDLE, f('rootless')],
  start: [],
  state: [],
  update: [
    f(['resources', 'r'], true), f('blkio-weight', true), f('cpu-period', true), f('cpu-quota', true),
    f('cpu-share', true), f('cpu-rt-period', true), f('cpu-rt-runtime', true), f('cpuset-cpus', true),
    f('cpuset-mems', true), f('kernel-memory', true), f('kernel-memory-tcp', true), f('memory', true),
    f('memory-reservation', true), f('memory-swap', true), f('pids-limit', true), f('l3-cache-schema', true),
    f('mem-bw-schema', true),
  ],
};

export class UsageError extends Error {}

/**
 * Whether a command's flags (those before its first positional: what follows `exec <id>` is the
 * process's own) ask for its help, as urfave/cli's -h/--help do.
 */
export function asksHelp(name: string, tokens: readonly string[]): boolean {
  const specs = COMMAND_FLAGS[name] ?? [];
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (tok === '--' || tok === '-' || !tok.startsWith('-')) return false;
    const body = tok.replace(/^--?/, '');
    const key = body.split('=')[0]!;
    if (key === 'help' || key === 'h') return true;
    if (!body.includes('=') && specs.find((s) => s.names.includes(key))?.takesValue) i++;
  }
  return false;
}

export interface ParsedFlag {
  name: string;
  value: string | boolean;
  /** The tokens as given, so unchanged flags pass through verbatim. */
  tokens: string[];
}

export interface ParsedArgs {
  flags: ParsedFlag[];
  /** Tokens after the flags (urfave/cli stops at the first non-flag). */
  rest: string[];
}

/** Parses leading flags of `tokens` against `specs`; stops at the first positional or `--`. */
export function parseFlags(tokens: readonly string[], specs: readonly FlagSpec[]): ParsedArgs {
  const byName = new Map<string, FlagSpec>();
  for (const s of specs) for (const n of s.names) byName.set(n, s);
  const flags: ParsedFlag[] = [];
  let i = 0;
  while (i < tokens.length) {
    const tok = tokens[i]!;
    if (tok === '--') { i++; break; }
    if (!tok.startsWith('-') || tok === '-') break;
    const body = tok.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const key = eq >= 0 ? body.slice(0, eq) : body;
    const spec = byName.get(key);
    if (!spec) throw new UsageError(`flag provided but not defined: -${key}`);
    const name = spec.names[0]!;
    if (spec.takesValue) {
      if (eq >= 0) {
        flags.push({ name, value: body.slice(eq + 1), tokens: [tok] });
        i++;
      } else {
        if (i + 1 >= tokens.length) throw new UsageError(`flag needs an argument: -${key}`);
        flags.push({ name, value: tokens[i + 1]!, tokens: [tok, tokens[i + 1]!] });
        i += 2;
      }
    } else {
      const v = eq >= 0 ? body.slice(eq + 1) : 'true';
      if (v !== 'true' && v !== 'false') throw new UsageError(`invalid boolean value "${v}" for -${key}`);
      flags.push({ name, value: v === 'true', tokens: [tok] });
      i++;
    }
  }
  return { flags, rest: tokens.slice(i) };
}

export function flagValue(parsed: ParsedArgs, name: string): string | undefined {
  let out: string | undefined;
  for (const fl of parsed.flags) if (fl.name === name && typeof fl.value === 'string') out = fl.value;
  return out;
}

export function flagSet(parsed: ParsedArgs, name: string): boolean {
  let out = false;
  for (const fl of parsed.flags) if (fl.name === name) out = fl.value === true;
  return out;
}

/** Tokens of all flags, with `replace` substituting the value of the named flags. */
export function flagTokens(parsed: ParsedArgs, replace: Record<string, string> = {}, drop: readonly string[] = []): string[] {
  const out: string[] = [];
  const done = new Set<string>();
  for (const fl of parsed.flags) {
    if (drop.includes(fl.name)) continue;
    if (fl.name in replace) {
      if (!done.has(fl.name)) out.push(`--${fl.name}`, replace[fl.name]!);
      done.add(fl.name);
    } else {
      out.push(...fl.tokens);
    }
  }
  for (const [name, value] of Object.entries(replace)) if (!done.has(name)) out.push(`--${name}`, value);
  return out;
}
