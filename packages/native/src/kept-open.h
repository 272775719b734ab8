// OPENs of unchanged host /proc/sys settings, answered by the FUSE ring holder itself (fuse-uring.cc
// AnswerHere): the short table of sysbox-fs's page records (sysbox-fs fuse/kept-pages.ts) lives in
// the ring arena, next to an index of which host file each inode shows (fuse/host-file-index.ts).
// An OPEN whose record holds what the host file reads now counts its handle there and is answered
// FOPEN_KEEP_CACHE, as sysbox-fs would: no hop to sysbox-fs, no JS. Everything else goes on to it.
#pragma once
#include <cstddef>
#include <cstdint>

namespace kept {

// The region's place and shape, as the arena header records them; offset 0: the arena has none
// (made by an older sysbox-fs).
struct Shape {
  uint64_t offset;
  uint32_t sets, entryBytes, hostFiles;
};

bool ValidShape(uint32_t sets, uint32_t entryBytes, uint32_t hostFiles);
size_t RegionBytes(const Shape& s);
// Where sysbox-fs's views start, from the region's start.
size_t TableOffset();
size_t TableBytes(const Shape& s);
size_t IndexOffset(const Shape& s);
size_t IndexBytes(const Shape& s);

// Answers an OPEN for reading of nodeid if its record holds what the host file reads now: counts the
// handle (as KeptPages.open's "keep") and gives the handle's fh. queue: the holder's, for its lock
// mark. The host files are kept open for all the process's holders (s.offset 0: no table, false).
bool AnswerOpen(char* region, const Shape& s, uint32_t queue, uint64_t nodeid, uint64_t* fh);

// OPENs the holders answered, since the arena was made.
uint64_t Answered(char* region, const Shape& s);

// Unlocks table sets whose locker died: holdersDead, the sets a holder marked (its process is gone:
// the rings are being taken over); else every locked set no live holder marked (a new sysbox-fs,
// whose predecessor's workers are gone).
void RepairLocks(char* region, const Shape& s, uint32_t queues, bool holdersDead);

}  // namespace kept
