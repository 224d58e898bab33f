// Checkpoints of a running job (issue 5) and restores from them. The job runs on one thread,
// so between two batches every operator is quiescent: a checkpoint taken there is consistent
// without barriers to align (they come with parallel pipelines). It holds each source's read
// position, the watermarks, every window's, join's and unwindowed aggregate's state, and how
// each file sink's pre-commit (io/file_transaction.h; with --at-least-once, how many bytes it
// had written); the files go through CheckpointStore (durable, checksummed, retained). Once a
// checkpoint is complete the sinks commit what it pre-committed. A restore loads that state
// before the sinks open, commits each sink's pre-commit again (or cuts the file back to its
// checkpointed length), and resumes each source at its position, so the job's final output
// equals that of a run never interrupted. Tables are read again in full.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "checkpoint/checkpoint_store.h"
#include "exec/job_context.h"

namespace flow {

// What a restore hands to the driver.
struct RestoredJob {
  bool restored = false;
  int64_t id = 0;
  struct Source {
    bool ended = false;
    SourcePosition position;
    int64_t skipped = 0;
    int64_t dead_lettered = 0;
  };
  std::vector<Source> sources;    // per source
  std::vector<SinkPrecommit> sinks;  // per sink: its committed length and last pre-commit
};

class JobCheckpoints {
 public:
  explicit JobCheckpoints(flow_ctx& ctx);
  bool enabled() const { return !options_.dir.empty() && options_.interval_ms > 0; }
  // Loads what --restore names into the job's operators (after they are built, before the
  // sinks open). False, with the failure recorded, when it names nothing usable.
  bool restore(RestoredJob& out);
  // Between two steps: takes a checkpoint when one is due, and a savepoint when a signal asked
  // for one, once every source can resume where it is. False, with the failure recorded, when
  // writing failed. `stop` is set after the savepoint of SIGTERM: the job stops there.
  bool maybe_take(const std::vector<ActiveSource>& sources, bool& stop);
  // With --savepoint-dir: SIGUSR1 and SIGTERM ask for a savepoint from now on.
  void listen_for_signals();
  // One line on stderr: how many checkpoints were taken and how long the job paused for them.
  void print_summary() const;

 private:
  bool take(const std::vector<ActiveSource>& sources, bool savepoint);
  bool precommit_sinks(bool savepoint, int64_t id, std::vector<SinkPrecommit>& out);
  bool write_state_database(PersistentState& db, CheckpointWriter& writer, bool savepoint, std::string& error);
  bool restore_state_database(PersistentState& db, const CheckpointInfo& from, const std::string& root,
                              const std::map<std::string, std::string>& files, std::string& error);

  // RocksDB's SST files this run has shared already, by their name in the database.
  std::map<std::string, CheckpointFile> shared_tables_;
  bool write_aggregate(std::size_t i, bool savepoint, int64_t id, CheckpointWriter& writer, std::string& error);
  bool restore_aggregate(std::size_t i, const CheckpointInfo& from, const std::map<std::string, std::string>& files,
                         std::string& error);

  // Unwindowed aggregates are checkpointed incrementally: a full snapshot, then the rows that
  // changed since the previous checkpoint, as shared files; every kFoldEvery-th is full again.
  static constexpr int kFoldEvery = 10;
  struct Chain {
    std::vector<CheckpointFile> files;  // the full snapshot, then the deltas
  };
  std::vector<Chain> chains_;

  flow_ctx& ctx_;
  CheckpointOptions options_;
  CheckpointStore store_;
  std::chrono::steady_clock::time_point last_;
  int64_t next_id_ = 1;
  int taken_ = 0;
  double pause_total_ms_ = 0, pause_max_ms_ = 0;
};

}  // namespace flow
