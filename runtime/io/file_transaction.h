// Exactly-once output of a file sink by two-phase commit (issue 5, architecture.md "State,
// time and checkpoints"). While a job checkpoints, its file sink does not write the file at
// its path: it writes a staging file beside it. At a checkpoint barrier the staged bytes are
// made durable under a name of their own (pre-commit) and the checkpoint records that name,
// its length and checksum, and the file's committed length. Once the checkpoint is complete
// the file is replaced, by one rename, with a file holding the committed output and those
// bytes (commit). So at every instant, even when the process is killed in the middle of a
// commit, the file at the path holds exactly the output of some complete checkpoint: one
// header, whole lines. (Appending in place would not do: a kill can stop a write between
// two pages.)
//
// The replacement is built without copying the file: a shadow file beside it holds the
// output as of the commit before, so a commit appends the two latest pre-commits to the
// shadow, renames it over the file, and keeps the replaced file as the next shadow (a hard
// link taken before the rename). Each output byte is written twice, once into each file.
// Readers should open the file by name: it is a new file after every commit.
//
// After a crash, the restore commits the last complete checkpoint's pre-commit again if the
// file lacks it (building the replacement from a copy of the file, once), or cuts the file
// back to its end, which is idempotent. Anything staged later is discarded, and the replay
// writes it again.
//
// Files beside PATH (hidden, removed at the end of a job that succeeded):
//   .NAME.flowc-staging      what the sink writes now
//   .NAME.flowc-pending-TAG  what checkpoint TAG pre-committed, until both files have it
//   .NAME.flowc-shadow       the output of the commit before the last (the next replacement)
//   .NAME.flowc-replaced     the replaced file, for a moment during a commit
#pragma once

#include <cstdint>
#include <string>

#include "io/output_buffer.h"

namespace flow {

// One pre-commit, as a checkpoint records it.
struct SinkPrecommit {
  uint64_t committed = 0;  // the file's length before this commit
  std::string pending;     // the pre-committed file's name (beside the sink's file); "" if nothing was staged
  uint64_t length = 0;     // its length and checksum
  uint32_t crc = 0;
};

class FileTransaction {
 public:
  explicit FileTransaction(std::string path);

  // A fresh run: empties the file, removes whatever earlier runs staged, and stages into `out`.
  bool begin(OutputBuffer& out, std::string& error);
  // A restore: commits `last` again and discards anything staged after it. Fails when the
  // file lost output that was committed (it was changed since), or the pre-commit is damaged.
  bool recover(const SinkPrecommit& last, std::string& error);
  // Stages what the sink writes from now on into `out` (after recover).
  bool stage(OutputBuffer& out, std::string& error);
  // At a checkpoint barrier: makes what was staged durable as the pre-commit of checkpoint
  // `tag` and stages what follows into a new file. With `durable_now` false the pre-commit is
  // only set aside under its name; make_durable() must then finish it before the checkpoint
  // that records it is complete (it runs in the background while the job goes on).
  bool precommit(OutputBuffer& out, const std::string& tag, SinkPrecommit& pending, std::string& error,
                 bool durable_now = true);
  // The second half of a precommit(..., false): fsyncs the pre-committed file and the directory.
  bool make_durable(const SinkPrecommit& pending, std::string& error) const;
  // Once the checkpoint holding `pending` is complete: replaces the file with one that has
  // `pending` appended, durably.
  bool commit(const SinkPrecommit& pending, std::string& error);
  // At the end of a job that succeeded: pre-commits and commits what is left.
  bool finish(OutputBuffer& out, std::string& error);
  // After recover(), when the sink goes on writing the file directly (--at-least-once): the
  // files beside it (the shadow among them) are removed.
  bool stop_staging(std::string& error) const { return remove_staged(error); }

  const std::string& path() const { return path_; }
  uint64_t committed() const { return committed_; }

 private:
  std::string beside(const std::string& suffix) const;
  bool remove_staged(std::string& error) const;
  // The shadow as a copy of the file's first `length` bytes, with nothing lagging.
  bool copy_into_shadow(uint64_t length, std::string& error);
  // Brings the shadow up to the committed output plus `next`, and renames it over the file.
  bool replace_file(const SinkPrecommit& next, std::string& error);

  std::string path_;
  std::string directory_;  // of path_, "." when it has none
  std::string name_;       // path_'s last component
  uint64_t committed_ = 0;
  // The pre-commit the shadow lacks (the last one committed), whose file is kept until then.
  SinkPrecommit shadow_lacks_;
};

}  // namespace flow
