// See kept-open.h. The table's layout and locking are kept-pages.ts's: sets of WAYS entries, a
// sequence word per set (odd while locked), each entry [ino lo, ino hi, length, opens, version,
// when] then the rendering; the generation word (the fh of counted handles) ends the table.
#include "kept-open.h"
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <linux/mount.h>
#include <mutex>
#include <sys/syscall.h>
#include <unistd.h>

namespace kept {
namespace {

constexpr size_t PAGE = 4096;
constexpr uint32_t WAYS = 4;
constexpr uint32_t HEADER = 24;
enum : uint32_t { LO = 0, HI = 1, LEN = 2, OPENS = 3, VERSION = 4, WHEN = 5 };
constexpr uint32_t MAX_QUEUES = 64;
constexpr uint64_t HASH_MASK = (1ULL << 40) - 1;  // tree.ts HASH_BITS: the path's part of an inode
constexpr uint32_t INDEX_PROBES = 16;
constexpr uint32_t READY = 2;  // host-file-index.ts: 0 free, 1 being written, 2 written
// A holder locks a set by moving its sequence to an odd value 2^30 beyond a worker's (s + 1), so a
// repair tells the holder's lock from a worker's that took the set first.
constexpr uint32_t HOLDER_BIAS = 1U << 30;

// First page of the region: each holder's lock mark (set + 1 while it holds that set, and the
// sequence value it locked it with), and the OPENs it answered (Answered).
struct RegionHead {
  uint32_t lockSet[MAX_QUEUES];
  uint32_t lockValue[MAX_QUEUES];
  uint64_t answered[MAX_QUEUES];
};
static_assert(sizeof(RegionHead) <= PAGE, "region head fits a page");

struct IndexEntry {
  uint32_t state, keyLo, keyHi;
  char path[116];
};
static_assert(sizeof(IndexEntry) == 128, "index entries are 128 bytes (host-file-index.ts)");

size_t RoundUp(size_t n) { return (n + PAGE - 1) / PAGE * PAGE; }

uint32_t Load(const uint32_t* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }

uint32_t* Seqs(char* region) { return reinterpret_cast<uint32_t*>(region + TableOffset()); }
uint32_t* Entry(char* region, const Shape& s, uint32_t set, uint32_t way) {
  return reinterpret_cast<uint32_t*>(region + TableOffset() + size_t{s.sets} * 4 + (size_t{set} * WAYS + way) * s.entryBytes);
}
uint32_t* Generation(char* region, const Shape& s) {
  return reinterpret_cast<uint32_t*>(region + TableOffset() + TableBytes(s) - 4);
}

// kept-pages.ts setOf: the slot bits folded into the path hash.
uint32_t SetOf(uint64_t ino, uint32_t sets) { return static_cast<uint32_t>((ino ^ (ino >> 40) ^ (ino >> 53)) & (sets - 1)); }

// host-file-index.ts: the path the inode's content is read from, below a procfs root; null if none.
const char* HostFileOf(char* region, const Shape& s, uint64_t nodeid) {
  if (s.hostFiles == 0) return nullptr;
  uint64_t key = nodeid & HASH_MASK;
  auto lo = static_cast<uint32_t>(key), hi = static_cast<uint32_t>(key >> 32);
  auto* index = reinterpret_cast<IndexEntry*>(region + IndexOffset(s));
  uint32_t first = static_cast<uint32_t>((key ^ (key >> 20)) & 0xffffffffULL) % s.hostFiles;
  for (uint32_t i = 0; i < INDEX_PROBES; i++) {
    IndexEntry& e = index[(first + i) % s.hostFiles];
    uint32_t state = Load(&e.state);
    if (state == 0) return nullptr;
    if (state == READY && e.keyLo == lo && e.keyHi == hi) return e.path;
  }
  return nullptr;
}

// A procfs of our own attached nowhere, as sysbox-fs reads the settings (host-passthrough.ts), so
// nothing mounted over the host's /proc/sys is crossed. -1 if none could be made.
int PrivateProcfs() {
  static std::once_flag once;
  static int fd = -1;
  std::call_once(once, [] {
    int fs = static_cast<int>(syscall(SYS_fsopen, "proc", FSOPEN_CLOEXEC));
    if (fs < 0) return;
    if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) == 0) {
      fd = static_cast<int>(syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
    }
    close(fs);
  });
  return fd;
}

int32_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  // Date.now() | 0, as kept-pages.ts stamps its records.
  uint64_t ms = static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
  return static_cast<int32_t>(static_cast<uint32_t>(ms));
}

// Host files kept open and read again with pread at 0 (procfs renders a setting afresh each time),
// as sysbox-fs's workers do; one table for all the process's holders (an fd per setting, not per
// CPU). A kept fd is never closed, so no holder's pread can meet one closed under it: a read that
// failed (the setting unregistered since) marks its entry dead, and that file is then opened and
// closed per OPEN, as is every file past FDS or with its probe run full.
class HostFds {
 public:
  static constexpr uint32_t FDS = 512;
  HostFds() {
    for (auto& e : slots_) e = {0, FREE, false};
  }
  // The fd for key's file (path), or -1; temporary: the caller closes it (not kept).
  int Get(uint64_t key, const char* path, bool& temporary) {
    {
      std::lock_guard<std::mutex> g(lock_);
      for (uint32_t i = 0; i < PROBES; i++) {
        Slot& e = slots_[(Home(key) + i) % FDS];
        if (e.fd >= 0 && e.key == key) {
          if (e.dead) break;
          temporary = false;
          return e.fd;
        }
        if (e.fd == FREE) {
          int fd = Open(path);
          if (fd >= 0) e = {key, fd, false};
          temporary = false;
          return fd;
        }
      }
    }
    temporary = true;
    int fd = Open(path);
    if (fd < 0) temporary = false;
    return fd;
  }
  // A read through key's kept fd failed.
  void Drop(uint64_t key) {
    std::lock_guard<std::mutex> g(lock_);
    for (uint32_t i = 0; i < PROBES; i++) {
      Slot& e = slots_[(Home(key) + i) % FDS];
      if (e.fd == FREE) return;
      if (e.key == key) {
        e.dead = true;
        return;
      }
    }
  }

 private:
  static constexpr uint32_t PROBES = 8;
  static constexpr int FREE = -1;
  struct Slot {
    uint64_t key;
    int fd;
    bool dead;
  };
  std::mutex lock_;
  Slot slots_[FDS];
  static uint32_t Home(uint64_t key) { return static_cast<uint32_t>((key ^ (key >> 20)) % FDS); }
  static int Open(const char* path) {
    int root = PrivateProcfs();
    return root < 0 ? -1 : openat(root, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  }
};

HostFds& SharedHostFds() {
  static HostFds* fds = new HostFds();
  return *fds;
}

}  // namespace

bool ValidShape(uint32_t sets, uint32_t entryBytes, uint32_t hostFiles) {
  return sets > 0 && (sets & (sets - 1)) == 0 && sets <= (1U << 20) && entryBytes >= 64 && entryBytes <= PAGE &&
         entryBytes % 4 == 0 && hostFiles <= (1U << 16);
}
size_t TableOffset() { return PAGE; }
size_t TableBytes(const Shape& s) { return size_t{s.sets} * 4 + size_t{s.sets} * WAYS * s.entryBytes + 4; }
size_t IndexOffset(const Shape& s) { return TableOffset() + RoundUp(TableBytes(s)); }
size_t IndexBytes(const Shape& s) { return size_t{s.hostFiles} * sizeof(IndexEntry); }
size_t RegionBytes(const Shape& s) { return IndexOffset(s) + RoundUp(IndexBytes(s)); }

bool AnswerOpen(char* region, const Shape& s, uint32_t queue, uint64_t nodeid, uint64_t* fh) {
  if (s.offset == 0 || queue >= MAX_QUEUES) return false;
  const char* path = HostFileOf(region, s, nodeid);
  if (!path) return false;
  uint32_t gen = Load(Generation(region, s));
  if (gen == 0) return false;
  uint64_t key = nodeid & HASH_MASK;
  HostFds& fds = SharedHostFds();
  bool temporary;
  int fd = fds.Get(key, path, temporary);
  if (fd < 0) return false;
  char now[PAGE];
  uint32_t max = s.entryBytes - HEADER;
  ssize_t n = pread(fd, now, max + 1, 0);
  if (temporary) close(fd);
  if (n < 0 && !temporary) fds.Drop(key);
  if (n < 0 || static_cast<uint32_t>(n) > max) return false;

  auto* head = reinterpret_cast<RegionHead*>(region);
  uint32_t set = SetOf(nodeid, s.sets);
  uint32_t* seq = &Seqs(region)[set];
  uint32_t before = Load(seq);
  if (before & 1) return false;  // a worker is in the set: it answers this one
  uint32_t mine = before + 1 + HOLDER_BIAS;
  // Marked before the lock is taken, so a lock of ours never goes unmarked (RepairLocks).
  __atomic_store_n(&head->lockValue[queue], mine, __ATOMIC_SEQ_CST);
  __atomic_store_n(&head->lockSet[queue], set + 1, __ATOMIC_SEQ_CST);
  bool locked = __atomic_compare_exchange_n(seq, &before, mine, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
  bool kept = false;
  if (locked) {
    auto lo = static_cast<uint32_t>(nodeid), hi = static_cast<uint32_t>(nodeid >> 32);
    for (uint32_t w = 0; w < WAYS; w++) {
      uint32_t* e = Entry(region, s, set, w);
      if (e[LO] != lo || e[HI] != hi) continue;
      kept = e[LEN] == static_cast<uint32_t>(n) && memcmp(e + HEADER / 4, now, static_cast<size_t>(n)) == 0;
      if (kept) {
        e[OPENS]++;
        e[WHEN] = static_cast<uint32_t>(NowMs());
      }
      break;
    }
    __atomic_store_n(seq, mine + 1, __ATOMIC_RELEASE);
  }
  __atomic_store_n(&head->lockSet[queue], 0, __ATOMIC_SEQ_CST);
  if (kept) {
    *fh = gen;
    __atomic_add_fetch(&head->answered[queue], 1, __ATOMIC_RELAXED);
  }
  return kept;
}

uint64_t Answered(char* region, const Shape& s) {
  if (s.offset == 0) return 0;
  auto* head = reinterpret_cast<RegionHead*>(region);
  uint64_t n = 0;
  for (uint32_t q = 0; q < MAX_QUEUES; q++) n += __atomic_load_n(&head->answered[q], __ATOMIC_RELAXED);
  return n;
}

void RepairLocks(char* region, const Shape& s, uint32_t queues, bool holdersDead) {
  if (s.offset == 0) return;
  auto* head = reinterpret_cast<RegionHead*>(region);
  uint32_t* seqs = Seqs(region);
  if (queues > MAX_QUEUES) queues = MAX_QUEUES;
  if (holdersDead) {
    for (uint32_t q = 0; q < queues; q++) {
      uint32_t set = Load(&head->lockSet[q]);
      if (set == 0 || set > s.sets) continue;
      uint32_t v = Load(&head->lockValue[q]);
      __atomic_compare_exchange_n(&seqs[set - 1], &v, v + 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
      __atomic_store_n(&head->lockSet[q], 0, __ATOMIC_SEQ_CST);
    }
    return;
  }
  for (uint32_t set = 0; set < s.sets; set++) {
    uint32_t v = Load(&seqs[set]);
    if ((v & 1) == 0) continue;
    bool holders = false;
    for (uint32_t q = 0; q < queues && !holders; q++) {
      holders = Load(&head->lockSet[q]) == set + 1 && Load(&head->lockValue[q]) == v;
    }
    if (!holders) __atomic_compare_exchange_n(&seqs[set], &v, v + 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
  }
}

}  // namespace kept
