// A container's rootfs view: serves the FUSE connection sysbox-mgr mounted at Docker's merged dir
// (ops.c), so that `docker cp` and `docker export` see the ID-shifted rootfs with Docker's ids.
//   sysbox-mgr-rootfs-view <rootfs> <uid> <gid> <size> [<host dir>=<path inside>...]
// with the connection as fd 3 and its log as stderr. It takes a private mount namespace of its
// own, makes <rootfs> its root (every other mount of the copied namespace detached: none of the
// host's mounts, other containers' overlays included, stays pinned by it), shows each host dir
// (special dirs such as /var/lib/docker) where the container sees it, writes "ready" and serves
// until the mount goes away. It outlives a sysbox-mgr restart; sysbox-mgr ends it with SIGKILL.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/securebits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ops.h"

#define FUSE_FD 3
#define USAGE "usage: sysbox-mgr-rootfs-view <rootfs> <uid> <gid> <size> [<host dir>=<path inside>...]"

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("rootfs view: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static uint32_t id_arg(const char *s, const char *what) {
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || !*s || *end || *s == '-' || v > UINT32_MAX) die("%s %s is not an id; " USAGE, what, s);
  return (uint32_t)v;
}

/** A host dir to show inside: a detached copy of its mount, taken while the host's tree is still ours. */
struct special {
  int tree;
  const char *dest;
};

static struct special clone_host_dir(char *arg) {
  char *eq = strchr(arg, '=');
  if (!eq || eq == arg || !eq[1]) die("bind %s is not <host dir>=<path inside>", arg);
  *eq = '\0';
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, arg, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0) die("open_tree %s: %s", arg, strerror(errno));
  return (struct special){tree, eq + 1};
}

/**
 * mkdir -p of dest, then the host dir's copy moved there. Only once pivoted: a symlink the image
 * put on the way resolves inside the rootfs, never to a host path.
 */
static void show_inside(struct special s) {
  char path[4096];
  if (snprintf(path, sizeof path, "%s", s.dest) >= (int)sizeof path) die("%s: path too long", s.dest);
  for (char *slash = strchr(path + 1, '/');; slash = strchr(slash + 1, '/')) {
    if (slash) *slash = '\0';
    if (mkdir(path, 0755) < 0 && errno != EEXIST) die("mkdir %s: %s", path, strerror(errno));
    if (!slash) break;
    *slash = '/';
  }
  if (syscall(SYS_move_mount, s.tree, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0) die("move_mount to %s: %s", path, strerror(errno));
  close(s.tree);
}

/** From here on files are created as the container's root (the only creator the shifted rootfs takes). */
static void act_as(uint32_t uid, uint32_t gid) {
  int bits = prctl(PR_GET_SECUREBITS);
  // Without it a non-zero fsuid would drop the capabilities that let any owner be set afterwards.
  if (bits < 0 || prctl(PR_SET_SECUREBITS, bits | SECBIT_NO_SETUID_FIXUP) < 0) die("securebits: %s", strerror(errno));
  setfsuid(uid);
  setfsgid(gid);
  if ((uint32_t)setfsuid((uid_t)-1) != uid || (uint32_t)setfsgid((gid_t)-1) != gid) die("setfsuid %u:%u refused", uid, gid);
}

/** rootfs becomes / and the old root goes with every mount under it (pivot_root(".", ".")). */
static void pivot_into(const char *rootfs) {
  if (chdir(rootfs) < 0) die("chdir %s: %s", rootfs, strerror(errno));
  if (syscall(SYS_pivot_root, ".", ".") < 0) die("pivot_root %s: %s", rootfs, strerror(errno));
  if (umount2(".", MNT_DETACH) < 0) die("umount old root: %s", strerror(errno));
  if (chdir("/") < 0) die("chdir /: %s", strerror(errno));
}

static void serve(void) {
  static char in[VIEW_MAX_WRITE + 4096] __attribute__((aligned(8)));
  static char out[VIEW_REPLY_MAX] __attribute__((aligned(8)));
  for (;;) {
    ssize_t n = read(FUSE_FD, in, sizeof in);
    if (n < 0) {
      if (errno == ENODEV) return;  // unmounted
      // EINTR, or ENOENT: a request interrupted before we read it
      if (errno == EINTR || errno == ENOENT || errno == EAGAIN) continue;
      die("read the FUSE connection: %s", strerror(errno));
    }
    const struct fuse_in_header *h = (const void *)in;
    size_t len = h->len < (size_t)n ? h->len : (size_t)n;
    if (len < sizeof *h) continue;
    size_t reply = ops_handle(h, in + sizeof *h, len - sizeof *h, out);
    // A failed write is an ENOENT: its caller was interrupted meanwhile.
    if (reply && write(FUSE_FD, out, reply) < 0) continue;
  }
}

int main(int argc, char **argv) {
  if (argc < 5) die(USAGE);
  struct id_range ids = {id_arg(argv[2], "uid"), id_arg(argv[3], "gid"), id_arg(argv[4], "size")};
  if (ids.size == 0) die("size 0; " USAGE);
  if (fcntl(FUSE_FD, F_GETFD) < 0) die("no FUSE connection as fd %d", FUSE_FD);
  if (unshare(CLONE_NEWNS) < 0) die("unshare(CLONE_NEWNS): %s", strerror(errno));
  // Nothing done in our namespace propagates back to the host's.
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("make / rprivate: %s", strerror(errno));
  int n_specials = argc - 5;
  struct special *specials = calloc((size_t)n_specials + 1, sizeof *specials);
  if (!specials) die("out of memory");
  for (int i = 0; i < n_specials; i++) specials[i] = clone_host_dir(argv[5 + i]);
  umask(0);
  act_as(ids.uid, ids.gid);
  pivot_into(argv[1]);
  for (int i = 0; i < n_specials; i++) show_inside(specials[i]);
  free(specials);
  ops_init(ids);
  fputs("ready\n", stderr);
  fflush(stderr);
  serve();
  return 0;
}
