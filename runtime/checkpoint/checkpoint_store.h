// Checkpoint storage (architecture.md, "State, time and checkpoints"; issue 5): how a
// checkpoint's files are laid out, written durably, listed, verified, retained and found
// again for a restore. What goes into the files (operator state, source positions, sink
// transactions) is the business of the operators; this layer only guarantees that a checkpoint
// it calls complete is whole and unchanged.
//
//   DIR/chk-00000007/_metadata   the checkpoint's table of contents, written last
//   DIR/chk-00000007/NAME        files of this checkpoint only
//   DIR/shared/NAME              files several checkpoints refer to (incremental state)
//
// A checkpoint exists only once its _metadata exists: it is written to a temporary name,
// fsynced, renamed and the directory fsynced, after every file it lists has been fsynced. The
// metadata starts with a magic line and a format version, lists every file with its size and
// CRC-32C, and ends with the CRC-32C of everything before that last line, so damage to the
// metadata itself is found too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flow {

struct CheckpointFile {
  std::string name;     // relative to the checkpoint's directory, or to DIR/shared
  bool shared = false;
  uint64_t size = 0;
  uint32_t crc = 0;
};

struct CheckpointInfo {
  int64_t id = 0;
  std::string path;       // the checkpoint's directory
  bool savepoint = false;
  bool complete = false;  // has its metadata
  std::vector<CheckpointFile> files;
  std::string problem;    // why it cannot be used ("" when it verified)
  bool usable() const { return complete && problem.empty(); }
  uint64_t own_bytes() const;
  uint64_t shared_bytes() const;
  // The operators it holds state of: the file names up to their first '.' (after a parallel
  // instance's prefix instance-K.).
  std::vector<std::string> operators() const;
  // How many parallel instances took it (files instance-K.*): 1 for a single instance.
  int instances() const;
};

// Writes one checkpoint. Nothing it writes counts until commit() succeeds.
// Makes a directory's entries (a rename, a new file) durable. False, with `error`, on failure.
bool fsync_directory(const std::string& path, std::string& error);

class CheckpointWriter {
 public:
  CheckpointWriter(std::string root, int64_t id, bool savepoint = false);
  // A file of this checkpoint only, written and fsynced.
  bool write_file(const std::string& name, std::string_view bytes, std::string& error);
  // A file in DIR/shared: written (and fsynced) unless a file of that name is already there,
  // which is then taken as is (shared files never change once written).
  bool write_shared(const std::string& name, std::string_view bytes, std::string& error);
  // The file at `source` (of `size` bytes and checksum `crc`) as a shared file `name`: hard-
  // linked into DIR/shared (copied where links fail) unless a file of that name is there
  // already. For files that never change once written, such as RocksDB's SST files.
  bool link_shared(const std::string& name, const std::string& source, uint64_t size, uint32_t crc, std::string& error);
  // Lists an existing shared file, as an earlier checkpoint described it.
  void refer_shared(const CheckpointFile& file);
  // Makes the checkpoint complete: writes its metadata atomically and durably.
  bool commit(std::string& error);
  const std::string& path() const { return path_; }
  // The bytes of the files it lists, shared ones included.
  uint64_t bytes() const {
    uint64_t n = 0;
    for (const CheckpointFile& f : files_) n += f.size;
    return n;
  }

 private:
  std::string root_;
  std::string path_;
  int64_t id_;
  bool savepoint_;
  std::vector<CheckpointFile> files_;
};

class CheckpointStore {
 public:
  explicit CheckpointStore(std::string root) : root_(std::move(root)) {}

  // Every checkpoint directory, newest first. `verify`: read every file and check its size
  // and checksum (otherwise only the metadata is checked).
  std::vector<CheckpointInfo> list(bool verify) const;
  // The newest checkpoint that verifies; each newer one that does not is added to `skipped`
  // as a sentence saying why.
  std::optional<CheckpointInfo> latest_usable(std::vector<std::string>& skipped) const;
  // Reads and verifies the checkpoint at `path` (a directory as list() gives).
  CheckpointInfo inspect(const std::string& path, bool verify) const;
  // The id for the next checkpoint: one more than any directory's.
  int64_t next_id() const;
  // Keeps the `retained` newest complete checkpoints (savepoints are never deleted); deletes
  // older checkpoints, incomplete ones older than the newest complete one, and shared files
  // that no checkpoint left names. Returns the number of paths deleted.
  int retain(int retained) const;

  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

// Holds DIR/.flowc-lock (flock) while a job runs with --checkpoint-dir DIR, so that a second
// job started on the same directory is refused instead of mixing its checkpoints, and its
// sinks' staged output, with the first's. The lock goes with the process, however it ends.
class CheckpointDirectoryLock {
 public:
  CheckpointDirectoryLock() = default;
  CheckpointDirectoryLock(const CheckpointDirectoryLock&) = delete;
  CheckpointDirectoryLock& operator=(const CheckpointDirectoryLock&) = delete;
  ~CheckpointDirectoryLock();
  // Creates DIR if needed and takes the lock; false with `error` set when another job holds it
  // or the directory cannot be used.
  bool acquire(const std::string& dir, std::string& error);

 private:
  int fd_ = -1;
};

// The report of `flowc checkpoints DIR`: one line per checkpoint, newest first.
std::string describe_checkpoints(const CheckpointStore& store);

std::string checkpoint_dir_name(int64_t id);  // "chk-00000007"
// "instance-K." at the start of the name of a file of parallel instance K, or "".
std::string_view instance_prefix(std::string_view file_name);

}  // namespace flow
