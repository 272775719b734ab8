// FUSE over io_uring (kernel 6.14+, FUSE 7.42): one ring per CPU queue, owned by a thread bound to
// that CPU, so that a request is served on the CPU its caller runs on. A request crossing CPUs costs
// ~40 µs on a VM whose idle vCPUs halt (bench/README.md, fuse-uring-probe), one served in place ~3.
//
// uringOpen(fuseFd, qid, payloadSize): handle — binds the calling thread to CPU qid, sets up a ring
//   and registers ENTRIES entries for queue qid.
// uringExchange(handle, reply, request): number — commits reply (the classic /dev/fuse layout:
//   fuse_out_header then body; null: nothing to commit) for the request last returned, then waits
//   for the next one and copies it into request in the classic layout (fuse_in_header, the op's own
//   header, then the payload), so that callers dispatch it as one read from /dev/fuse. Returns its
//   length, or -errno (ENOTCONN: the connection is gone).
// The UAPI structs are spelled out: Debian 12's linux-libc-dev (6.1) predates them.
#include "args.h"
#include "errors.h"
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <linux/fuse.h>
#include <linux/io_uring.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <vector>

namespace {

constexpr int HDR = 128;
struct EntInOut { uint64_t flags, commit_id; uint32_t payload_sz, padding; uint64_t reserved; };
struct ReqHeader { char in_out[HDR]; char op_in[HDR]; EntInOut e; };
struct CmdReq { uint64_t flags, commit_id; uint16_t qid; uint8_t pad[6]; };
constexpr uint32_t CMD_REGISTER = 1;
constexpr uint32_t CMD_COMMIT_AND_FETCH = 2;
constexpr int ENTRIES = 2;

struct Ring {
  int fuseFd = -1, fd = -1, qid = 0;
  unsigned *sqTail = nullptr, *sqMask = nullptr, *sqArray = nullptr, *cqHead = nullptr, *cqTail = nullptr, *cqMask = nullptr;
  char* sqes = nullptr;
  io_uring_cqe* cqes = nullptr;
  ReqHeader* headers[ENTRIES] = {};
  char* payloads[ENTRIES] = {};
  iovec iov[ENTRIES][2] = {};
  uint32_t payloadSize = 0;
  int current = -1;  // the entry whose request was returned last, awaiting its reply
  unsigned toSubmit = 0;
};

std::vector<Ring*> rings;

void Push(Ring& r, uint32_t op, int entry, uint64_t commit) {
  unsigned t = *r.sqTail, i = t & *r.sqMask;
  auto* s = reinterpret_cast<io_uring_sqe*>(r.sqes + i * 128);
  memset(s, 0, 128);
  s->opcode = IORING_OP_URING_CMD;
  s->fd = r.fuseFd;
  s->cmd_op = op;
  s->user_data = static_cast<uint64_t>(entry);
  if (op == CMD_REGISTER) {
    s->addr = reinterpret_cast<uint64_t>(r.iov[entry]);
    s->len = 2;
  }
  auto* c = reinterpret_cast<CmdReq*>(s->cmd);
  c->qid = static_cast<uint16_t>(r.qid);
  c->commit_id = commit;
  r.sqArray[i] = i;
  __atomic_store_n(r.sqTail, t + 1, __ATOMIC_RELEASE);
  r.toSubmit++;
}

}  // namespace

Napi::Value UringOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* r = new Ring();
  r->fuseFd = static_cast<int>(ArgInt(info, 0, "fuseFd"));
  r->qid = static_cast<int>(ArgInt(info, 1, "qid"));
  r->payloadSize = static_cast<uint32_t>(ArgInt(info, 2, "payloadSize"));
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(r->qid, &set);
  if (sched_setaffinity(0, sizeof(set), &set) < 0) throw SyscallError(env, "sched_setaffinity", errno);
  io_uring_params p;
  memset(&p, 0, sizeof(p));
  p.flags = IORING_SETUP_SQE128;
  r->fd = static_cast<int>(syscall(__NR_io_uring_setup, 8, &p));
  if (r->fd < 0) throw SyscallError(env, "io_uring_setup", errno);
  size_t sqsz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cqsz = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
  auto* sq = static_cast<char*>(mmap(nullptr, sqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING));
  auto* cq = static_cast<char*>(mmap(nullptr, cqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING));
  r->sqes = static_cast<char*>(mmap(nullptr, p.sq_entries * 128, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES));
  if (sq == MAP_FAILED || cq == MAP_FAILED || r->sqes == MAP_FAILED) throw SyscallError(env, "mmap io_uring", errno);
  r->sqTail = reinterpret_cast<unsigned*>(sq + p.sq_off.tail);
  r->sqMask = reinterpret_cast<unsigned*>(sq + p.sq_off.ring_mask);
  r->sqArray = reinterpret_cast<unsigned*>(sq + p.sq_off.array);
  r->cqHead = reinterpret_cast<unsigned*>(cq + p.cq_off.head);
  r->cqTail = reinterpret_cast<unsigned*>(cq + p.cq_off.tail);
  r->cqMask = reinterpret_cast<unsigned*>(cq + p.cq_off.ring_mask);
  r->cqes = reinterpret_cast<io_uring_cqe*>(cq + p.cq_off.cqes);
  for (int k = 0; k < ENTRIES; k++) {
    r->headers[k] = static_cast<ReqHeader*>(aligned_alloc(4096, 4096));
    r->payloads[k] = static_cast<char*>(aligned_alloc(4096, (r->payloadSize + 4095) / 4096 * 4096));
    memset(r->headers[k], 0, 4096);
    r->iov[k][0] = {r->headers[k], sizeof(ReqHeader)};
    r->iov[k][1] = {r->payloads[k], r->payloadSize};
    Push(*r, CMD_REGISTER, k, 0);
  }
  // Registered now, not at the first exchange: a request made right after this returns (a
  // successor's own, to flush what waited in a queue) must find the entries there.
  if (syscall(__NR_io_uring_enter, r->fd, r->toSubmit, 0, 0, nullptr, 0) < 0) throw SyscallError(env, "io_uring_enter", errno);
  r->toSubmit = 0;
  rings.push_back(r);
  return Napi::Number::New(env, static_cast<double>(rings.size() - 1));
}

Napi::Value UringExchange(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t h = static_cast<size_t>(ArgInt(info, 0, "handle"));
  if (h >= rings.size()) throw Napi::RangeError::New(env, "no such ring");
  Ring& r = *rings[h];
  if (r.current >= 0 && info.Length() > 1 && info[1].IsBuffer()) {
    Napi::Buffer<uint8_t> reply = info[1].As<Napi::Buffer<uint8_t>>();
    ReqHeader* hd = r.headers[r.current];
    uint64_t commit = hd->e.commit_id;
    size_t outh = sizeof(fuse_out_header);
    size_t body = reply.Length() > outh ? reply.Length() - outh : 0;
    if (body > r.payloadSize) body = r.payloadSize;
    memcpy(hd->in_out, reply.Data(), outh);
    memcpy(r.payloads[r.current], reply.Data() + outh, body);
    hd->e.payload_sz = static_cast<uint32_t>(body);
    Push(r, CMD_COMMIT_AND_FETCH, r.current, commit);
    r.current = -1;
  }
  if (info.Length() < 3 || !info[2].IsBuffer()) return Napi::Number::New(env, 0);
  Napi::Buffer<uint8_t> request = info[2].As<Napi::Buffer<uint8_t>>();
  for (;;) {
    unsigned head = *r.cqHead, tail = __atomic_load_n(r.cqTail, __ATOMIC_ACQUIRE);
    if (head == tail || r.toSubmit > 0) {
      long rc = syscall(__NR_io_uring_enter, r.fd, r.toSubmit, head == tail ? 1 : 0, IORING_ENTER_GETEVENTS, nullptr, 0);
      if (rc < 0) {
        if (errno == EINTR) continue;
        return Napi::Number::New(env, -errno);
      }
      r.toSubmit = 0;
      continue;
    }
    io_uring_cqe* c = &r.cqes[head & *r.cqMask];
    int entry = static_cast<int>(c->user_data);
    int res = c->res;
    __atomic_store_n(r.cqHead, head + 1, __ATOMIC_RELEASE);
    if (res < 0) return Napi::Number::New(env, res);
    ReqHeader* hd = r.headers[entry];
    auto* ih = reinterpret_cast<fuse_in_header*>(hd->in_out);
    uint32_t payload = hd->e.payload_sz;
    size_t opIn = ih->len > sizeof(fuse_in_header) + payload ? ih->len - sizeof(fuse_in_header) - payload : 0;
    if (opIn > static_cast<size_t>(HDR)) opIn = HDR;
    size_t total = sizeof(fuse_in_header) + opIn + payload;
    if (total > request.Length()) return Napi::Number::New(env, -EOVERFLOW);
    memcpy(request.Data(), ih, sizeof(fuse_in_header));
    memcpy(request.Data() + sizeof(fuse_in_header), hd->op_in, opIn);
    memcpy(request.Data() + sizeof(fuse_in_header) + opIn, r.payloads[entry], payload);
    reinterpret_cast<fuse_in_header*>(request.Data())->len = static_cast<uint32_t>(total);
    r.current = entry;
    return Napi::Number::New(env, static_cast<double>(total));
  }
}
