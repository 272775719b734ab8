// FUSE over io_uring (kernel 6.14+, FUSE 7.42): a ring per CPU queue, so that a request is served
// on the CPU its caller runs on. A request crossing CPUs costs ~20-40 µs on a VM whose idle vCPUs
// halt (bench/README.md, fuse-uring-probe), one served in place ~6.
//
// Who owns the rings matters more than anything else here. The kernel hands a queued request to a
// ring entry in the task that submitted the entry; if that task is dying, the request ends with
// ECANCELED (the caller's read fails), and one the dying server held is never answered (its caller
// waits, unkillable). A Node process takes milliseconds to die, so a kill -9 of a server that owns
// its rings fails reads every time (measured: 15 failed reads over 12 kills). So the rings are
// owned by "holder" threads in sysbox-fs's fd keeper, a process that outlives sysbox-fs; sysbox-fs's
// workers serve the requests through shared memory and never touch the rings:
//
//   holder (keeper, bound to CPU q)           server worker (sysbox-fs, bound to CPU q)
//   REGISTER / COMMIT_AND_FETCH entry k
//   CQE: a request in slot k → REQUEST,
//        requestSeq++, futex wake  ────────►  takes slot k (REQUEST → SERVING), dispatches it,
//                                             writes the reply into slot k → REPLIED,
//   futex (doorbell) CQE: commits every  ◄──  doorbell++; futex wake and wait for the next
//   REPLIED slot, as SCHED_IDLE when          request in one io_uring_enter (RingAndAwait)
//   nothing else of the queue is in flight
//   (SubmitCommitsIdle: the caller wakes
//   on this CPU, not the idle one)
//
// RELEASE, RELEASEDIR and FLUSH need nothing of the server but a counted handle's uncount: the holder
// answers and commits them itself, logging that uncount in the queue's fields (AnswerHere).
//
// A restarted server finds the slots as its predecessor left them: REQUEST and REPLIED ones go on as
// usual; a SERVING one is served again (the parts of the request a half-written reply overwrote are
// saved first). A restarted holder (the keeper killed) likewise finds a request its predecessor
// received but never marked, by its commit id (AdoptSlots). The "arena" holding the slots is a
// memfd mapped at one fixed address in both processes: the kernel writes requests to, and reads
// replies from, the addresses an entry was registered with, in the holder's address space.
//
// uringArena(fd, payloadSize, queues, entries): {fd, base, payloadSize, queues, entries} — fd < 0:
//   a new arena (memfd); else maps the given one at the address it was made for.
// uringHold(fuseFd, base): starts a holder thread per queue (once per process); returns once each
//   has its entries registered (throws after 2 s).
// uringServe(base, qid, adopt): handle — binds the calling thread to CPU qid; adopt: a predecessor
//   may have left slots SERVING.
// uringExchange(handle, reply, request, released?): number — hands over reply (the classic /dev/fuse
//   layout: fuse_out_header then body; null: nothing to hand over) for the request last returned,
//   then waits for the next one and copies it into request in the classic layout (fuse_in_header,
//   the op's own header, then the payload), so that callers dispatch it as one read from /dev/fuse.
//   Returns its length, 0 after a second with none, or -errno (ENOTCONN: the connection is gone).
//   released (a Uint32Array) gets the counted RELEASEs the holders answered themselves: [count,
//   nodeid lo, hi, fh, ...].
// uringStoreBegin(handle, fd, notify) / uringStoreWait(handle, reply, request): a FUSE notify
//   written by the server's storer thread while the server answers other requests of its queue
//   (a store locks a page that a READ waiting in this queue may hold).
// The UAPI structs are spelled out: Debian 12's linux-libc-dev (6.1) predates them.
#include "args.h"
#include "errors.h"
#include "kept-open.h"
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <fcntl.h>
#include <ctime>
#include <linux/fuse.h>
#include <linux/futex.h>
#include <linux/io_uring.h>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

constexpr int HDR = 128;
struct EntInOut { uint64_t flags, commit_id; uint32_t payload_sz, padding; uint64_t reserved; };
struct ReqHeader { char in_out[HDR]; char op_in[HDR]; EntInOut e; };
struct CmdReq { uint64_t flags, commit_id; uint16_t qid; uint8_t pad[6]; };
constexpr uint32_t CMD_REGISTER = 1;
constexpr uint32_t CMD_COMMIT_AND_FETCH = 2;
constexpr uint8_t OP_FUTEX_WAIT = 51;  // IORING_OP_FUTEX_WAIT, 6.7
constexpr uint32_t FUTEX2_U32 = 0x02;  // shared (not FUTEX2_PRIVATE): the other side is another process
constexpr uint64_t DOORBELL = ~0ULL;   // user_data of the holder's futex wait
constexpr size_t PAGE = 4096;
constexpr size_t MAX_QUEUES = 63;

// Above where V8 places its reservations (random hints below 2^46) and the PIE image and heap
// (0x55..-0x56..), below the mmap base (0x7e..-0x7f..): nothing else asks for it.
constexpr uintptr_t ARENA_BASE = 0x600000000000ULL;
constexpr uint64_t ARENA_MAGIC = 0x73627866732d7232ULL;  // "sbxfs-r2"

constexpr uint32_t RELEASE_LOG = 3;  // entries: what fits the rest of a QueueCtl's cache line

struct alignas(64) QueueCtl {
  uint32_t requestSeq;  // bumped by the holder when a slot becomes REQUEST (server futex-waits on it)
  uint32_t doorbell;    // bumped by the server when a slot becomes REPLIED (holder futex-waits on it)
  uint32_t ended;       // the holder saw the connection end: servers stop
  uint32_t unused;      // was 'holding', which said no more than 'ended'; kept so that the fields after it stay put
  uint32_t serverAsleep;  // the server is (about to be) in its futex wait: only then does a request need a wake
  // RELEASEs of counted handles the holder answered itself (AnswerHere), for a server to uncount:
  // the holder alone appends (releaseHead), any server takes (compare-and-swap on releaseTail).
  // Zero in an arena an older holder made, which never logs.
  uint32_t releaseHead, releaseTail;
  uint32_t releaseLog[RELEASE_LOG * 3];  // per entry: nodeid low and high words, fh
};
static_assert(sizeof(QueueCtl) == 64, "a queue's fields stay one cache line, as older arenas laid them out");
struct ArenaHeader {
  uint64_t magic, base, payloadSize, queues, entries;
  // Where the page records' short table and the host file index are (kept-open.h), after the
  // slots; 0 in an arena an older sysbox-fs made, which has none.
  uint64_t keptOffset;
  uint32_t keptSets, keptEntryBytes, hostFiles, unusedKept;
  QueueCtl q[MAX_QUEUES];
};
static_assert(sizeof(ArenaHeader) <= PAGE, "arena header fits a page");

enum SlotState : uint32_t { IN_KERNEL = 0, REQUEST = 1, SERVING = 2, REPLIED = 3 };

// Next to an entry's header: its state, and the parts of its request that the reply (written over
// it: the kernel reads the reply from the same buffers) overwrote, saved for a successor.
struct SlotCtl {
  uint32_t state;
  uint32_t savedLen, payloadSz, pad;
  uint64_t savedFor;  // commit id whose request is saved (0: none)
  char savedInOut[sizeof(fuse_in_header)];
  // The commit id of the request last replied to, written before REPLIED. The kernel rewrites the
  // header's commit id only when it hands the slot a new request, so a holder starting after
  // another died tells by this whether the slot holds a request its predecessor never marked.
  uint64_t replyFor;
};
constexpr size_t SAVED_PAYLOAD_MAX = 2 * PAGE - 1024;
struct SlotHead {
  ReqHeader header;
  char pad1[512 - sizeof(ReqHeader)];
  SlotCtl ctl;
  char pad2[1024 - 512 - sizeof(SlotCtl)];
  char savedPayload[SAVED_PAYLOAD_MAX];
};
static_assert(sizeof(SlotHead) == 2 * PAGE, "slot head is two pages");

size_t SlotSize(uint64_t payloadSize) { return sizeof(SlotHead) + (payloadSize + PAGE - 1) / PAGE * PAGE; }
size_t SlotsEnd(const ArenaHeader& h) { return PAGE + h.queues * h.entries * SlotSize(h.payloadSize); }
kept::Shape KeptShape(const ArenaHeader& h) { return {h.keptOffset, h.keptSets, h.keptEntryBytes, h.hostFiles}; }
size_t ArenaSize(const ArenaHeader& h) { return h.keptOffset ? h.keptOffset + kept::RegionBytes(KeptShape(h)) : SlotsEnd(h); }
char* KeptRegion(ArenaHeader* a) { return reinterpret_cast<char*>(a) + a->keptOffset; }

ArenaHeader* HeaderAt(uintptr_t base) { return reinterpret_cast<ArenaHeader*>(base); }

// The arena mapped at base (a JS caller's number), or a thrown Error.
ArenaHeader* MappedArena(Napi::Env env, uintptr_t base) {
  ArenaHeader* a = HeaderAt(base);
  if (a->magic != ARENA_MAGIC) throw Napi::Error::New(env, "no FUSE ring arena at that address");
  return a;
}
SlotHead* SlotAt(ArenaHeader* a, uint64_t qid, uint64_t k) {
  return reinterpret_cast<SlotHead*>(reinterpret_cast<char*>(a) + PAGE + (qid * a->entries + k) * SlotSize(a->payloadSize));
}
char* PayloadOf(SlotHead* s) { return reinterpret_cast<char*>(s) + sizeof(SlotHead); }

uint32_t Load(const uint32_t* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
void Store(uint32_t* p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
void Wake(uint32_t* p) { syscall(SYS_futex, p, FUTEX_WAKE, INT32_MAX, nullptr, nullptr, 0); }

// ---- holder side (the fd keeper) ----

struct Ring {
  int fd = -1;
  unsigned *sqTail = nullptr, *sqMask = nullptr, *sqArray = nullptr, *cqHead = nullptr, *cqTail = nullptr, *cqMask = nullptr;
  char* sqes = nullptr;
  io_uring_cqe* cqes = nullptr;
  unsigned toSubmit = 0;
};

bool SetupRing(Ring& r, unsigned entries) {
  io_uring_params p;
  memset(&p, 0, sizeof(p));
  p.flags = IORING_SETUP_SQE128;
  r.fd = static_cast<int>(syscall(__NR_io_uring_setup, entries, &p));
  if (r.fd < 0) return false;
  size_t sqsz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cqsz = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
  auto* sq = static_cast<char*>(mmap(nullptr, sqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r.fd, IORING_OFF_SQ_RING));
  auto* cq = static_cast<char*>(mmap(nullptr, cqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r.fd, IORING_OFF_CQ_RING));
  r.sqes = static_cast<char*>(mmap(nullptr, p.sq_entries * 128, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r.fd, IORING_OFF_SQES));
  if (sq == MAP_FAILED || cq == MAP_FAILED || r.sqes == MAP_FAILED) return false;
  r.sqTail = reinterpret_cast<unsigned*>(sq + p.sq_off.tail);
  r.sqMask = reinterpret_cast<unsigned*>(sq + p.sq_off.ring_mask);
  r.sqArray = reinterpret_cast<unsigned*>(sq + p.sq_off.array);
  r.cqHead = reinterpret_cast<unsigned*>(cq + p.cq_off.head);
  r.cqTail = reinterpret_cast<unsigned*>(cq + p.cq_off.tail);
  r.cqMask = reinterpret_cast<unsigned*>(cq + p.cq_off.ring_mask);
  r.cqes = reinterpret_cast<io_uring_cqe*>(cq + p.cq_off.cqes);
  return true;
}

io_uring_sqe* NextSqe(Ring& r, uint64_t userData) {
  unsigned t = *r.sqTail, i = t & *r.sqMask;
  auto* s = reinterpret_cast<io_uring_sqe*>(r.sqes + i * 128);
  memset(s, 0, 128);
  s->user_data = userData;
  r.sqArray[i] = i;
  __atomic_store_n(r.sqTail, t + 1, __ATOMIC_RELEASE);
  r.toSubmit++;
  return s;
}

struct Holder {
  int fuseFd;
  ArenaHeader* arena;
  uint32_t qid;
  std::vector<iovec> iov;  // two per slot: header, payload
  // Slots whose commit is queued but not yet submitted: they stay REPLIED until it is, so that a
  // successor commits again what a holder dying in between never sent.
  std::vector<uint32_t> committing;
  bool idleCommit;  // ProbeIdleCommit passed
};

void PushEntry(Ring& r, Holder& h, uint32_t k, uint32_t op, uint64_t commit) {
  io_uring_sqe* s = NextSqe(r, k);
  s->opcode = IORING_OP_URING_CMD;
  s->fd = h.fuseFd;
  s->cmd_op = op;
  if (op == CMD_REGISTER) {
    s->addr = reinterpret_cast<uint64_t>(&h.iov[2 * k]);
    s->len = 2;
  }
  auto* c = reinterpret_cast<CmdReq*>(s->cmd);
  c->qid = static_cast<uint16_t>(h.qid);
  c->commit_id = commit;
}

void PushDoorbellWait(Ring& r, QueueCtl& q, uint32_t seen) {
  io_uring_sqe* s = NextSqe(r, DOORBELL);
  s->opcode = OP_FUTEX_WAIT;
  s->addr = reinterpret_cast<uint64_t>(&q.doorbell);
  s->addr2 = seen;
  s->addr3 = 0xffffffffULL;  // FUTEX_BITSET_MATCH_ANY
  s->fd = FUTEX2_U32;
}

bool Committing(const Holder& h, uint32_t k) {
  for (uint32_t c : h.committing) if (c == k) return true;
  return false;
}

// Queues a commit for every slot whose reply is complete (at a holder's start too: a reply its
// predecessor never committed; the kernel finds the request by its commit id from this ring).
void CommitReplied(Ring& r, Holder& h) {
  for (uint32_t k = 0; k < h.arena->entries; k++) {
    SlotHead* s = SlotAt(h.arena, h.qid, k);
    if (Load(&s->ctl.state) != REPLIED || Committing(h, k)) continue;
    h.committing.push_back(k);
    PushEntry(r, h, k, CMD_COMMIT_AND_FETCH, s->header.e.commit_id);
  }
}

// The commits queued are with the kernel now: their slots wait there for the next request.
void Submitted(Holder& h) {
  for (uint32_t k : h.committing) Store(&SlotAt(h.arena, h.qid, k)->ctl.state, IN_KERNEL);
  h.committing.clear();
}

// The reply (its out header already over the request's in header) is whole: its payload length is
// set, and replyFor records the commit id it answers before the slot turns REPLIED, so that a holder
// starting after this one died tells a slot holding a reply from one holding a new request.
void SetReplied(SlotHead* s, uint32_t payload) {
  s->header.e.payload_sz = payload;
  s->ctl.replyFor = s->header.e.commit_id;
  Store(&s->ctl.state, REPLIED);
}

// Appends a counted handle's RELEASE to the queue's log; false if the log is full.
bool LogRelease(QueueCtl& q, uint64_t nodeid, uint32_t fh) {
  uint32_t head = q.releaseHead;
  if (head - __atomic_load_n(&q.releaseTail, __ATOMIC_ACQUIRE) >= RELEASE_LOG) return false;
  uint32_t* e = &q.releaseLog[(head % RELEASE_LOG) * 3];
  __atomic_store_n(&e[0], static_cast<uint32_t>(nodeid), __ATOMIC_RELAXED);
  __atomic_store_n(&e[1], static_cast<uint32_t>(nodeid >> 32), __ATOMIC_RELAXED);
  __atomic_store_n(&e[2], fh, __ATOMIC_RELAXED);
  __atomic_store_n(&q.releaseHead, head + 1, __ATOMIC_RELEASE);
  return true;
}

// An OPEN for reading of a host setting whose page record holds what the host file reads now,
// answered as sysbox-fs's dispatch would (kept-open.h): FOPEN_KEEP_CACHE with the counted fh. A
// sysctl -a sends ~250 of these, each of which cost two thread switches and ~12 µs of JS otherwise.
bool AnswerOpenHere(Holder& h, SlotHead* s) {
  auto* ih = reinterpret_cast<const fuse_in_header*>(s->header.in_out);
  auto* in = reinterpret_cast<const fuse_open_in*>(s->header.op_in);
  if ((in->flags & O_ACCMODE) != O_RDONLY) return false;
  uint64_t fh = 0;
  if (!kept::AnswerOpen(KeptRegion(h.arena), KeptShape(*h.arena), h.qid, ih->nodeid, &fh)) return false;
  fuse_open_out out{};
  out.fh = fh;
  out.open_flags = FOPEN_KEEP_CACHE | FOPEN_NOFLUSH;
  fuse_out_header oh{static_cast<uint32_t>(sizeof(fuse_out_header) + sizeof(out)), 0, ih->unique};
  memcpy(s->header.in_out, &oh, sizeof(oh));
  memcpy(PayloadOf(s), &out, sizeof(out));
  SetReplied(s, sizeof(out));
  return true;
}

// Answers in the holder a request whose answer is nothing but success, sparing the hop to the
// server and back (two thread switches and the server's dispatch): RELEASEDIR, FLUSH, and RELEASE,
// whose only effect in sysbox-fs is uncounting a page-cached handle (fh non-zero): that is logged
// for a server to do (uringExchange's released), and with the log full the server gets the request.
// Leaves the slot REPLIED, as a server would. The reader never waits on these (the kernel sends
// them in the background) but their handling ran on its CPU: ~half of a page-cached read's work.
// And OPENs of unchanged host settings (AnswerOpenHere).
bool AnswerHere(Holder& h, QueueCtl& q, SlotHead* s) {
  auto* ih = reinterpret_cast<const fuse_in_header*>(s->header.in_out);
  uint32_t op = ih->opcode;
  if (op == FUSE_OPEN) return AnswerOpenHere(h, s);
  if (op == FUSE_RELEASE) {
    uint64_t fh = reinterpret_cast<const fuse_release_in*>(s->header.op_in)->fh;
    if (fh > UINT32_MAX || (fh != 0 && !LogRelease(q, ih->nodeid, static_cast<uint32_t>(fh)))) return false;
  } else if (op != FUSE_RELEASEDIR && op != FUSE_FLUSH) {
    return false;
  }
  fuse_out_header oh{sizeof(fuse_out_header), 0, ih->unique};
  memcpy(s->header.in_out, &oh, sizeof(oh));
  SetReplied(s, 0);
  return true;
}

// Hands slot k's request to the server.
void MarkRequest(QueueCtl& q, SlotHead* s) {
  Store(&s->ctl.state, REQUEST);
  // Paired with the server's serverAsleep store and futex wait (seq_cst both sides): either it
  // sees the new requestSeq and does not sleep, or we see it asleep and wake it. A busy server
  // (several readers on this CPU) costs no wake-up syscall.
  __atomic_add_fetch(&q.requestSeq, 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&q.serverAsleep, __ATOMIC_SEQ_CST)) Wake(&q.requestSeq);
}

// A holder starting where another died (the keeper killed, or sysbox-fs taking the rings over)
// finds each slot as the dead one left it. The kernel rewrites a slot's commit id only when it
// hands the slot a request, and a reply records the id it answers (replyFor), so a commit id
// other than replyFor is a request the dead holder received but never marked: without this its
// caller would wait for ever. REQUEST and SERVING slots are the server's; REPLIED ones are
// committed again (ENOENT if the dead holder's commit went through: then they get an entry).
void AdoptSlots(Ring& r, Holder& h, QueueCtl& q) {
  for (uint32_t k = 0; k < h.arena->entries; k++) {
    SlotHead* s = SlotAt(h.arena, h.qid, k);
    uint32_t state = Load(&s->ctl.state);
    if (state != IN_KERNEL && state != REPLIED) continue;
    if (s->header.e.commit_id != s->ctl.replyFor) {
      if (!AnswerHere(h, q, s)) MarkRequest(q, s);  // else REPLIED: committed below (CommitReplied)
    } else if (state == IN_KERNEL) {
      PushEntry(r, h, k, CMD_REGISTER, 0);
    }
  }
}

// The queue is served no more: servers waiting for a request return ENOTCONN. requestSeq moves on
// too, so a server just about to wait does not sleep past this.
void EndQueue(QueueCtl& q) {
  Store(&q.ended, 1);
  __atomic_add_fetch(&q.requestSeq, 1, __ATOMIC_SEQ_CST);
  Wake(&q.requestSeq);
}

// uringHold returns once every holder has its entries registered: a request sent right after it
// (ring-takeover.ts sends one through each CPU's queue, to move on requests queued meanwhile) must
// find them there, or it queues behind the others.
std::mutex startedLock;
std::condition_variable startedCv;
unsigned started = 0;

void Started() {
  std::lock_guard<std::mutex> g(startedLock);
  started++;
  startedCv.notify_all();
}

// A commit wakes the request's caller while the holder still runs on the caller's CPU, so the
// scheduler puts the caller on the other, idle CPU: on a VM whose idle vCPUs halt that costs a
// wake-up through the hypervisor per request, and moves the caller's next request to that CPU's
// queue. A CPU whose only running task is SCHED_IDLE counts as idle, so the holder commits as
// SCHED_IDLE: the caller wakes where it slept and preempts the holder at once. The holder is
// SCHED_IDLE for that one submit only (never while it waits for a request, when a busy CPU would
// starve it): measured in bench/README.md ("Commits as SCHED_IDLE").
bool ProbeIdleCommit() {
  // On a thread of its own: a thread left SCHED_IDLE because the way back was refused would starve.
  bool ok = false;
  std::thread t([&ok] {
    sched_param p{};
    ok = sched_getscheduler(0) == SCHED_OTHER && sched_setscheduler(0, SCHED_IDLE, &p) == 0 &&
         sched_setscheduler(0, SCHED_OTHER, &p) == 0;
  });
  t.join();
  return ok;
}

// Nothing else of the queue is in flight: every slot but those being committed waits in the kernel
// for a request. Only then does a commit as SCHED_IDLE pay: with other requests of this CPU being
// served, their callers run here too, and each preempting the holder before it is SCHED_OTHER again
// held back the rest (4 readers on one CPU: 25 % fewer reads/s).
bool OnlyCommitsInFlight(const Holder& h) {
  for (uint32_t k = 0; k < h.arena->entries; k++) {
    if (Load(&SlotAt(h.arena, h.qid, k)->ctl.state) != IN_KERNEL && !Committing(h, k)) return false;
  }
  return true;
}

// Some CPU is idle right now: fewer tasks are running, the holder included, than there are CPUs
// (/proc/loadavg's fourth field, read afresh at offset 0). Where every CPU is busy the caller wakes
// on its own CPU anyway, and a holder preempted as SCHED_IDLE waits behind the busy tasks: with a
// nice -19 task on each CPU, read p50 went from 14 to 18 µs and 4 readers did 19 % fewer meminfo
// reads/s that way (bench/README.md).
bool SomeCpuIdle(int loadavgFd, long cpus) {
  char buf[128];
  ssize_t n = pread(loadavgFd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) return false;
  buf[n] = '\0';
  // "0.12 0.34 0.56 R/T LAST"
  const char* p = buf;
  for (int field = 0; field < 3 && p; field++) {
    p = strchr(p, ' ');
    if (p) p++;
  }
  return p && strtol(p, nullptr, 10) < cpus;
}

// Submits the queued commits as SCHED_IDLE (above), without waiting; false if the ring is gone.
bool SubmitCommitsIdle(Ring& r, Holder& h) {
  sched_param p{};
  sched_setscheduler(0, SCHED_IDLE, &p);
  long rc = syscall(__NR_io_uring_enter, r.fd, r.toSubmit, 0, 0, nullptr, 0);
  int err = errno;
  sched_setscheduler(0, SCHED_OTHER, &p);
  if (rc < 0) return err == EINTR;
  r.toSubmit = 0;
  Submitted(h);
  return true;
}

void* HoldQueue(void* arg) {
  Holder& h = *static_cast<Holder*>(arg);
  QueueCtl& q = h.arena->q[h.qid];
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(h.qid, &set);
  sched_setaffinity(0, sizeof(set), &set);
  Ring r;
  if (!SetupRing(r, 16)) {
    fprintf(stderr, "sysbox-fs-keeper: io_uring for FUSE queue %u: %s\n", h.qid, strerror(errno));
    EndQueue(q);
    Started();
    return nullptr;
  }
  AdoptSlots(r, h, q);
  int loadavgFd = h.idleCommit ? open("/proc/loadavg", O_RDONLY | O_CLOEXEC) : -1;
  if (loadavgFd < 0) h.idleCommit = false;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  uint32_t seen = Load(&q.doorbell);
  CommitReplied(r, h);
  PushDoorbellWait(r, q, seen);
  if (syscall(__NR_io_uring_enter, r.fd, r.toSubmit, 0, 0, nullptr, 0) >= 0) {
    r.toSubmit = 0;
    Submitted(h);
  }
  Started();
  for (;;) {
    unsigned head = *r.cqHead, tail = __atomic_load_n(r.cqTail, __ATOMIC_ACQUIRE);
    if (h.idleCommit && !h.committing.empty() && OnlyCommitsInFlight(h) && SomeCpuIdle(loadavgFd, cpus)) {
      if (!SubmitCommitsIdle(r, h)) break;
      continue;
    }
    if (head == tail || r.toSubmit > 0) {
      // Submitting and waiting in one call: a commit's slot turns IN_KERNEL only after the call,
      // and a request the kernel put in it meanwhile is then marked from its CQE, below.
      long rc = syscall(__NR_io_uring_enter, r.fd, r.toSubmit, head == tail ? 1 : 0, IORING_ENTER_GETEVENTS, nullptr, 0);
      if (rc < 0 && errno != EINTR) break;
      if (rc >= 0 && r.toSubmit > 0) {
        r.toSubmit = 0;
        Submitted(h);
      }
      continue;
    }
    io_uring_cqe* c = &r.cqes[head & *r.cqMask];
    uint64_t who = c->user_data;
    int res = c->res;
    __atomic_store_n(r.cqHead, head + 1, __ATOMIC_RELEASE);
    if (who == DOORBELL) {
      seen = Load(&q.doorbell);
      CommitReplied(r, h);
      PushDoorbellWait(r, q, seen);
      continue;
    }
    uint32_t k = static_cast<uint32_t>(who);
    SlotHead* s = SlotAt(h.arena, h.qid, k);
    if (res == 0) {
      if (AnswerHere(h, q, s)) {
        h.committing.push_back(k);
        PushEntry(r, h, k, CMD_COMMIT_AND_FETCH, s->header.e.commit_id);
      } else {
        MarkRequest(q, s);
      }
    } else if (res == -ENOENT) {
      // No request by that commit id: it ended meanwhile (its caller's connection aborted it, or a
      // predecessor's commit went through). The slot gets an entry of its own.
      PushEntry(r, h, k, CMD_REGISTER, 0);
    } else {
      break;  // ENOTCONN, ECONNABORTED: the connection is gone
    }
  }
  EndQueue(q);
  close(r.fd);
  if (loadavgFd >= 0) close(loadavgFd);
  return nullptr;
}

std::mutex holdLock;
uintptr_t heldArena = 0;

// ---- server side (sysbox-fs workers) ----

// A write to /dev/fuse (a FUSE notify) done by a thread of its own, so that the server can serve
// its queue meanwhile: a NOTIFY_STORE or INVAL_INODE locks the inode's page, which a page-cache
// READ in flight holds until it is answered, and that READ waits in this very queue.
struct Storer {
  QueueCtl* q = nullptr;  // its server's queue, whose requestSeq it moves on when a store is done
  int fd = -1;
  std::vector<char> data;
  uint32_t asked = 0;  // futex: bumped per store asked for
  uint32_t done = 0;   // the last store done (== asked: idle)
};

struct Server {
  ArenaHeader* arena = nullptr;
  uint32_t qid = 0;
  int current = -1;  // the slot whose request was returned last, awaiting its reply
  int side = -1;     // a slot served while a store of the current request's waits (uringStoreWait)
  Storer* storer = nullptr;
  // For ringing the doorbell and waiting for the next request in one io_uring_enter (RingAndAwait);
  // fd -1: none could be set up, the two are separate syscalls.
  Ring ring;
  bool ringTried = false;
};

std::mutex serversLock;
std::vector<Server*> servers;

Server* ServerOf(const Napi::CallbackInfo& info) {
  size_t h = static_cast<size_t>(ArgInt(info, 0, "handle"));
  std::lock_guard<std::mutex> g(serversLock);
  if (h >= servers.size()) throw Napi::RangeError::New(info.Env(), "no such ring server");
  return servers[h];
}

long CopyRequest(Server& sv, uint32_t k, Napi::Buffer<uint8_t>& out) {
  // (the caller records k as its current or side slot)
  SlotHead* s = SlotAt(sv.arena, sv.qid, k);
  auto* ih = reinterpret_cast<fuse_in_header*>(s->header.in_out);
  uint32_t payload = s->header.e.payload_sz;
  if (payload > sv.arena->payloadSize) return -EPROTO;
  size_t opIn = ih->len > sizeof(fuse_in_header) + payload ? ih->len - sizeof(fuse_in_header) - payload : 0;
  if (opIn > static_cast<size_t>(HDR)) opIn = HDR;
  size_t total = sizeof(fuse_in_header) + opIn + payload;
  if (total > out.Length()) return -EOVERFLOW;
  memcpy(out.Data(), ih, sizeof(fuse_in_header));
  memcpy(out.Data() + sizeof(fuse_in_header), s->header.op_in, opIn);
  memcpy(out.Data() + sizeof(fuse_in_header) + opIn, PayloadOf(s), payload);
  reinterpret_cast<fuse_in_header*>(out.Data())->len = static_cast<uint32_t>(total);
  return static_cast<long>(total);
}

// Takes a slot of the server's queue holding a request (REQUEST → SERVING); -1 if none does.
int TakeRequest(Server& sv) {
  for (uint32_t k = 0; k < sv.arena->entries; k++) {
    uint32_t expect = REQUEST;
    if (__atomic_compare_exchange_n(&SlotAt(sv.arena, sv.qid, k)->ctl.state, &expect, SERVING, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
      return static_cast<int>(k);
    }
  }
  return -1;
}

// Sleeps until requestSeq moves on from seq (every REQUEST, EndQueue and finished store moves it on
// and wakes us), or for a second; false if the second passed.
bool AwaitRequest(QueueCtl& q, uint32_t seq) {
  timespec ts{1, 0};
  __atomic_store_n(&q.serverAsleep, 1, __ATOMIC_SEQ_CST);
  long rc = syscall(SYS_futex, &q.requestSeq, FUTEX_WAIT, seq, &ts, nullptr, 0);
  bool timedOut = rc < 0 && errno == ETIMEDOUT;
  __atomic_store_n(&q.serverAsleep, 0, __ATOMIC_SEQ_CST);
  return !timedOut;
}

// The reply goes over the request in the slot; the parts of the request it covers are saved first,
// so that a successor can serve the request again if we die before the reply is whole.
// The doorbell is not rung here: the caller rings it (RingDoorbell) when it returns to its
// dispatcher, or rings it and waits for the next request in one call (RingAndAwait).
void WriteReply(Server& sv, uint32_t k, Napi::Buffer<uint8_t>& reply) {
  SlotHead* s = SlotAt(sv.arena, sv.qid, k);
  SlotCtl& ctl = s->ctl;
  size_t outh = sizeof(fuse_out_header);
  size_t body = reply.Length() > outh ? reply.Length() - outh : 0;
  if (body > sv.arena->payloadSize) body = sv.arena->payloadSize;
  uint32_t reqPayload = s->header.e.payload_sz;
  size_t overlap = body < reqPayload ? body : reqPayload;
  __atomic_store_n(&ctl.savedFor, 0, __ATOMIC_RELEASE);
  if (overlap <= SAVED_PAYLOAD_MAX) {
    memcpy(ctl.savedInOut, s->header.in_out, sizeof(ctl.savedInOut));
    memcpy(s->savedPayload, PayloadOf(s), overlap);
    ctl.payloadSz = reqPayload;
    ctl.savedLen = static_cast<uint32_t>(overlap);
    __atomic_store_n(&ctl.savedFor, s->header.e.commit_id, __ATOMIC_RELEASE);
  }
  memcpy(s->header.in_out, reply.Data(), outh);
  memcpy(PayloadOf(s), reply.Data() + outh, body);
  SetReplied(s, static_cast<uint32_t>(body));
  __atomic_add_fetch(&sv.arena->q[sv.qid].doorbell, 1, __ATOMIC_RELEASE);
}

void RingDoorbell(Server& sv) { Wake(&sv.arena->q[sv.qid].doorbell); }

constexpr uint8_t OP_FUTEX_WAKE = 52;  // IORING_OP_FUTEX_WAKE, 6.7
enum : uint64_t { RA_WAKE = 1, RA_WAIT = 2, RA_TIMEOUT = 3 };

void PushFutexWake(Ring& r, uint32_t* word) {
  io_uring_sqe* w = NextSqe(r, RA_WAKE);
  w->opcode = OP_FUTEX_WAKE;
  w->addr = reinterpret_cast<uint64_t>(word);
  w->addr2 = INT32_MAX;      // wake all
  w->addr3 = 0xffffffffULL;  // FUTEX_BITSET_MATCH_ANY
  w->fd = FUTEX2_U32;
}

// The kernel takes a futex wake from this ring: one on a word nobody waits on answers 0.
bool FutexWakeWorks(Ring& r) {
  static uint32_t nobody = 0;
  PushFutexWake(r, &nobody);
  if (syscall(__NR_io_uring_enter, r.fd, r.toSubmit, 1, IORING_ENTER_GETEVENTS, nullptr, 0) < 0) return false;
  r.toSubmit = 0;
  unsigned head = *r.cqHead;
  if (head == __atomic_load_n(r.cqTail, __ATOMIC_ACQUIRE)) return false;
  int res = r.cqes[head & *r.cqMask].res;
  __atomic_store_n(r.cqHead, head + 1, __ATOMIC_RELEASE);
  return res >= 0;
}

// Rings the doorbell and sleeps until requestSeq moves on from seq (or a second passes: false), in
// one io_uring_enter. Rung by a futex wake of its own, the holder would preempt us at that call's
// return, before our wait; still runnable here, we would then make this CPU busy when the holder
// commits the reply, and the caller would be woken on the other CPU (HoldQueue's SCHED_IDLE commit
// counts on the holder being the only task running). Inside one call we are asleep by then: the
// kernel (PREEMPT_NONE or voluntary) switches only at our wait.
// The server's ring given up (never usable, or no more): the doorbell and the wait are separate
// syscalls from now on.
void GiveUpRing(Ring& r) {
  if (r.fd >= 0) close(r.fd);
  r.fd = -1;
}

bool RingAndAwait(Server& sv, QueueCtl& q, uint32_t seq) {
  if (!sv.ringTried) {
    sv.ringTried = true;
    if (!SetupRing(sv.ring, 8) || !FutexWakeWorks(sv.ring)) GiveUpRing(sv.ring);
  }
  Ring& r = sv.ring;
  if (r.fd < 0) {
    RingDoorbell(sv);
    return AwaitRequest(q, seq);
  }
  bool wakeFailed = false;
  auto reap = [&r, &wakeFailed](bool& waited, bool& timedOut) {
    for (;;) {
      unsigned head = *r.cqHead;
      if (head == __atomic_load_n(r.cqTail, __ATOMIC_ACQUIRE)) return;
      io_uring_cqe* c = &r.cqes[head & *r.cqMask];
      if (c->user_data == RA_WAKE && c->res < 0) wakeFailed = true;
      // The wait cancelled by its link timeout: the second passed.
      if (c->user_data == RA_WAIT) {
        waited = true;
        if (c->res == -ECANCELED) timedOut = true;
      }
      __atomic_store_n(r.cqHead, head + 1, __ATOMIC_RELEASE);
    }
  };
  bool waited = false, timedOut = false;
  reap(waited, timedOut);  // what an earlier call left (a link timeout's cancellation)
  waited = timedOut = wakeFailed = false;
  PushFutexWake(r, &q.doorbell);
  io_uring_sqe* a = NextSqe(r, RA_WAIT);
  a->opcode = OP_FUTEX_WAIT;
  a->flags = IOSQE_IO_LINK;
  a->addr = reinterpret_cast<uint64_t>(&q.requestSeq);
  a->addr2 = seq;
  a->addr3 = 0xffffffffULL;
  a->fd = FUTEX2_U32;
  static const __kernel_timespec second{1, 0};
  io_uring_sqe* t = NextSqe(r, RA_TIMEOUT);
  t->opcode = IORING_OP_LINK_TIMEOUT;
  t->addr = reinterpret_cast<uint64_t>(&second);
  t->len = 1;
  __atomic_store_n(&q.serverAsleep, 1, __ATOMIC_SEQ_CST);
  long rc = syscall(__NR_io_uring_enter, r.fd, r.toSubmit, 2, IORING_ENTER_GETEVENTS, nullptr, 0);
  if (rc < 0 && errno != EINTR) {
    // Not submitted (the ring unusable).
    __atomic_store_n(&q.serverAsleep, 0, __ATOMIC_SEQ_CST);
    GiveUpRing(r);
    RingDoorbell(sv);
    return AwaitRequest(q, seq);
  }
  r.toSubmit = 0;
  for (reap(waited, timedOut); !waited; reap(waited, timedOut)) {
    syscall(__NR_io_uring_enter, r.fd, 0, 1, IORING_ENTER_GETEVENTS, nullptr, 0);
  }
  __atomic_store_n(&q.serverAsleep, 0, __ATOMIC_SEQ_CST);
  if (wakeFailed) {
    // Never expected (FutexWakeWorks passed): ring the way that cannot fail, and keep to it.
    RingDoorbell(sv);
    GiveUpRing(r);
  }
  return !timedOut;
}

}  // namespace

Napi::Value UringArena(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = static_cast<int>(ArgInt(info, 0, "fd"));
  ArenaHeader h;
  memset(&h, 0, sizeof(h));
  bool fresh = fd < 0;
  if (fresh) {
    h.magic = ARENA_MAGIC;
    h.base = ARENA_BASE;
    h.payloadSize = static_cast<uint64_t>(ArgInt(info, 1, "payloadSize"));
    h.queues = static_cast<uint64_t>(ArgInt(info, 2, "queues"));
    h.entries = static_cast<uint64_t>(ArgInt(info, 3, "entries"));
    if (h.queues == 0 || h.queues > MAX_QUEUES) throw Napi::RangeError::New(env, "FUSE ring arena: 1 to 63 queues");
    if (info.Length() > 6) {
      auto sets = static_cast<uint32_t>(ArgInt(info, 4, "keptSets"));
      auto entryBytes = static_cast<uint32_t>(ArgInt(info, 5, "keptEntryBytes"));
      auto hostFiles = static_cast<uint32_t>(ArgInt(info, 6, "hostFiles"));
      if (!kept::ValidShape(sets, entryBytes, hostFiles)) throw Napi::RangeError::New(env, "FUSE ring arena: no such page record table shape");
      h.keptOffset = SlotsEnd(h);
      h.keptSets = sets;
      h.keptEntryBytes = entryBytes;
      h.hostFiles = hostFiles;
    }
    fd = static_cast<int>(syscall(__NR_memfd_create, "sysbox-fs-fuse-rings", MFD_CLOEXEC));
    if (fd < 0) throw SyscallError(env, "memfd_create", errno);
    if (ftruncate(fd, static_cast<off_t>(ArenaSize(h))) < 0) {
      int e = errno;
      close(fd);
      throw SyscallError(env, "ftruncate", e, "FUSE ring arena");
    }
  } else if (pread(fd, &h, sizeof(h), 0) != static_cast<ssize_t>(sizeof(h)) || h.magic != ARENA_MAGIC) {
    throw Napi::Error::New(env, "not a FUSE ring arena (wrong magic)");
  }
  auto* want = reinterpret_cast<void*>(h.base);
  // Mapped already: a kept arena mapped again (the keeper's hold-rings after a sysbox-fs restart),
  // or a clash; a new arena cannot share the address with anything.
  if (msync(want, PAGE, MS_ASYNC) == 0) {
    if (fresh || HeaderAt(h.base)->magic != ARENA_MAGIC) {
      if (fresh) close(fd);
      throw SyscallError(env, "mmap", EEXIST, "FUSE ring arena at its fixed address");
    }
  } else {
    void* at = mmap(want, ArenaSize(h), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE | MAP_POPULATE, fd, 0);
    if (at == MAP_FAILED || at != want) {
      int e = at == MAP_FAILED ? errno : EEXIST;
      if (at != MAP_FAILED) munmap(at, ArenaSize(h));
      if (fresh) close(fd);
      throw SyscallError(env, "mmap", e, "FUSE ring arena at its fixed address");
    }
    if (fresh) memcpy(at, &h, sizeof(h));
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("fd", Napi::Number::New(env, fd));
  out.Set("base", Napi::Number::New(env, static_cast<double>(h.base)));
  out.Set("payloadSize", Napi::Number::New(env, static_cast<double>(h.payloadSize)));
  out.Set("queues", Napi::Number::New(env, static_cast<double>(h.queues)));
  out.Set("entries", Napi::Number::New(env, static_cast<double>(h.entries)));
  out.Set("kept", Napi::Boolean::New(env, h.keptOffset != 0));
  return out;
}

// uringKeptTable(base): {table, sets, entryBytes, hostFiles} (ArrayBuffers over the arena's page
// record table, of that shape, and host file index, for this thread), or null if the arena has none.
Napi::Value UringKeptTable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArenaHeader* a = MappedArena(env, static_cast<uintptr_t>(ArgInt(info, 0, "base")));
  if (a->keptOffset == 0) return env.Null();
  kept::Shape shape = KeptShape(*a);
  char* region = KeptRegion(a);
  Napi::Object out = Napi::Object::New(env);
  // Mapped for the process's life (never unmapped): nothing to finalize.
  out.Set("table", Napi::ArrayBuffer::New(env, region + kept::TableOffset(), kept::TableBytes(shape)));
  out.Set("sets", Napi::Number::New(env, shape.sets));
  out.Set("entryBytes", Napi::Number::New(env, shape.entryBytes));
  out.Set("hostFiles", Napi::ArrayBuffer::New(env, region + kept::IndexOffset(shape), kept::IndexBytes(shape)));
  return out;
}

// uringKeptAnswered(base): the OPENs the holders answered themselves since the arena was made.
Napi::Value UringKeptAnswered(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArenaHeader* a = MappedArena(env, static_cast<uintptr_t>(ArgInt(info, 0, "base")));
  return Napi::Number::New(env, static_cast<double>(kept::Answered(KeptRegion(a), KeptShape(*a))));
}

// uringKeptRepair(base, holdersDead): unlocks the page record sets a dead locker left locked
// (kept::RepairLocks): at a sysbox-fs start on a kept arena (its predecessor's workers), or when it
// takes the rings over (the keeper's holders).
Napi::Value UringKeptRepair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArenaHeader* a = MappedArena(env, static_cast<uintptr_t>(ArgInt(info, 0, "base")));
  bool holdersDead = info.Length() > 1 && info[1].ToBoolean().Value();
  kept::RepairLocks(KeptRegion(a), KeptShape(*a), static_cast<uint32_t>(a->queues), holdersDead);
  return env.Undefined();
}

Napi::Value UringHold(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fuseFd = static_cast<int>(ArgInt(info, 0, "fuseFd"));
  uintptr_t base = static_cast<uintptr_t>(ArgInt(info, 1, "base"));
  std::lock_guard<std::mutex> g(holdLock);
  if (heldArena == base) return env.Undefined();
  if (heldArena != 0) throw Napi::Error::New(env, "already holding another FUSE ring arena");
  ArenaHeader* a = MappedArena(env, base);
  unsigned want;
  {
    std::lock_guard<std::mutex> sg(startedLock);
    want = started + static_cast<unsigned>(a->queues);
  }
  bool idleCommit = ProbeIdleCommit();
  for (uint32_t qid = 0; qid < a->queues; qid++) {
    auto* h = new Holder{fuseFd, a, qid, {}, {}, idleCommit};
    h->iov.resize(2 * a->entries);
    for (uint32_t k = 0; k < a->entries; k++) {
      SlotHead* s = SlotAt(a, qid, k);
      h->iov[2 * k] = {&s->header, sizeof(ReqHeader)};
      h->iov[2 * k + 1] = {PayloadOf(s), a->payloadSize};
    }
    Store(&a->q[qid].ended, 0);
    pthread_t t;
    int e = pthread_create(&t, nullptr, HoldQueue, h);
    if (e != 0) throw SyscallError(env, "pthread_create", e, "FUSE ring holder");
    pthread_detach(t);
  }
  heldArena = base;
  std::unique_lock<std::mutex> l(startedLock);
  if (!startedCv.wait_for(l, std::chrono::seconds(2), [&] { return started >= want; })) {
    throw Napi::Error::New(env, "FUSE ring holders did not register their entries within 2 s");
  }
  return env.Undefined();
}

Napi::Value UringServe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* a = HeaderAt(static_cast<uintptr_t>(ArgInt(info, 0, "base")));
  auto qid = static_cast<uint32_t>(ArgInt(info, 1, "qid"));
  bool adopt = info.Length() > 2 && info[2].ToBoolean().Value();
  if (a->magic != ARENA_MAGIC || qid >= a->queues) throw Napi::RangeError::New(env, "no arena queue for this qid");
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(qid, &set);
  if (sched_setaffinity(0, sizeof(set), &set) < 0) throw SyscallError(env, "sched_setaffinity", errno);
  if (adopt) {
    // What a predecessor was serving when it died is served again, whole.
    for (uint32_t k = 0; k < a->entries; k++) {
      SlotHead* s = SlotAt(a, qid, k);
      if (Load(&s->ctl.state) != SERVING) continue;
      if (s->ctl.savedFor != 0 && s->ctl.savedFor == s->header.e.commit_id) {
        memcpy(s->header.in_out, s->ctl.savedInOut, sizeof(s->ctl.savedInOut));
        memcpy(PayloadOf(s), s->savedPayload, s->ctl.savedLen);
        s->header.e.payload_sz = s->ctl.payloadSz;
      }
      Store(&s->ctl.state, REQUEST);
    }
    // Replies it finished but may not have rung for.
    __atomic_add_fetch(&a->q[qid].doorbell, 1, __ATOMIC_RELEASE);
    Wake(&a->q[qid].doorbell);
  }
  auto* sv = new Server();
  sv->arena = a;
  sv->qid = qid;
  std::lock_guard<std::mutex> g(serversLock);
  servers.push_back(sv);
  return Napi::Number::New(env, static_cast<double>(servers.size() - 1));
}

namespace {

// Takes what the holders logged (AnswerHere) from every queue's log, a CPU's closes being another
// CPU's opens as often as not, into out: out[0] the count, then per entry nodeid low, high, fh.
void TakeReleases(ArenaHeader* a, uint32_t* out, size_t words) {
  uint32_t n = 0;
  for (uint64_t qid = 0; qid < a->queues; qid++) {
    QueueCtl& q = a->q[qid];
    while (1 + 3 * (n + 1) <= words) {
      uint32_t tail = __atomic_load_n(&q.releaseTail, __ATOMIC_ACQUIRE);
      if (tail == __atomic_load_n(&q.releaseHead, __ATOMIC_ACQUIRE)) break;
      const uint32_t* e = &q.releaseLog[(tail % RELEASE_LOG) * 3];
      uint32_t lo = __atomic_load_n(&e[0], __ATOMIC_RELAXED), hi = __atomic_load_n(&e[1], __ATOMIC_RELAXED), fh = __atomic_load_n(&e[2], __ATOMIC_RELAXED);
      // The holder reuses an entry only once releaseTail passed it, so an entry read before a
      // successful swap is the one logged at tail; a failed swap (another server took it) reads again.
      if (!__atomic_compare_exchange_n(&q.releaseTail, &tail, tail + 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) continue;
      out[1 + 3 * n] = lo;
      out[2 + 3 * n] = hi;
      out[3 + 3 * n] = fh;
      n++;
    }
  }
  out[0] = n;
}

}  // namespace

Napi::Value UringExchange(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Server& sv = *ServerOf(info);
  bool rung = true;  // false: a reply written whose doorbell is still to ring
  if (sv.current >= 0 && info.Length() > 1 && info[1].IsBuffer()) {
    Napi::Buffer<uint8_t> reply = info[1].As<Napi::Buffer<uint8_t>>();
    WriteReply(sv, static_cast<uint32_t>(sv.current), reply);
    sv.current = -1;
    rung = false;
  }
  if (info.Length() < 3 || !info[2].IsBuffer()) {
    if (!rung) RingDoorbell(sv);
    return Napi::Number::New(env, 0);
  }
  Napi::Buffer<uint8_t> request = info[2].As<Napi::Buffer<uint8_t>>();
  QueueCtl& q = sv.arena->q[sv.qid];
  for (;;) {
    uint32_t seq = Load(&q.requestSeq);
    int k = TakeRequest(sv);
    if (k >= 0) {
      if (!rung) RingDoorbell(sv);
      sv.current = k;
      if (info.Length() > 3 && info[3].IsTypedArray()) {
        Napi::TypedArray t = info[3].As<Napi::TypedArray>();
        if (t.TypedArrayType() == napi_uint32_array && t.ElementLength() > 0) {
          Napi::Uint32Array released = t.As<Napi::Uint32Array>();
          TakeReleases(sv.arena, released.Data(), released.ElementLength());
        }
      }
      return Napi::Number::New(env, static_cast<double>(CopyRequest(sv, static_cast<uint32_t>(k), request)));
    }
    if (Load(&q.ended)) {
      if (!rung) RingDoorbell(sv);
      return Napi::Number::New(env, -ENOTCONN);
    }
    // A second with no request: the caller's housekeeping (a GC asked for, a removed container's
    // files to close) runs, then it calls again.
    bool woken = rung ? AwaitRequest(q, seq) : RingAndAwait(sv, q, seq);
    rung = true;
    if (!woken) return Napi::Number::New(env, 0);
  }
}

namespace {

void* StoreLoop(void* arg) {
  Storer& st = *static_cast<Storer*>(arg);
  for (;;) {
    uint32_t asked = Load(&st.asked);
    if (asked == Load(&st.done)) {
      syscall(SYS_futex, &st.asked, FUTEX_WAIT_PRIVATE, asked, nullptr, nullptr, 0);
      continue;
    }
    // Errors are the caller's to ignore, as with a write of its own (ENOENT: the inode is not cached).
    (void)!write(st.fd, st.data.data(), st.data.size());
    Store(&st.done, asked);
    // The server waits on its queue's requestSeq for a request or for this.
    __atomic_add_fetch(&st.q->requestSeq, 1, __ATOMIC_SEQ_CST);
    Wake(&st.q->requestSeq);
  }
  return nullptr;
}

}  // namespace

Napi::Value UringStoreBegin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Server& sv = *ServerOf(info);
  int fd = static_cast<int>(ArgInt(info, 1, "fd"));
  if (info.Length() < 3 || !info[2].IsBuffer()) throw Napi::TypeError::New(env, "uringStoreBegin: a notify buffer");
  Napi::Buffer<uint8_t> b = info[2].As<Napi::Buffer<uint8_t>>();
  if (!sv.storer) {
    auto* st = new Storer();
    st->q = &sv.arena->q[sv.qid];
    pthread_t t;
    int e = pthread_create(&t, nullptr, StoreLoop, st);
    if (e != 0) {
      delete st;
      throw SyscallError(env, "pthread_create", e, "FUSE ring storer");
    }
    pthread_detach(t);
    sv.storer = st;
  }
  Storer& st = *sv.storer;
  if (Load(&st.asked) != Load(&st.done)) throw Napi::Error::New(env, "uringStoreBegin: a store is still in progress");
  st.fd = fd;
  st.data.assign(b.Data(), b.Data() + b.Length());
  __atomic_add_fetch(&st.asked, 1, __ATOMIC_RELEASE);
  syscall(SYS_futex, &st.asked, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
  return env.Undefined();
}

Napi::Value UringStoreWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Server& sv = *ServerOf(info);
  if (!sv.storer) throw Napi::Error::New(env, "uringStoreWait: no store begun");
  if (sv.side >= 0 && info.Length() > 1 && info[1].IsBuffer()) {
    Napi::Buffer<uint8_t> reply = info[1].As<Napi::Buffer<uint8_t>>();
    WriteReply(sv, static_cast<uint32_t>(sv.side), reply);
    RingDoorbell(sv);
  }
  sv.side = -1;
  if (info.Length() < 3 || !info[2].IsBuffer()) throw Napi::TypeError::New(env, "uringStoreWait: a request buffer");
  Napi::Buffer<uint8_t> request = info[2].As<Napi::Buffer<uint8_t>>();
  Storer& st = *sv.storer;
  QueueCtl& q = sv.arena->q[sv.qid];
  for (;;) {
    uint32_t seq = Load(&q.requestSeq);
    if (Load(&st.done) == Load(&st.asked)) return Napi::Number::New(env, 0);
    int k = TakeRequest(sv);  // (the current slot is SERVING: not taken again)
    if (k >= 0) {
      sv.side = k;
      return Napi::Number::New(env, static_cast<double>(CopyRequest(sv, static_cast<uint32_t>(k), request)));
    }
    if (Load(&q.ended)) return Napi::Number::New(env, -ENOTCONN);
    AwaitRequest(q, seq);
  }
}
