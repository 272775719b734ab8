/* Latency and throughput of open+read+close on a (possibly FUSE-backed) /proc file.
 *   procread lat FILE ITER [empty-ok]  -> "p50 p90" in microseconds over ITER timed iterations
 *                                         (after ITER/10, at least 20, untimed warm-up iterations);
 *                                         an empty file is an error unless empty-ok
 *   procread tput FILE THREADS SECONDS -> total reads/s over all threads
 *   procread run ITER GAP_MS CMD [ARG...] -> "p50 p90 first" in microseconds: wall time of ITER runs
 *                                         of CMD (stdout and stderr to /dev/null), GAP_MS apart; "first" is the
 *                                         first run (cold caches), which is also counted
 * Each iteration opens FILE, reads until EOF into a 64 KiB buffer and closes it. Built static
 * (-static -O2 -pthread) by bench/proc-read.sh so it runs in any image. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUFSZ 65536

static const char *path;
static int empty_ok;

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* One open+read-to-EOF+close; returns bytes read, or -1 (message printed) on error. */
static long read_once(char *buf) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) { fprintf(stderr, "procread: open %s: %s\n", path, strerror(errno)); return -1; }
  long total = 0;
  for (;;) {
    ssize_t n = read(fd, buf, BUFSZ);
    if (n < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "procread: read %s: %s\n", path, strerror(errno));
      close(fd);
      return -1;
    }
    if (n == 0) break;
    total += n;
  }
  close(fd);
  return total;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int lat(long iter) {
  static char buf[BUFSZ];
  long warm = iter / 10 < 20 ? 20 : iter / 10;
  for (long i = 0; i < warm; i++)
    if (read_once(buf) < 0) return 1;
  double *t = malloc(sizeof(double) * iter);
  if (!t) return 1;
  for (long i = 0; i < iter; i++) {
    double t0 = now_us();
    long n = read_once(buf);
    t[i] = now_us() - t0;
    if (n < 0) return 1;
    if (n == 0 && !empty_ok) { fprintf(stderr, "procread: %s read 0 bytes\n", path); return 1; }
  }
  qsort(t, iter, sizeof(double), cmp_double);
  printf("%.1f %.1f\n", t[(iter - 1) / 2], t[(iter * 9 - 1) / 10]);
  free(t);
  return 0;
}

static atomic_int stop;
static atomic_int failed;

static void *reader(void *arg) {
  long *count = arg;
  char *buf = malloc(BUFSZ);
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    if (read_once(buf) <= 0) { atomic_store(&failed, 1); break; }
    (*count)++;
  }
  free(buf);
  return NULL;
}

static int tput(int threads, double seconds) {
  pthread_t th[threads];
  long counts[threads];
  /* warm-up: a few reads so the first open's lookup is not in the figure */
  char *buf = malloc(BUFSZ);
  for (int i = 0; i < 20; i++)
    if (read_once(buf) <= 0) return 1;
  free(buf);
  double t0 = now_us();
  for (int i = 0; i < threads; i++) {
    counts[i] = 0;
    if (pthread_create(&th[i], NULL, reader, &counts[i]) != 0) { perror("pthread_create"); return 1; }
  }
  struct timespec ts = { (time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9) };
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
  atomic_store(&stop, 1);
  long total = 0;
  for (int i = 0; i < threads; i++) { pthread_join(th[i], NULL); total += counts[i]; }
  double elapsed = (now_us() - t0) / 1e6;
  if (atomic_load(&failed)) return 1;
  printf("%.0f\n", total / elapsed);
  return 0;
}

/* One run of argv with stdout and stderr on /dev/null; returns its wall time in us, or -1 if it failed. */
static double run_once(char **argv) {
  double t0 = now_us();
  pid_t pid = fork();
  if (pid < 0) { perror("fork"); return -1; }
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) { dup2(null, 1); dup2(null, 2); } /* sysctl -a complains of unreadable keys */
    execvp(argv[0], argv);
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) { perror("waitpid"); return -1; }
  double t = now_us() - t0;
  /* sysctl -a exits 1 on unreadable entries (as on any host): only a signal or exec failure counts */
  if (WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 127)) {
    fprintf(stderr, "procread: %s failed (status %d)\n", argv[0], status);
    return -1;
  }
  return t;
}

static int run(long iter, long gap_ms, char **argv) {
  double *t = malloc(sizeof(double) * iter);
  if (!t) return 1;
  double first = 0;
  for (long i = 0; i < iter; i++) {
    if (i > 0 && gap_ms > 0) {
      struct timespec ts = { gap_ms / 1000, (gap_ms % 1000) * 1000000L };
      while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
    }
    t[i] = run_once(argv);
    if (t[i] < 0) return 1;
    if (i == 0) first = t[0];
  }
  qsort(t, iter, sizeof(double), cmp_double);
  printf("%.0f %.0f %.0f\n", t[(iter - 1) / 2], t[(iter * 9 - 1) / 10], first);
  free(t);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 5 && strcmp(argv[1], "run") == 0) {
    long iter = atol(argv[2]), gap = atol(argv[3]);
    if (iter < 1 || gap < 0) { fprintf(stderr, "procread: bad ITER or GAP_MS\n"); return 2; }
    return run(iter, gap, argv + 4);
  }
  if ((argc == 4 || (argc == 5 && strcmp(argv[4], "empty-ok") == 0)) && strcmp(argv[1], "lat") == 0) {
    path = argv[2];
    empty_ok = argc == 5;
    long iter = atol(argv[3]);
    if (iter < 1) { fprintf(stderr, "procread: ITER must be >= 1\n"); return 2; }
    return lat(iter);
  }
  if (argc == 5 && strcmp(argv[1], "tput") == 0) {
    path = argv[2];
    int threads = atoi(argv[3]);
    double seconds = atof(argv[4]);
    if (threads < 1 || threads > 256 || seconds <= 0) { fprintf(stderr, "procread: bad THREADS or SECONDS\n"); return 2; }
    return tput(threads, seconds);
  }
  fprintf(stderr, "usage: procread lat FILE ITER [empty-ok] | procread tput FILE THREADS SECONDS | procread run ITER GAP_MS CMD [ARG...]\n");
  return 2;
}
