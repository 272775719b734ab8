// The view's node table: the kernel names files by node id, the view acts on paths. A node keeps
// its path until the kernel forgets it; a path leads to at most one node ("named").
#ifndef ROOTFS_VIEW_NODES_H
#define ROOTFS_VIEW_NODES_H
#include <stdint.h>

#define ROOT_NODE 1

void nodes_init(void);
/** The path of a node the kernel knows, or NULL. */
const char *node_path(uint64_t id);
/** The node of path (a new one if none leads there), its lookup count raised; 0 when out of memory. */
uint64_t node_lookup(const char *path);
void node_forget(uint64_t id, uint64_t count);
/** The name no longer leads to its node (removed or renamed over); the node lives until forgotten. */
void node_unname(const char *path);
/** from and everything below it now live at to; -ENOMEM or 0. */
int node_renamed(const char *from, const char *to);

#endif
