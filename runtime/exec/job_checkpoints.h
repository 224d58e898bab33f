// Checkpoints of a running job (issue 5) and restores from them. The job runs on one thread,
// so between two batches every operator is quiescent: a checkpoint taken there is consistent
// without barriers to align (they come with parallel pipelines). Like Flink's, a checkpoint has
// a synchronous part, the pause, in which the operators' state is copied into bytes (and
// RocksDB takes its checkpoint) and the sinks set their staged output aside; and an
// asynchronous part on a background thread, while the job goes on: writing and fsyncing the
// files, the metadata that makes the checkpoint complete, then the sinks' commits. One is in
// flight at a time; a checkpoint that falls due meanwhile waits for it. It holds each source's read
// position, the watermarks, every window's, join's and unwindowed aggregate's state, and how
// each file sink's pre-commit (io/file_transaction.h; with --at-least-once, how many bytes it
// had written); the files go through CheckpointStore (durable, checksummed, retained). Once a
// checkpoint is complete the sinks commit what it pre-committed. A restore loads that state
// before the sinks open, commits each sink's pre-commit again (or cuts the file back to its
// checkpointed length), and resumes each source at its position, so the job's final output
// equals that of a run never interrupted. Tables are read again in full.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "checkpoint/checkpoint_store.h"
#include "exec/background_task.h"
#include "exec/job_context.h"

namespace flow {

// What a restore hands to the driver.
struct RestoredJob {
  bool restored = false;
  int64_t id = 0;
  int parts = 1;  // the parallelism the checkpoint was taken at
  struct Source {
    bool ended = false;
    SourcePosition position;
    int64_t skipped = 0;
    int64_t dead_lettered = 0;
    // From a checkpoint of parallel instances, or for a parallel instance: the byte ranges of
    // the file this instance has left to read (ended is then false; no ranges: nothing left).
    bool in_ranges = false;
    std::vector<ByteRange> ranges;
  };
  std::vector<Source> sources;    // per source
  // The ranges are all that is left to read, to be cut into parts and dealt between the
  // instances (a restore at another parallelism), not this instance's alone.
  bool split = false;
  std::vector<SinkPrecommit> sinks;  // per sink: its committed length and last pre-commit
};

// Whether a checkpoint file is part of a RocksDB database: rocksdb.NAME, or
// instance-K.rocksdb.NAME for instance K of a parallel job (job_checkpoints.cpp).
bool is_database_file(const std::string& name);

// A checkpoint chosen for a restore, its files read, shared by the instances restoring from
// it. A checkpoint of P parallel instances has each instance's operator files under the
// prefix "instance-K." and the sources' ranges in parts.state; one of a single instance has
// no prefix and sources.state.
struct LoadedCheckpoint {
  CheckpointInfo info;
  std::string root;  // the store holding its shared files
  std::map<std::string, std::string> files;
  int parts = 1;          // the instances that took it
  bool parallel = false;  // its sources are in parts.state (parallel instances, or one reading ranges)
  // Its instances' sets of a salted count_distinct hold each value once between them (parts.state
  // says; see the salt of plan::AggregateOperator): never after a restore at another parallelism.
  bool salted_sets_disjoint = false;
  // Its keyed operators' `@parallel` (JobCheckpoints::operator_parallelism); empty: none had one.
  std::vector<int32_t> operator_parallelism;
  // Whether instance K of a job of `instances` with `spec`'s operators keeps part K whole.
  bool same_layout(int instances, const std::vector<int32_t>& parallelism) const {
    auto unset = [](const std::vector<int32_t>& v) { return std::all_of(v.begin(), v.end(), [](int32_t p) { return p == 0; }); };
    return parts == instances && (operator_parallelism == parallelism || (operator_parallelism.empty() && unset(parallelism)));
  }
  std::string prefix(int part) const { return parts > 1 ? "instance-" + std::to_string(part) + "." : ""; }
  const std::string* file(const std::string& name) const {
    auto it = files.find(name);
    return it == files.end() ? nullptr : &it->second;
  }
};

class JobCheckpoints {
 public:
  // `prefix` goes before the names of its operators' files: "instance-K." for instance K of a
  // parallel job, whose checkpoints the job's own JobCheckpoints takes (parallel_runner.cpp).
  explicit JobCheckpoints(flow_ctx& ctx, std::string prefix = "");
  bool enabled() const { return !options_.dir.empty() && options_.interval_ms > 0; }
  // Loads what --restore names into the job's operators (after they are built, before the
  // sinks open). False, with the failure recorded, when it names nothing usable.
  bool restore(RestoredJob& out);
  // The parts of restore(), for parallel instances. load() chooses the checkpoint and reads
  // it (loaded.info.id stays 0 when `latest` finds none: start from the beginning).
  bool load(LoadedCheckpoint& loaded);
  // Restores this instance's operators: `owner` the instance and the job's parallelism.
  bool restore_operators(const LoadedCheckpoint& from, const KeyOwnership& owner, std::string& error);
  // Whether a job on this state backend can restore `from` (else `error` says why): checked before anything is touched, the sinks' files included.
  bool refuse_incompatible(const LoadedCheckpoint& from, std::string& error) const;
  // Where this instance resumes each source, and the sinks' pre-commits.
  bool restore_positions(const LoadedCheckpoint& from, const KeyOwnership& owner, RestoredJob& out, std::string& error);
  // Between two steps: takes a checkpoint when one is due, and a savepoint when a signal asked
  // for one, once every source can resume where it is. False, with the failure recorded, when
  // writing failed. `stop` is set after the savepoint of SIGTERM: the job stops there.
  bool maybe_take(const std::vector<ActiveSource>& sources, bool& stop);

  // What a checkpoint's synchronous part writes (exposed for parallel jobs, whose driver
  // gathers the instances' files into one checkpoint).
  struct Snapshot {
    int64_t id = 0;
    bool savepoint = false;
    std::unique_ptr<CheckpointWriter> writer;
    std::vector<std::pair<std::string, std::string>> files;   // of this checkpoint only: name, bytes
    std::vector<std::pair<std::string, std::string>> shared;  // new shared files: name, bytes
    // RocksDB's checkpoints of this moment, to add: one per instance's database (none on the
    // heap), each added by the instance's JobCheckpoints under its prefix.
    struct Database {
      JobCheckpoints* owner = nullptr;
      std::string staging;  // where the database's own checkpoint is made
    };
    std::vector<Database> databases;
    std::vector<SinkPrecommit> precommits;
    std::chrono::steady_clock::time_point started;
    double pause_ms = 0;
  };
  // Whether a checkpoint (its interval has passed, none in flight) or a savepoint (a signal
  // asked) is due; `at` is when that was found. `failed`: the one in flight failed (recorded).
  struct Due {
    bool checkpoint = false, savepoint = false, failed = false;
    std::chrono::steady_clock::time_point at;
    bool any() const { return checkpoint || savepoint; }
  };
  Due due();
  // Takes what `due` says: `fill` adds the files of the sources and operators, then the sinks
  // pre-commit. `stop` as for maybe_take. False, with the failure recorded, when it failed.
  using Fill = std::function<bool(Snapshot&, std::string&)>;
  bool take_due(const Due& due, const Fill& fill, bool& stop);
  // Adds the files of this instance's operators (their state and watermarks) to `out`.
  bool write_operators(Snapshot& out, std::string& error);
  // With --savepoint-dir: SIGUSR1 and SIGTERM ask for a savepoint from now on.
  void listen_for_signals();
  // Waits for the checkpoint in flight, if any (before the sinks finish, at the end of a job).
  // False, with the failure recorded, when it failed.
  bool finish();
  // One line on stderr: how many checkpoints were taken, how long the job paused for them and
  // how long their asynchronous part took.
  void print_summary() const;
  // For metrics: the checkpoints completed, and the newest one's pause, duration and size.
  struct Stats {
    int64_t taken = 0;
    double last_pause_ms = 0, last_duration_ms = 0;
    uint64_t last_bytes = 0;
  };
  // (Read by parallel instances' metrics while the driver's thread takes checkpoints.)
  Stats stats() const {
    std::lock_guard lock(stats_mutex_);
    return Stats{taken_, last_pause_ms_, last_duration_ms_, last_bytes_};
  }

 private:
  bool take(bool savepoint, const Fill& fill);
  bool snapshot(const Fill& fill, Snapshot& out, std::string& error);
  static void write_sources(const std::vector<ActiveSource>& sources, Snapshot& out);
 public:
  // parts.state: per source and instance, whether it ended, its bad-record counts and the
  // ranges of the file it has left to read.
  static void write_parts(const JobSpec& spec, const std::vector<const std::vector<ActiveSource>*>& instances,
                          bool salted_sets_disjoint, Snapshot& out);
  // Each keyed operator's `@parallel` (aggregates, windows, joins): where its keys live.
  static std::vector<int32_t> operator_parallelism(const JobSpec& spec);

 private:
  // The asynchronous part; touches nothing the job's thread uses meanwhile.
  bool persist(Snapshot& snapshot, std::string& error);
  bool persist_files(Snapshot& snapshot, std::string& error);
  // RocksDB checkpoints a killed run was writing (DATABASE.checkpoint-ID): their hard links
  // would keep SST files on disk for good.
  void remove_unfinished_database_checkpoints();
  // Collects the checkpoint in flight: waiting for it when `wait`, else only if it is done.
  // False, with the failure recorded, when it failed.
  bool collect(bool wait);
  bool precommit_sinks(Snapshot& snapshot, std::string& error);
  // Makes RocksDB's checkpoint in `staging` and adds its files (PREFIX.rocksdb.*).
  bool add_state_database(const std::string& staging, CheckpointWriter& writer, bool savepoint, std::string& error);
  // The database of each part in `parts` (the instances' at another parallelism, keeping
  // the key groups `owner` owns).
  bool restore_state_database(PersistentState& db, const LoadedCheckpoint& from, const std::vector<int>& parts,
                              const KeyOwnership& owner, std::string& error);
  // Puts the files of the database a checkpoint holds under `prefix` (PREFIX.rocksdb.*) in
  // `dir`, SST files as hard links; false with an empty `error` when it has none.
  static bool unpack_database(const LoadedCheckpoint& from, const std::string& prefix, const std::string& dir,
                              std::string& error);

  // RocksDB's SST files this run has shared already, by their name in the database.
  std::map<std::string, CheckpointFile> shared_tables_;
  void write_aggregate(std::size_t i, Snapshot& snapshot);
  bool restore_aggregate(std::size_t i, const LoadedCheckpoint& from, const std::vector<int>& parts, const KeyOwnership& owner,
                         std::string& error);
  bool restore_aggregate_part(std::size_t i, const LoadedCheckpoint& from, int part, flow_agg_table& into, std::string& error);

  // Unwindowed aggregates and the heap backend's tables are checkpointed incrementally: a
  // full snapshot, then the changes since the previous checkpoint, as shared files named
  // PREFIX.ID.full and PREFIX.ID.delta. Every kFoldEvery-th is full again, and so is the next
  // once the deltas outweigh the full snapshot (state that changes wholesale between
  // checkpoints): a restore never reads much more than twice the state.
  static constexpr std::size_t kFoldEvery = 10;
  struct Chain {
    std::vector<CheckpointFile> files;  // the full snapshot, then the deltas
    bool next_is_full() const {
      if (files.size() % kFoldEvery == 0) return true;
      uint64_t deltas = 0;
      for (std::size_t i = 1; i < files.size(); ++i) deltas += files[i].size;
      return deltas >= files[0].size;
    }
  };
  // Adds the next link of `chain` to the snapshot: the earlier files by reference, `bytes` as new.
  void extend_chain(Chain& chain, const std::string& prefix, bool full, std::string bytes, Snapshot& snapshot);
  // The files of the chain PREFIX.* in a checkpoint, in order; empty when it has none, and
  // an error when it does not start with a full snapshot.
  static std::vector<const CheckpointFile*> chain_of(const CheckpointInfo& from, const std::string& prefix, std::string& error);
  std::vector<Chain> chains_;  // per unwindowed aggregate
  Chain state_chain_;          // the heap backend's tables
  void write_state_tables(IncrementalSnapshots& tables, Snapshot& snapshot);
  bool restore_state_tables(const LoadedCheckpoint& from, const std::vector<int>& parts, const KeyOwnership& owner,
                            std::string& error);

  mutable std::mutex stats_mutex_;  // guards taken_ and last_*
  flow_ctx& ctx_;
  std::string prefix_;
  CheckpointOptions options_;
  CheckpointStore store_;
  std::chrono::steady_clock::time_point last_;
  int64_t next_id_ = 1;
  int taken_ = 0;
  double pause_total_ms_ = 0, pause_max_ms_ = 0;
  double async_total_ms_ = 0;
  double last_pause_ms_ = 0, last_duration_ms_ = 0;
  uint64_t last_bytes_ = 0;
  // The checkpoint in flight: its snapshot, which the background task writes.
  std::unique_ptr<Snapshot> in_flight_;
  BackgroundTask background_;
};

}  // namespace flow
