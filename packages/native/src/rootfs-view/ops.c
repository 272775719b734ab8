// A pass-through FUSE file system showing a container's shifted rootfs as Docker expects it on the
// host: owners as the container sees them (its root as 0, not as its host id), and files created by
// host root landing as the container's root. The kernel cannot do this: an overlay mount cannot be
// ID-mapped, and host root writing through the shifted overlay fails EOVERFLOW.
//
// Paths are the ones the kernel's node ids stand for, resolved from "/", which main.c made the
// container's rootfs: symlinks the container planted resolve inside it. The last component is never
// followed (lstat, lchown, O_NOFOLLOW). Files are created with fsuid/fsgid = the container root's
// host ids, host root's capabilities kept, then given to the caller's ids. One request at a time.
#define _GNU_SOURCE
#include "ops.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "nodes.h"

#define OVERFLOW_ID 65534
#define PROTOCOL_MINOR 31

static struct id_range range;

/** A directory listed at OPENDIR: encoded fuse_dirents, each one's off the next one's index. */
struct listing {
  uint64_t fh;
  char *data;
  size_t used, cap;
  size_t *starts;  // where entry i begins in data
  size_t entries, starts_cap;
  struct listing *next;
};
static struct listing *listings;
static uint64_t next_listing = 1;

void ops_init(struct id_range ids) {
  range = ids;
  nodes_init();
}

/** An owner as the container sees it, or the overflow id for ids outside its range. */
static uint32_t shown(uint32_t host_id, uint32_t base) {
  return host_id >= base && host_id - base < range.size ? host_id - base : OVERFLOW_ID;
}

/** The host id behind an id as the container sees it (a caller's uid, a chown's argument). */
static int host_id(uint32_t id, uint32_t base, uint32_t *out) {
  if (id >= range.size) return -EOVERFLOW;
  *out = base + id;
  return 0;
}

static void fill_attr(const struct stat *st, struct fuse_attr *a) {
  memset(a, 0, sizeof *a);
  a->ino = st->st_ino;
  a->size = st->st_size;
  a->blocks = st->st_blocks;
  a->atime = st->st_atim.tv_sec;
  a->mtime = st->st_mtim.tv_sec;
  a->ctime = st->st_ctim.tv_sec;
  a->atimensec = st->st_atim.tv_nsec;
  a->mtimensec = st->st_mtim.tv_nsec;
  a->ctimensec = st->st_ctim.tv_nsec;
  a->mode = st->st_mode;
  a->nlink = st->st_nlink;
  a->uid = shown(st->st_uid, range.uid);
  a->gid = shown(st->st_gid, range.gid);
  unsigned ma = major(st->st_rdev), mi = minor(st->st_rdev);
  a->rdev = (mi & 0xff) | (ma << 8) | ((mi & ~0xffu) << 12);  // the kernel's new_encode_dev
  a->blksize = st->st_blksize;
}

static int fail(void) {
  return errno ? -errno : -EIO;
}

/** dir/name into out (PATH_MAX); names that would leave dir are refused. */
static int join(char *out, const char *dir, const char *name) {
  if (!name || !*name || !strcmp(name, ".") || !strcmp(name, "..") || strchr(name, '/')) return -EINVAL;
  int n = snprintf(out, PATH_MAX, "%s/%s", strcmp(dir, "/") ? dir : "", name);
  return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/** The count'th NUL-terminated string packed from `at` in the body (LOOKUP, SYMLINK, RENAME). */
static const char *name_in(const char *body, size_t len, size_t at, int nth) {
  for (;; nth--) {
    if (at >= len) return NULL;
    const char *end = memchr(body + at, '\0', len - at);
    if (!end) return NULL;
    if (nth == 0) return body + at;
    at = (size_t)(end - body) + 1;
  }
}

/** A node's path joined with the nth name at `at`: the usual target of a create or remove. */
static int child(char *out, uint64_t parent, const char *body, size_t len, size_t at, int nth) {
  const char *dir = node_path(parent);
  if (!dir) return -ENOENT;
  return join(out, dir, name_in(body, len, at, nth));
}

/** entry_out for path, taking a lookup on its node. */
static int entry(const char *path, char *out) {
  struct stat st;
  if (lstat(path, &st) < 0) return fail();
  uint64_t id = node_lookup(path);
  if (!id) return -ENOMEM;
  struct fuse_entry_out *e = (struct fuse_entry_out *)out;
  memset(e, 0, sizeof *e);  // timeouts 0: the container changes the same files behind our back
  e->nodeid = id;
  fill_attr(&st, &e->attr);
  return sizeof *e;
}

static int attr_reply(const char *path, char *out) {
  struct stat st;
  if (lstat(path, &st) < 0) return fail();
  struct fuse_attr_out *a = (struct fuse_attr_out *)out;
  memset(a, 0, sizeof *a);
  fill_attr(&st, &a->attr);
  return sizeof *a;
}

/** A new inode is the caller's, as on any file system (setgid dirs give their group). */
static int own_new(const char *path, const char *parent, const struct fuse_in_header *in) {
  uint32_t uid, gid;
  struct stat pst, st;
  int err = host_id(in->uid, range.uid, &uid);
  if (err) return err;
  if (stat(parent, &pst) < 0) return fail();
  if (pst.st_mode & S_ISGID) gid = pst.st_gid;
  else if ((err = host_id(in->gid, range.gid, &gid))) return err;
  if (lstat(path, &st) < 0) return fail();
  if ((st.st_uid != uid || st.st_gid != gid) && lchown(path, uid, gid) < 0) return fail();
  return 0;
}

/** The entry of a file just made at path in parent, or -errno. */
static int made(int rc, const char *path, const char *parent, const struct fuse_in_header *in, char *out) {
  if (rc < 0) return fail();
  int err = own_new(path, parent, in);
  return err ? err : entry(path, out);
}

static int setattr(const char *path, const struct fuse_setattr_in *s, char *out) {
  if (s->valid & (FATTR_UID | FATTR_GID)) {
    uint32_t uid = (uint32_t)-1, gid = (uint32_t)-1;
    int err = 0;
    if (s->valid & FATTR_UID) err = host_id(s->uid, range.uid, &uid);
    if (!err && s->valid & FATTR_GID) err = host_id(s->gid, range.gid, &gid);
    if (err) return err;
    if (lchown(path, uid, gid) < 0) return fail();
  }
  struct stat st;
  if (lstat(path, &st) < 0) return fail();
  if (s->valid & FATTR_MODE && !S_ISLNK(st.st_mode) && chmod(path, s->mode & 07777) < 0) return fail();
  if (s->valid & FATTR_SIZE && truncate(path, (off_t)s->size) < 0) return fail();
  if (s->valid & (FATTR_ATIME | FATTR_MTIME | FATTR_ATIME_NOW | FATTR_MTIME_NOW)) {
    struct timespec t[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_nsec = UTIME_OMIT}};
    if (s->valid & FATTR_ATIME_NOW) t[0].tv_nsec = UTIME_NOW;
    else if (s->valid & FATTR_ATIME) t[0] = (struct timespec){(time_t)s->atime, s->atimensec};
    if (s->valid & FATTR_MTIME_NOW) t[1].tv_nsec = UTIME_NOW;
    else if (s->valid & FATTR_MTIME) t[1] = (struct timespec){(time_t)s->mtime, s->mtimensec};
    if (utimensat(AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW) < 0) return fail();
  }
  return attr_reply(path, out);
}

static int open_reply(uint64_t fh, uint32_t flags, char *out) {
  struct fuse_open_out *o = (struct fuse_open_out *)out;
  memset(o, 0, sizeof *o);
  o->fh = fh;
  o->open_flags = flags;
  return sizeof *o;
}

static int create(const struct fuse_in_header *in, const char *body, size_t len, char *out) {
  const struct fuse_create_in *c = (const void *)body;
  char path[PATH_MAX];
  int err = child(path, in->nodeid, body, len, sizeof *c, 0);
  if (err) return err;
  int fd = open(path, (int)c->flags | O_CREAT | O_NOFOLLOW, c->mode & 07777);
  if (fd < 0) return fail();
  int n = made(0, path, node_path(in->nodeid), in, out);
  if (n < 0) {
    close(fd);
    return n;
  }
  return n + open_reply((uint64_t)fd, FOPEN_DIRECT_IO, out + n);
}

static void add_dirent(struct listing *l, const char *name, const struct stat *st) {
  size_t namelen = strlen(name), reclen = FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + namelen);
  if (l->used + reclen > l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 4096;
    while (cap < l->used + reclen) cap *= 2;
    char *data = realloc(l->data, cap);
    if (!data) return;
    l->data = data;
    l->cap = cap;
  }
  if (l->entries == l->starts_cap) {
    size_t cap = l->starts_cap ? l->starts_cap * 2 : 64;
    size_t *starts = realloc(l->starts, cap * sizeof *starts);
    if (!starts) return;
    l->starts = starts;
    l->starts_cap = cap;
  }
  struct fuse_dirent *d = (struct fuse_dirent *)(l->data + l->used);
  memset(d, 0, reclen);
  d->ino = st->st_ino;  // a real one: Go's directory reader skips entries with inode 0
  d->off = l->entries + 1;
  d->namelen = (uint32_t)namelen;
  d->type = (st->st_mode & S_IFMT) >> 12;
  memcpy(d->name, name, namelen);
  l->starts[l->entries++] = l->used;
  l->used += reclen;
}

/** The whole listing now, so that entries removed meanwhile do not shift the offsets. */
static int opendir_(const char *path, char *out) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return fail();
  DIR *dir = fdopendir(fd);
  if (!dir) {
    close(fd);
    return fail();
  }
  struct listing *l = calloc(1, sizeof *l);
  if (!l) {
    closedir(dir);
    return -ENOMEM;
  }
  for (struct dirent *de; (de = readdir(dir));) {
    struct stat st;
    if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) add_dirent(l, de->d_name, &st);  // else removed meanwhile
  }
  closedir(dir);
  l->fh = next_listing++;
  l->next = listings;
  listings = l;
  return open_reply(l->fh, 0, out);
}

static struct listing **listing_at(uint64_t fh) {
  struct listing **at = &listings;
  while (*at && (*at)->fh != fh) at = &(*at)->next;
  return at;
}

static int readdir_(const struct fuse_read_in *r, char *out) {
  struct listing *l = *listing_at(r->fh);
  if (!l) return -EBADF;
  size_t used = 0;
  for (uint64_t i = r->offset; i < l->entries; i++) {
    size_t end = i + 1 < l->entries ? l->starts[i + 1] : l->used, len = end - l->starts[i];
    if (used + len > r->size || used + len > VIEW_REPLY_MAX - sizeof(struct fuse_out_header)) break;
    memcpy(out + used, l->data + l->starts[i], len);
    used += len;
  }
  return (int)used;
}

static void releasedir_(uint64_t fh) {
  struct listing **at = listing_at(fh), *l = *at;
  if (!l) return;
  *at = l->next;
  free(l->data);
  free(l->starts);
  free(l);
}

static int statfs_(char *out) {
  struct statfs s;
  if (statfs("/", &s) < 0) return fail();
  struct fuse_statfs_out *o = (struct fuse_statfs_out *)out;
  memset(o, 0, sizeof *o);
  o->st.blocks = s.f_blocks;
  o->st.bfree = s.f_bfree;
  o->st.bavail = s.f_bavail;
  o->st.files = s.f_files;
  o->st.ffree = s.f_ffree;
  o->st.bsize = (uint32_t)s.f_bsize;
  o->st.namelen = 255;
  o->st.frsize = (uint32_t)s.f_bsize;
  return sizeof *o;
}

static int init(const struct fuse_init_in *i, char *out) {
  struct fuse_init_out *o = (struct fuse_init_out *)out;
  memset(o, 0, sizeof *o);
  o->major = FUSE_KERNEL_VERSION;
  if (i->major > FUSE_KERNEL_VERSION) return sizeof *o;  // the kernel asks again with our major
  o->minor = i->minor < PROTOCOL_MINOR ? i->minor : PROTOCOL_MINOR;
  o->max_readahead = i->max_readahead;
  o->flags = i->flags & FUSE_BIG_WRITES;
  o->max_background = 16;
  o->congestion_threshold = 12;
  o->max_write = VIEW_MAX_WRITE;
  o->time_gran = 1;
  return sizeof *o;
}

/** Bodies shorter than their opcode's fixed part are refused before any field is read. */
static size_t fixed_part(uint32_t opcode) {
  switch (opcode) {
    case FUSE_INIT: return 16;  // major, minor, max_readahead, flags: all a 7.x kernel must send
    case FUSE_FORGET: return sizeof(struct fuse_forget_in);
    case FUSE_BATCH_FORGET: return sizeof(struct fuse_batch_forget_in);
    case FUSE_SETATTR: return sizeof(struct fuse_setattr_in);
    case FUSE_MKNOD: return sizeof(struct fuse_mknod_in);
    case FUSE_MKDIR: return sizeof(struct fuse_mkdir_in);
    case FUSE_RENAME: return sizeof(struct fuse_rename_in);
    case FUSE_RENAME2: return sizeof(struct fuse_rename2_in);
    case FUSE_LINK: return sizeof(struct fuse_link_in);
    case FUSE_OPEN: return sizeof(struct fuse_open_in);
    case FUSE_CREATE: return sizeof(struct fuse_create_in);
    case FUSE_READ: case FUSE_READDIR: return sizeof(struct fuse_read_in);
    case FUSE_WRITE: return sizeof(struct fuse_write_in);
    case FUSE_RELEASE: case FUSE_RELEASEDIR: return sizeof(struct fuse_release_in);
    case FUSE_FSYNC: return sizeof(struct fuse_fsync_in);
    default: return 0;
  }
}

/** The reply body's length, or -errno. */
static int dispatch(const struct fuse_in_header *in, const char *b, size_t len, char *out) {
  const char *path = node_path(in->nodeid);
  char p[PATH_MAX];
  int err;
  errno = 0;
  switch (in->opcode) {
    case FUSE_INIT: return init((const void *)b, out);
    case FUSE_LOOKUP: return (err = child(p, in->nodeid, b, len, 0, 0)) ? err : entry(p, out);
    case FUSE_GETATTR: return path ? attr_reply(path, out) : -ENOENT;
    case FUSE_SETATTR: return path ? setattr(path, (const void *)b, out) : -ENOENT;
    case FUSE_READLINK: {
      if (!path) return -ENOENT;
      ssize_t n = readlink(path, out, PATH_MAX);
      return n < 0 ? fail() : (int)n;
    }
    case FUSE_SYMLINK: {
      const char *target = name_in(b, len, 0, 1);
      if ((err = child(p, in->nodeid, b, len, 0, 0))) return err;
      if (!target) return -EINVAL;
      return made(symlink(target, p), p, path, in, out);
    }
    case FUSE_MKNOD: {
      const struct fuse_mknod_in *m = (const void *)b;
      if ((err = child(p, in->nodeid, b, len, sizeof *m, 0))) return err;
      dev_t dev = makedev((m->rdev & 0xfff00) >> 8, (m->rdev & 0xff) | ((m->rdev >> 12) & 0xfff00));
      return made(mknod(p, m->mode, dev), p, path, in, out);
    }
    case FUSE_MKDIR: {
      const struct fuse_mkdir_in *m = (const void *)b;
      if ((err = child(p, in->nodeid, b, len, sizeof *m, 0))) return err;
      return made(mkdir(p, m->mode & 07777), p, path, in, out);
    }
    case FUSE_UNLINK: case FUSE_RMDIR: {
      if ((err = child(p, in->nodeid, b, len, 0, 0))) return err;
      if ((in->opcode == FUSE_UNLINK ? unlink(p) : rmdir(p)) < 0) return fail();
      node_unname(p);
      return 0;
    }
    case FUSE_RENAME: case FUSE_RENAME2: {
      size_t at = in->opcode == FUSE_RENAME ? sizeof(struct fuse_rename_in) : sizeof(struct fuse_rename2_in);
      if (in->opcode == FUSE_RENAME2 && ((const struct fuse_rename2_in *)b)->flags != 0) return -EINVAL;
      char to[PATH_MAX];
      if ((err = child(p, in->nodeid, b, len, at, 0))) return err;
      if ((err = child(to, ((const struct fuse_rename_in *)b)->newdir, b, len, at, 1))) return err;
      if (rename(p, to) < 0) return fail();
      return node_renamed(p, to);
    }
    case FUSE_LINK: {
      const char *old = node_path(((const struct fuse_link_in *)b)->oldnodeid);
      if ((err = child(p, in->nodeid, b, len, sizeof(struct fuse_link_in), 0))) return err;
      if (!old) return -ENOENT;
      return link(old, p) < 0 ? fail() : entry(p, out);
    }
    case FUSE_OPEN: {
      if (!path) return -ENOENT;
      int fd = open(path, ((int)((const struct fuse_open_in *)b)->flags & ~O_CREAT) | O_NOFOLLOW);
      return fd < 0 ? fail() : open_reply((uint64_t)fd, FOPEN_DIRECT_IO, out);
    }
    case FUSE_CREATE: return create(in, b, len, out);
    case FUSE_READ: {
      const struct fuse_read_in *r = (const void *)b;
      size_t size = r->size < VIEW_MAX_WRITE ? r->size : VIEW_MAX_WRITE;
      ssize_t n = pread((int)r->fh, out, size, (off_t)r->offset);
      return n < 0 ? fail() : (int)n;
    }
    case FUSE_WRITE: {
      const struct fuse_write_in *w = (const void *)b;
      if (len < sizeof *w + w->size) return -EINVAL;
      ssize_t n = pwrite((int)w->fh, b + sizeof *w, w->size, (off_t)w->offset);
      if (n < 0) return fail();
      struct fuse_write_out *o = (struct fuse_write_out *)out;
      memset(o, 0, sizeof *o);
      o->size = (uint32_t)n;
      return sizeof *o;
    }
    case FUSE_RELEASE: close((int)((const struct fuse_release_in *)b)->fh); return 0;
    case FUSE_FSYNC: return fsync((int)((const struct fuse_fsync_in *)b)->fh) < 0 ? fail() : 0;
    case FUSE_FLUSH: case FUSE_FSYNCDIR: case FUSE_ACCESS: return 0;
    case FUSE_STATFS: return statfs_(out);
    case FUSE_OPENDIR: return path ? opendir_(path, out) : -ENOENT;
    case FUSE_READDIR: return readdir_((const void *)b, out);
    case FUSE_RELEASEDIR: releasedir_(((const struct fuse_release_in *)b)->fh); return 0;
    default: return -ENOSYS;  // xattrs, locks, fallocate...: the kernel stops asking or falls back
  }
}

size_t ops_handle(const struct fuse_in_header *in, const char *body, size_t len, char *out) {
  switch (in->opcode) {
    case FUSE_FORGET:
      if (len >= sizeof(struct fuse_forget_in)) node_forget(in->nodeid, ((const struct fuse_forget_in *)body)->nlookup);
      return 0;
    case FUSE_BATCH_FORGET: {
      if (len < sizeof(struct fuse_batch_forget_in)) return 0;
      const struct fuse_batch_forget_in *f = (const void *)body;
      const struct fuse_forget_one *one = (const void *)(f + 1);
      for (uint32_t i = 0; i < f->count && sizeof *f + (i + 1) * sizeof *one <= len; i++) node_forget(one[i].nodeid, one[i].nlookup);
      return 0;
    }
    case FUSE_INTERRUPT: return 0;
  }
  struct fuse_out_header *h = (struct fuse_out_header *)out;
  int n = len < fixed_part(in->opcode) ? -EINVAL : dispatch(in, body, len, out + sizeof *h);
  h->unique = in->unique;
  h->error = n < 0 ? n : 0;
  h->len = (uint32_t)(sizeof *h + (n < 0 ? 0 : (size_t)n));
  return h->len;
}
