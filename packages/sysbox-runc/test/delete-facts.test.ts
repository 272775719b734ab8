// Which containers the launcher may delete without runc once stopped (lifecycle/delete-facts.ts),
// judged from runc 1.1's state.json as `runc create` writes it, and from crun 1.8's status and spec copy.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crunDeleteFactsOf, deleteFactsOf, renderDeleteFacts } from '../src/lifecycle/delete-facts.js';

type State = Parameters<typeof deleteFactsOf>[0];

/** A state.json's relevant fields as runc 1.1.5 wrote them for a busybox bundle on this host. */
function docker(): State {
  return {
    init_process_pid: 5024,
    init_process_start: 38979,
    rootless: false,
    intel_rdt_path: '',
    cgroup_paths: {
      '': '/sys/fs/cgroup/unified/docker/c1',
      cpu: '/sys/fs/cgroup/cpu,cpuacct/docker/c1',
      cpuacct: '/sys/fs/cgroup/cpu,cpuacct/docker/c1',
      freezer: '/sys/fs/cgroup/freezer/docker/c1',
      pids: '/sys/fs/cgroup/pids/docker/c1',
    },
    config: {
      namespaces: [{ type: 'NEWPID', path: '' }, { type: 'NEWNET', path: '' }],
      cgroups: { Systemd: false, Rootless: false },
      Hooks: { createRuntime: null, poststart: null, poststop: null, prestart: null },
    },
  };
}

describe('delete facts', () => {
  it('a plain container: its init, freezer path and each cgroup dir once (co-mounted controllers share one)', () => {
    const f = deleteFactsOf(docker());
    assert.deepEqual(f, {
      initPid: 5024,
      initStart: '38979',
      freezer: '/sys/fs/cgroup/freezer/docker/c1',
      cgroupPaths: ['/sys/fs/cgroup/unified/docker/c1', '/sys/fs/cgroup/cpu,cpuacct/docker/c1', '/sys/fs/cgroup/freezer/docker/c1', '/sys/fs/cgroup/pids/docker/c1'],
    });
    assert.equal(renderDeleteFacts(f!).split('\n').length, 3 + 4 + 1);
    // A cgroup v2 host: the unified path says whether it is frozen.
    const v2 = docker();
    v2.cgroup_paths = { '': '/sys/fs/cgroup/system.slice/c1' };
    assert.equal(deleteFactsOf(v2)?.freezer, '/sys/fs/cgroup/system.slice/c1');
  });

  it('none where runc deletes more than that, or the state is not what it expects', () => {
    const variants: [string, (s: State) => void][] = [
      ['poststop hook', (s) => { s.config!.Hooks = { poststop: [{ path: '/bin/true' }] }; }],
      ['shared pid namespace', (s) => { s.config!.namespaces = [{ type: 'NEWPID', path: '/proc/1/ns/pid' }]; }],
      ['no pid namespace', (s) => { s.config!.namespaces = [{ type: 'NEWNET', path: '' }]; }],
      ['systemd driver', (s) => { s.config!.cgroups = { Systemd: true }; }],
      ['cgroup paths given', (s) => { s.config!.cgroups = { Paths: { pids: '/sys/fs/cgroup/pids/x' } }; }],
      ['Intel RDT', (s) => { s.intel_rdt_path = '/sys/fs/resctrl/c1'; }],
      ['rootless', (s) => { s.rootless = true; }],
      ['no cgroup paths', (s) => { s.cgroup_paths = {}; }],
      ['relative path', (s) => { s.cgroup_paths = { pids: 'pids/c1', freezer: '/sys/fs/cgroup/freezer/c1' }; }],
      ['dot-dot in a path', (s) => { s.cgroup_paths = { freezer: '/sys/fs/cgroup/freezer/../c1' }; }],
      ['newline in a path', (s) => { s.cgroup_paths = { freezer: '/sys/fs/cgroup/freezer/c\n1' }; }],
      ['no freezer', (s) => { s.cgroup_paths = { pids: '/sys/fs/cgroup/pids/c1' }; }],
      ['no pid', (s) => { s.init_process_pid = 0; }],
      ['start not a number', (s) => { s.init_process_start = '12a'; }],
      ['no config', (s) => { delete s.config; }],
    ];
    for (const [name, change] of variants) {
      const s = docker();
      change(s);
      assert.equal(deleteFactsOf(s), undefined, name);
    }
  });

  describe('crun', () => {
    type Args = Parameters<typeof crunDeleteFactsOf>;
    /** crun 1.8.1's status and spec fields for a Docker container on this host, and its init's hierarchies. */
    const crun = (): Args => {
      const lines = [['name=systemd'], ['pids'], ['freezer'], ['cpu', 'cpuacct'], []].map((controllers) => ({ controllers, path: '/docker/c1' }));
      const dirs: Record<string, string> = { 'name=systemd': 'systemd', pids: 'pids', freezer: 'freezer', cpu: 'cpu,cpuacct', '': 'unified' };
      return [
        { pid: 5024, 'process-start-time': 38979, 'cgroup-path': '/docker/c1', 'systemd-cgroup': false, scope: '' },
        { hooks: {}, linux: { namespaces: [{ type: 'pid' }, { type: 'network', path: '' }] } },
        lines,
        lines.map((l) => ({ controllers: l.controllers, dir: `/sys/fs/cgroup/${dirs[l.controllers[0] ?? '']}/docker/c1` })),
      ];
    };

    it('a plain container: its init, the freezer hierarchy, every hierarchy crun made', () => {
      assert.deepEqual(crunDeleteFactsOf(...crun()), {
        initPid: 5024,
        initStart: '38979',
        freezer: '/sys/fs/cgroup/freezer/docker/c1',
        cgroupPaths: ['systemd', 'pids', 'freezer', 'cpu,cpuacct', 'unified'].map((d) => `/sys/fs/cgroup/${d}/docker/c1`),
      });
      // A cgroup v2 host: the one hierarchy says whether it is frozen.
      const v2 = crun();
      v2[2] = [{ controllers: [], path: '/docker/c1' }];
      v2[3] = [{ controllers: [], dir: '/sys/fs/cgroup/docker/c1' }];
      assert.equal(crunDeleteFactsOf(...v2)?.freezer, '/sys/fs/cgroup/docker/c1');
    });

    it('none where crun deletes more than that, or the state is not what it expects', () => {
      const variants: [string, (a: Args) => void][] = [
        ['poststop hook', (a) => { a[1].hooks = { poststop: [{ path: '/bin/true' }] }; }],
        ['shared pid namespace', (a) => { a[1].linux = { namespaces: [{ type: 'pid', path: '/proc/1/ns/pid' }] }; }],
        ['no pid namespace', (a) => { a[1].linux = { namespaces: [{ type: 'network' }] }; }],
        ['Intel RDT', (a) => { a[1].linux = { namespaces: [{ type: 'pid' }], intelRdt: { closID: 'c1' } }; }],
        ['systemd driver', (a) => { a[0]['systemd-cgroup'] = true; }],
        ['a scope', (a) => { a[0].scope = 'crun-c1.scope'; }],
        ['the root cgroup', (a) => { a[0]['cgroup-path'] = '/'; }],
        ['an init in another cgroup', (a) => { a[2][1] = { controllers: ['pids'], path: '/other' }; }],
        ['a hierarchy not mounted here', (a) => { a[3].pop(); }],
        ['no freezer', (a) => { a[2] = a[2].slice(0, 2); a[3] = a[3].slice(0, 2); }],
        ['no pid', (a) => { a[0].pid = 0; }],
        ['start not a number', (a) => { a[0]['process-start-time'] = '12a'; }],
      ];
      for (const [name, change] of variants) {
        const a = crun();
        change(a);
        assert.equal(crunDeleteFactsOf(...a), undefined, name);
      }
    });
  });
});
