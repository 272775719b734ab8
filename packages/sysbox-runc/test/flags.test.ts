import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asksHelp, COMMAND_FLAGS, GLOBAL_FLAGS, flagSet, flagTokens, flagValue, parseFlags, UsageError } from '../src/cli/flags.js';

describe('runc command line', () => {
  it('parses containerd-style global flags and stops at the command', () => {
    const p = parseFlags(['--root', '/run/x', '--log=/l.json', '--log-format', 'json', '--systemd-cgroup', 'create', '--bundle', '/b', 'id'], GLOBAL_FLAGS);
    assert.equal(flagValue(p, 'root'), '/run/x');
    assert.equal(flagValue(p, 'log'), '/l.json');
    assert.equal(flagSet(p, 'systemd-cgroup'), true);
    assert.deepEqual(p.rest, ['create', '--bundle', '/b', 'id']);
  });

  it('accepts single-dash and short forms like urfave/cli', () => {
    const p = parseFlags(['-b', '/b', '-pid-file', '/p', 'id'], COMMAND_FLAGS.create!);
    assert.equal(flagValue(p, 'bundle'), '/b');
    assert.equal(flagValue(p, 'pid-file'), '/p');
    assert.deepEqual(p.rest, ['id']);
  });

  it('refuses unknown flags with runc\'s wording', () => {
    assert.throws(() => parseFlags(['--bogus', 'x'], COMMAND_FLAGS.create!), (e: Error) => e instanceof UsageError && e.message === 'flag provided but not defined: -bogus');
    assert.throws(() => parseFlags(['--bundle'], COMMAND_FLAGS.create!), /needs an argument/);
  });

  it('keeps unchanged flags verbatim and substitutes replaced ones', () => {
    const p = parseFlags(['--bundle', '/orig', '--console-socket=/c.sock', '--preserve-fds', '2', 'id'], COMMAND_FLAGS.create!);
    assert.deepEqual(flagTokens(p, { bundle: '/new' }), ['--bundle', '/new', '--console-socket=/c.sock', '--preserve-fds', '2']);
    const q = parseFlags(['id'], COMMAND_FLAGS.create!);
    assert.deepEqual(flagTokens(q, { bundle: '/new' }), ['--bundle', '/new']);
  });

  it('collects repeated flags and keeps ps arguments after the id', () => {
    const p = parseFlags(['-e', 'A=1', '--env', 'B=2', '-t', 'id', 'sh'], COMMAND_FLAGS.exec!);
    assert.deepEqual(p.flags.filter((f) => f.name === 'env').map((f) => f.value), ['A=1', 'B=2']);
    assert.deepEqual(p.rest, ['id', 'sh']);
    assert.deepEqual(parseFlags(['id', '-ef'], COMMAND_FLAGS.ps!).rest, ['id', '-ef']);
  });

  it("finds a command's -h/--help among its flags only, not in the process arguments after the id", () => {
    assert.equal(asksHelp('create', ['--help']), true);
    assert.equal(asksHelp('create', ['--bundle', '/b', '-h']), true);
    assert.equal(asksHelp('create', ['--bundle', '--help', 'id']), false, 'the value of --bundle');
    assert.equal(asksHelp('exec', ['id', 'sh', '--help']), false);
    assert.equal(asksHelp('exec', ['--env', 'A=1', 'id', '--help']), false);
    assert.equal(asksHelp('ps', ['id', '--', '--help']), false);
  });

  it('accepts the original\'s --no-sysbox-fs and --no-sysbox-mgr and keeps them from runc', () => {
    const p = parseFlags(['--no-sysbox-fs', '--no-sysbox-mgr=true', '--root', '/r', 'list'], GLOBAL_FLAGS);
    assert.equal(flagSet(p, 'no-sysbox-fs'), true);
    assert.equal(flagSet(p, 'no-sysbox-mgr'), true);
    assert.deepEqual(flagTokens(p, {}, ['no-sysbox-fs', 'no-sysbox-mgr']), ['--root', '/r']);
  });
});
