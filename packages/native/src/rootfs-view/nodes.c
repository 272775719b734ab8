// Two chained hash tables over the same nodes: by id (every node) and by path (named nodes only).
// Both grow together, doubling once there are more nodes than buckets.
#include "nodes.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct node {
  uint64_t id;
  uint64_t lookups;
  char *path;
  bool named;
  struct node *next_by_id;
  struct node *next_by_path;
};

static struct node **by_id, **by_path;
static size_t buckets, count;
static uint64_t next_id = ROOT_NODE + 1;

static size_t hash_path(const char *p) {
  size_t h = 14695981039346656037ULL;  // FNV-1a
  for (; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
  return h;
}

static struct node *find(uint64_t id) {
  struct node *n = by_id[id & (buckets - 1)];
  while (n && n->id != id) n = n->next_by_id;
  return n;
}

static struct node *find_named(const char *path) {
  struct node *n = by_path[hash_path(path) & (buckets - 1)];
  while (n && strcmp(n->path, path) != 0) n = n->next_by_path;
  return n;
}

static void name(struct node *n) {
  struct node **b = &by_path[hash_path(n->path) & (buckets - 1)];
  n->next_by_path = *b;
  *b = n;
  n->named = true;
}

static void unname(struct node *n) {
  if (!n->named) return;
  struct node **at = &by_path[hash_path(n->path) & (buckets - 1)];
  while (*at != n) at = &(*at)->next_by_path;
  *at = n->next_by_path;
  n->named = false;
}

static void link_id(struct node *n) {
  struct node **b = &by_id[n->id & (buckets - 1)];
  n->next_by_id = *b;
  *b = n;
}

/** Rebuilds both tables at twice the size; keeps the old ones if memory runs out. */
static void grow(void) {
  size_t old = buckets;
  struct node **ids = calloc(old * 2, sizeof *ids), **paths = calloc(old * 2, sizeof *paths);
  if (!ids || !paths) {
    free(ids);
    free(paths);
    return;
  }
  struct node **old_ids = by_id;
  free(by_path);
  by_id = ids;
  by_path = paths;
  buckets = old * 2;
  for (size_t i = 0; i < old; i++) {
    for (struct node *n = old_ids[i], *next; n; n = next) {
      next = n->next_by_id;
      link_id(n);
      if (n->named) name(n);
    }
  }
  free(old_ids);
}

static struct node *add(uint64_t id, const char *path) {
  struct node *n = calloc(1, sizeof *n);
  if (!n || !(n->path = strdup(path))) {
    free(n);
    return NULL;
  }
  n->id = id;
  link_id(n);
  name(n);
  if (++count > buckets) grow();
  return n;
}

void nodes_init(void) {
  buckets = 1024;
  by_id = calloc(buckets, sizeof *by_id);
  by_path = calloc(buckets, sizeof *by_path);
  if (!by_id || !by_path || !add(ROOT_NODE, "/")) abort();
}

const char *node_path(uint64_t id) {
  struct node *n = find(id);
  return n ? n->path : NULL;
}

uint64_t node_lookup(const char *path) {
  struct node *n = find_named(path);
  if (!n && !(n = add(next_id, path))) return 0;
  if (n->id == next_id) next_id++;
  n->lookups++;
  return n->id;
}

void node_forget(uint64_t id, uint64_t forgotten) {
  struct node *n = find(id);
  if (!n || id == ROOT_NODE) return;
  n->lookups = forgotten >= n->lookups ? 0 : n->lookups - forgotten;
  if (n->lookups > 0) return;
  unname(n);
  struct node **at = &by_id[id & (buckets - 1)];
  while (*at != n) at = &(*at)->next_by_id;
  *at = n->next_by_id;
  free(n->path);
  free(n);
  count--;
}

void node_unname(const char *path) {
  struct node *n = find_named(path);
  if (n) unname(n);
}

int node_renamed(const char *from, const char *to) {
  node_unname(to);
  size_t from_len = strlen(from), to_len = strlen(to);
  for (size_t i = 0; i < buckets; i++) {
    for (struct node *n = by_id[i]; n; n = n->next_by_id) {
      if (strncmp(n->path, from, from_len) != 0 || (n->path[from_len] != '\0' && n->path[from_len] != '/')) continue;
      size_t rest = strlen(n->path + from_len);
      char *moved = malloc(to_len + rest + 1);
      if (!moved) return -ENOMEM;
      memcpy(moved, to, to_len);
      memcpy(moved + to_len, n->path + from_len, rest + 1);
      unname(n);
      free(n->path);
      n->path = moved;
      // What was there under the new name before is no longer reached by it.
      struct node *other = find_named(moved);
      if (other) unname(other);
      name(n);
    }
  }
  return 0;
}
