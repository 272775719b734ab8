// Bench-only crun for the development machine. crun 1.8.1 refuses every container on a hybrid
// cgroup host whose v2 hierarchy has a controller (hugetlb there): "cgroups in hybrid mode not
// supported"; in a private mount namespace an empty cgroup.controllers hides it. Also drops the
// --sysbox-* flags bench/lib.sh gives the runtime, so that it can stand in for sysbox-runc too:
//   BENCH_RUNTIME_ARGS=--executor=$(bench_crun_hybrid)   sysbox-runc driving crun
//   BENCH_RUNTIME=$(bench_crun_hybrid)                   plain crun in sysbox-runc's column
// One exec where the shell form it replaces (unshare, sh, mount, then crun) took four: that form
// added ~3-5 ms to each of the 4+ runtime calls of a `docker run`, all of it counted as crun's.
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

int main(int argc, char **argv) {
  // Private, as `unshare -m` makes it: the bind below must not reach the host's namespace.
  if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
      mount("/dev/null", "/sys/fs/cgroup/unified/cgroup.controllers", NULL, MS_BIND, NULL) < 0) {
    perror("crun-hybrid");
    return 1;
  }
  char *args[argc + 1];
  int n = 0;
  args[n++] = "crun";
  for (int i = 1; i < argc; i++)
    if (strncmp(argv[i], "--sysbox-", 9) != 0) args[n++] = argv[i];
  args[n] = NULL;
  execv("/usr/bin/crun", args);
  perror("crun-hybrid: /usr/bin/crun");
  return 127;
}
