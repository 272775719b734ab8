// Answers the kernel's FUSE requests for a container's rootfs, once this process is pivoted into it.
#ifndef ROOTFS_VIEW_OPS_H
#define ROOTFS_VIEW_OPS_H
#include <linux/fuse.h>
#include <stddef.h>
#include <stdint.h>

/** The container's ids on the host: its root is (uid, gid), its range size ids long. */
struct id_range {
  uint32_t uid, gid, size;
};

/** The largest write (and read) the view takes; a request buffer needs this much plus headers. */
#define VIEW_MAX_WRITE (128 * 1024)
#define VIEW_REPLY_MAX (VIEW_MAX_WRITE + 4096)

void ops_init(struct id_range ids);
/**
 * Answers one request (header, then len bytes of body) into out (VIEW_REPLY_MAX bytes); the
 * reply's length, or 0 for requests that take none.
 */
size_t ops_handle(const struct fuse_in_header *in, const char *body, size_t len, char *out);

#endif
