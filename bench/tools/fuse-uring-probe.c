/* A measuring probe, not product code: does FUSE over io_uring work on this host, and what does
 * open + read + read + close of a small direct-I/O file (1500 bytes, like /proc/meminfo) cost when
 * each CPU's requests are served by a thread bound to that CPU, against the classic single-thread
 * /dev/fuse read loop? It mounts its own FUSE file system at /tmp/fuse-uring-probe.mnt (one file, "f"),
 * times 3000 reads from a reader bound to each CPU in turn, prints p50/p90 and unmounts.
 *   gcc -O2 -pthread -o /tmp/fuse-uring-probe bench/tools/fuse-uring-probe.c
 *   /tmp/fuse-uring-probe classic
 *   echo Y > /sys/module/fuse/parameters/enable_uring     # off by default; set it back to N after
 *   /tmp/fuse-uring-probe uring
 *   /tmp/fuse-uring-probe restart   # the rings' owner killed while the connection is kept
 *   /tmp/fuse-uring-probe restart-inflight   # ... with a READ in its hands (aborts the connection after)
 * The io_uring structs are spelled out here: Debian 12's linux-libc-dev (6.1) predates them (7.42). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HDR_SZ 128
struct ent_in_out { uint64_t flags, commit_id; uint32_t payload_sz, padding; uint64_t reserved; };
struct req_header { char in_out[HDR_SZ]; char op_in[HDR_SZ]; struct ent_in_out e; };
struct cmd_req { uint64_t flags, commit_id; uint16_t qid; uint8_t pad[6]; };
#define CMD_REGISTER 1
#define CMD_COMMIT 2
#define OVER_IO_URING (1ULL << 41)
#define PAYLOAD (256 * 1024)

static int fusefd;
static char content[1500];
static int ncpu;
/* restart-inflight: the first server holds each READ 2 s before replying, so one is in its hands at the kill. */
static volatile int slow_reads;

static int reply_body(struct fuse_in_header *ih, const char *opin, const char *payload_in, char *out, int *err) {
  *err = 0;
  switch (ih->opcode) {
  case FUSE_LOOKUP: {
    if (strcmp(payload_in, "f") != 0) { *err = -ENOENT; return 0; }
    struct fuse_entry_out *e = (void *)out; memset(e, 0, sizeof(*e));
    e->nodeid = 2; e->entry_valid = 86400; e->attr_valid = 86400;
    e->attr.ino = 2; e->attr.mode = S_IFREG | 0444; e->attr.size = 4096; e->attr.nlink = 1;
    return sizeof(*e);
  }
  case FUSE_GETATTR: {
    struct fuse_attr_out *a = (void *)out; memset(a, 0, sizeof(*a));
    a->attr_valid = 86400; a->attr.ino = ih->nodeid; a->attr.nlink = 1;
    a->attr.mode = ih->nodeid == 1 ? (S_IFDIR | 0755) : (S_IFREG | 0444); a->attr.size = 4096;
    return sizeof(*a);
  }
  case FUSE_OPEN: case FUSE_OPENDIR: {
    struct fuse_open_out *o = (void *)out; memset(o, 0, sizeof(*o));
    o->open_flags = ih->opcode == FUSE_OPEN ? (FOPEN_DIRECT_IO | FOPEN_NOFLUSH) : 0;
    return sizeof(*o);
  }
  case FUSE_READ: {
    const struct fuse_read_in *r = (const void *)opin;
    if (r->offset >= sizeof(content)) return 0;
    int n = sizeof(content) - (int)r->offset; if ((uint32_t)n > r->size) n = r->size;
    memcpy(out, content + r->offset, n); return n;
  }
  case FUSE_RELEASE: case FUSE_RELEASEDIR: case FUSE_FLUSH: return 0;
  default: *err = -ENOSYS; return 0;
  }
}

// ---- classic: read /dev/fuse, write reply
static void *classic(void *arg) {
  (void)arg;
  static char buf[PAYLOAD + 4096], out[PAYLOAD + 64];
  for (;;) {
    ssize_t n = read(fusefd, buf, sizeof(buf));
    if (n < 0) { if (errno == EINTR || errno == EAGAIN) continue; return NULL; }
    struct fuse_in_header *ih = (void *)buf;
    if (ih->opcode == FUSE_FORGET || ih->opcode == FUSE_BATCH_FORGET) continue;
    const char *body = buf + sizeof(*ih);
    int err; int len = reply_body(ih, body, body, out + sizeof(struct fuse_out_header), &err);
    struct fuse_out_header *oh = (void *)out; oh->len = sizeof(*oh) + len; oh->error = err; oh->unique = ih->unique;
    if (write(fusefd, out, oh->len) < 0) {}
  }
}

// ---- io_uring per CPU
struct ring { int fd; unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask; struct io_uring_sqe *sqes; struct io_uring_cqe *cqes; };
static int setup_ring(struct ring *r, unsigned entries) {
  struct io_uring_params p; memset(&p, 0, sizeof(p)); p.flags = IORING_SETUP_SQE128;
  r->fd = syscall(__NR_io_uring_setup, entries, &p);
  if (r->fd < 0) return -errno;
  size_t sqsz = p.sq_off.array + p.sq_entries * sizeof(unsigned), cqsz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  char *sq = mmap(0, sqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
  char *cq = mmap(0, cqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
  r->sqes = mmap(0, p.sq_entries * 128, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
  r->sq_tail = (void *)(sq + p.sq_off.tail); r->sq_mask = (void *)(sq + p.sq_off.ring_mask); r->sq_array = (void *)(sq + p.sq_off.array);
  r->cq_head = (void *)(cq + p.cq_off.head); r->cq_tail = (void *)(cq + p.cq_off.tail); r->cq_mask = (void *)(cq + p.cq_off.ring_mask); r->cqes = (void *)(cq + p.cq_off.cqes);
  return 0;
}
static void push(struct ring *r, int op, int qid, uint64_t commit, struct iovec *iov, uint64_t ud) {
  unsigned t = *r->sq_tail, i = t & *r->sq_mask;
  struct io_uring_sqe *s = (void *)((char *)r->sqes + i * 128); memset(s, 0, 128);
  s->opcode = IORING_OP_URING_CMD; s->fd = fusefd; s->cmd_op = op; s->user_data = ud;
  if (iov) { s->addr = (uint64_t)iov; s->len = 2; }
  struct cmd_req *c = (void *)s->cmd; c->qid = qid; c->commit_id = commit;
  r->sq_array[i] = i; __atomic_store_n(r->sq_tail, t + 1, __ATOMIC_RELEASE);
}
struct qarg { int qid; };
static void *uring_q(void *arg) {
  int qid = ((struct qarg *)arg)->qid;
  cpu_set_t set; CPU_ZERO(&set); CPU_SET(qid, &set); pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
  struct ring r; int e = setup_ring(&r, 8); if (e) { fprintf(stderr, "io_uring_setup: %s\n", strerror(-e)); return NULL; }
  enum { NENT = 2 };
  struct req_header *h[NENT]; char *pl[NENT]; struct iovec iov[NENT][2];
  for (int k = 0; k < NENT; k++) {
    h[k] = aligned_alloc(4096, 4096); pl[k] = aligned_alloc(4096, PAYLOAD); memset(h[k], 0, 4096);
    iov[k][0] = (struct iovec){ h[k], sizeof(struct req_header) }; iov[k][1] = (struct iovec){ pl[k], PAYLOAD };
    push(&r, CMD_REGISTER, qid, 0, iov[k], k);
  }
  int sub = NENT;
  for (;;) {
    int rc = syscall(__NR_io_uring_enter, r.fd, sub, 1, IORING_ENTER_GETEVENTS, NULL, 0);
    if (rc < 0 && errno != EINTR) { fprintf(stderr, "q%d io_uring_enter: %s\n", qid, strerror(errno)); return NULL; }
    sub = 0;
    unsigned head = *r.cq_head, tail = __atomic_load_n(r.cq_tail, __ATOMIC_ACQUIRE);
    for (; head != tail; head++) {
      struct io_uring_cqe *c = &r.cqes[head & *r.cq_mask];
      int k = (int)c->user_data;
      if (c->res < 0) { fprintf(stderr, "q%d cqe res %s\n", qid, strerror(-c->res)); return NULL; }
      struct fuse_in_header *ih = (void *)h[k]->in_out;
      uint64_t commit = h[k]->e.commit_id;
      static __thread char out[PAYLOAD];
      if (slow_reads && ih->opcode == FUSE_READ) sleep(2);
      int err; int len = reply_body(ih, h[k]->op_in, pl[k], out, &err);
      memcpy(pl[k], out, len);
      struct fuse_out_header *oh = (void *)h[k]->in_out; uint64_t uniq = ih->unique;
      oh->len = sizeof(*oh) + len; oh->error = err; oh->unique = uniq;
      h[k]->e.payload_sz = len;
      push(&r, CMD_COMMIT, qid, commit, NULL, k); sub++;
    }
    __atomic_store_n(r.cq_head, head, __ATOMIC_RELEASE);
  }
}

static double now_us(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e6 + t.tv_nsec / 1e3; }
static int cmpd(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return x < y ? -1 : x > y; }
static void bench(const char *path, int cpu, const char *label) {
  pid_t p = fork();
  if (p == 0) {
    cpu_set_t set; CPU_ZERO(&set); CPU_SET(cpu, &set); sched_setaffinity(0, sizeof(set), &set);
    static double t[3000]; char b[65536];
    for (int i = 0; i < 3300; i++) {
      double a = now_us(); int fd = open(path, O_RDONLY); if (fd < 0) { perror("open"); _exit(1); }
      while (read(fd, b, sizeof(b)) > 0) {} close(fd);
      if (i >= 300) t[i - 300] = now_us() - a;
    }
    qsort(t, 3000, sizeof(double), cmpd);
    printf("%-28s reader on CPU %d: p50 %.1f us p90 %.1f us\n", label, cpu, t[1500], t[2700]); fflush(stdout); _exit(0);
  }
  waitpid(p, NULL, 0);
}

static const char *DIR_ = "/tmp/fuse-uring-probe.mnt";

/* Mounts the probe's file system and answers INIT, offering io_uring if asked to. */
static void mount_and_init(int uring) {
  mkdir(DIR_, 0755);
  fusefd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
  char opts[128]; snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other", fusefd);
  if (mount("uringprobe", DIR_, "fuse.uringprobe", MS_NOSUID | MS_NODEV, opts) < 0) { perror("mount"); exit(1); }
  static char buf[PAYLOAD + 4096];
  ssize_t n = read(fusefd, buf, sizeof(buf));
  struct fuse_in_header *ih = (void *)buf; struct fuse_init_in *in = (void *)(buf + sizeof(*ih));
  uint64_t kflags = in->flags | ((uint64_t)in->flags2 << 32);
  printf("INIT from kernel %u.%u, io_uring offered: %s (n=%zd)\n", in->major, in->minor, (kflags & OVER_IO_URING) ? "yes" : "no", n);
  fflush(stdout);  /* the readers are forked: nothing left buffered to print twice */
  struct { struct fuse_out_header h; struct fuse_init_out o; } rep; memset(&rep, 0, sizeof(rep));
  rep.o.major = 7; rep.o.minor = in->minor < 42 ? in->minor : 42; rep.o.max_readahead = in->max_readahead;
  rep.o.flags = FUSE_INIT_EXT | FUSE_MAX_PAGES | FUSE_ASYNC_READ; rep.o.max_write = 128 * 1024; rep.o.max_pages = 32; rep.o.max_background = 16;
  if (uring) rep.o.flags2 = (uint32_t)(OVER_IO_URING >> 32);
  rep.h.len = sizeof(rep); rep.h.unique = ih->unique;
  if (write(fusefd, &rep, sizeof(rep)) < 0) { perror("write init"); exit(1); }
}

/* A thread per CPU with its own ring (io_uring), and the /dev/fuse reader: forgets, interrupts and
 * whatever comes before every queue has an entry still use /dev/fuse. */
static void start_servers(int uring) {
  pthread_t th;
  static struct qarg q[64];
  for (int i = 0; uring && i < ncpu && i < 64; i++) { q[i].qid = i; pthread_create(&th, NULL, uring_q, &q[i]); }
  pthread_create(&th, NULL, classic, NULL);
}

/* A successor on the kept connection: rings of its own, then FUSE_NOTIFY_RESEND (what sysbox-fs's
 * successor sends for requests its predecessor read unanswered). */
static void take_over(void) {
  usleep(300000);
  start_servers(1);
  usleep(100000);
  struct fuse_out_header nh = { .len = sizeof(nh), .error = 7 /* FUSE_NOTIFY_RESEND */, .unique = 0 };
  ssize_t wn = write(fusefd, &nh, sizeof(nh));
  printf("second server's rings registered; FUSE_NOTIFY_RESEND %s\n", wn < 0 ? strerror(errno) : "sent"); fflush(stdout);
}

/* restart: the rings' owner killed -9 while this process keeps the connection (as sysbox-fs's fd
 * keeper does), a read made in the gap, then a successor's rings on the same connection and a
 * FUSE_NOTIFY_RESEND: does the gap's read end, do new reads work? */
static void restart(const char *path) {
  pid_t a = fork();
  if (a == 0) { start_servers(1); pause(); _exit(0); }
  usleep(200000);
  bench(path, 0, "io_uring, first server"); bench(path, 1, "io_uring, first server");
  kill(a, SIGKILL); waitpid(a, NULL, 0);
  printf("first server killed -9; the connection kept by the parent\n"); fflush(stdout);
  pid_t r = fork();
  if (r == 0) {
    int fd = open(path, O_RDONLY); char b[4096]; ssize_t n = fd < 0 ? -errno : read(fd, b, sizeof(b));
    printf("the read made in the gap ended: %zd (%s)\n", n, n < 0 ? strerror((int)-n) : "ok"); fflush(stdout); _exit(0);
  }
  take_over();
  pid_t w = 0;
  for (int i = 0; i < 50 && w == 0; i++) { w = waitpid(r, NULL, WNOHANG); usleep(100000); }
  if (w == 0) { printf("the read made in the gap still waits 5 s later\n"); fflush(stdout); }
  bench(path, 0, "io_uring, second server"); bench(path, 1, "io_uring, second server");
  if (w == 0) {
    for (int i = 0; i < 20 && w == 0; i++) { w = waitpid(r, NULL, WNOHANG); usleep(100000); }
    if (w == 0) { printf("... and still after reads on both CPUs' queues\n"); fflush(stdout); kill(r, SIGKILL); waitpid(r, NULL, 0); }
  }
}

/* Aborts this probe's connection (fusectl, mounted for the moment if it is not): the only way to
 * end a request no server will answer. */
static void abort_connection(void) {
  struct stat st;
  if (stat(DIR_, &st) < 0) return;
  int mounted_here = 0;
  char p[128];
  snprintf(p, sizeof(p), "/sys/fs/fuse/connections/%u/abort", minor(st.st_dev));
  if (access(p, W_OK) != 0) mounted_here = mount("fusectl", "/sys/fs/fuse/connections", "fusectl", 0, NULL) == 0;
  int fd = open(p, O_WRONLY);
  if (fd >= 0) { if (write(fd, "1", 1) < 0) {} close(fd); }
  printf("connection %u aborted\n", minor(st.st_dev)); fflush(stdout);
  if (mounted_here) umount("/sys/fs/fuse/connections");
}

/* restart-inflight: the rings' owner killed -9 with a READ in its hands. */
static void restart_inflight(const char *path) {
  pid_t a = fork();
  if (a == 0) { slow_reads = 1; start_servers(1); pause(); _exit(0); }
  usleep(200000);
  pid_t r = fork();
  if (r == 0) {
    int fd = open(path, O_RDONLY); char b[4096]; ssize_t n = fd < 0 ? -errno : read(fd, b, sizeof(b));
    printf("the read in flight at the kill ended: %zd (%s)\n", n, n < 0 ? strerror((int)-n) : "ok"); fflush(stdout); _exit(0);
  }
  usleep(500000);
  kill(a, SIGKILL); waitpid(a, NULL, 0);
  printf("first server killed -9 with a READ in its hands; the connection kept by the parent\n"); fflush(stdout);
  take_over();
  bench(path, 0, "io_uring, second server"); bench(path, 1, "io_uring, second server");
  pid_t w = 0;
  for (int i = 0; i < 30 && w == 0; i++) { w = waitpid(r, NULL, WNOHANG); usleep(100000); }
  if (w != 0) return;
  kill(r, SIGKILL); usleep(200000);
  printf("the read in flight at the kill still waits after reads on both queues, and %s a SIGKILL\n", waitpid(r, NULL, WNOHANG) == r ? "died of" : "survives"); fflush(stdout);
  abort_connection();
  waitpid(r, NULL, 0);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  int uring = strcmp(mode, "uring") == 0 || strcmp(mode, "restart") == 0 || strcmp(mode, "restart-inflight") == 0;
  if (!uring && strcmp(mode, "classic") != 0) { fprintf(stderr, "usage: %s classic|uring|restart|restart-inflight\n", argv[0]); return 2; }
  memset(content, 'x', sizeof(content)); content[sizeof(content) - 1] = '\n';
  ncpu = sysconf(_SC_NPROCESSORS_CONF);
  mount_and_init(uring);
  char path[256]; snprintf(path, sizeof(path), "%s/f", DIR_);
  if (strcmp(mode, "restart") == 0) {
    restart(path);
  } else if (strcmp(mode, "restart-inflight") == 0) {
    restart_inflight(path);
  } else {
    start_servers(uring);
    usleep(200000);
    for (int c = 0; c < ncpu; c++) bench(path, c, uring ? "io_uring, a thread per CPU" : "classic /dev/fuse read loop");
  }
  umount2(DIR_, MNT_DETACH);
  rmdir(DIR_);
  return 0;
}
