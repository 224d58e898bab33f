// Job checkpoints: what goes into each file (restores: job_restore.cpp).
//   sources.state   per source: ended, position, bad-record counts
//   time.state      the watermarks of sources and operators
//   window-N.state, join-N.state   each operator's state
//   shared/aggregate-N.ID.full, shared/aggregate-N.ID.delta   an unwindowed aggregate, incremental:
//                   the full snapshot of checkpoint ID and the changes of each later one
//   aggregate-N.state   instead, in a savepoint (self-contained): the full snapshot
//   shared/state.ID.full, shared/state.ID.delta   the heap backend's window and join tables,
//                   incremental in the same way (state/checkpointed_heap_backend.cpp)
//   state.full      instead, in a savepoint: all their rows
//   rocksdb.NAME    with --state rocksdb: the database's files other than SST files (MANIFEST,
//                   CURRENT, OPTIONS), and in a savepoint its SST files too
//   shared/rocksdb.CRC-SIZE-NAME.sst   its SST files, shared between checkpoints (hard links;
//                   named by content, since a restored database may number files again)
// A checkpoint of parallel instances has the operator files and databases of instance K under
// the prefix "instance-K." (instance-K.time.state, shared/instance-K.rocksdb.CRC-SIZE-NAME.sst,
// ...) and parts.state instead of sources.state.
//   sinks.state     per sink: committed length, then the pre-commit: its file, length and checksum
//                   (with --at-least-once: the length written, no pre-commit)
#include "exec/job_checkpoints.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>

#include "checkpoint/byte_io.h"
#include "checkpoint/crc32c.h"
#include "checkpoint/state_snapshot.h"
#include "exec/checkpoint_files.h"

namespace flow {

namespace {

// Set by the signal handlers, read between steps.
volatile std::sig_atomic_t g_savepoint_requested = 0;
volatile std::sig_atomic_t g_stop_requested = 0;

extern "C" void on_savepoint_signal(int signal) {
  g_savepoint_requested = 1;
  if (signal == SIGTERM) g_stop_requested = 1;
}

}  // namespace

JobCheckpoints::JobCheckpoints(flow_ctx& ctx, std::string prefix)
    : ctx_(ctx),
      prefix_(std::move(prefix)),
      options_(ctx.options.checkpoint),
      store_(options_.dir),
      last_(std::chrono::steady_clock::now()) {
  chains_.resize(ctx.aggregates.size());
  if (!ctx.state) return;  // a parallel job's own: the instances hold the operators
  if (IncrementalSnapshots* tables = ctx.state->incremental(); tables && !enabled()) tables->stop_tracking();
  remove_unfinished_database_checkpoints();
}

void JobCheckpoints::remove_unfinished_database_checkpoints() {
  namespace fs = std::filesystem;
  PersistentState* db = ctx_.state->persistent();
  if (!db) return;
  fs::path database(db->directory());
  std::string prefix = database.filename().string() + ".checkpoint-";
  fs::path parent = database.parent_path().empty() ? fs::path(".") : database.parent_path();
  std::error_code ec;
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename().string().compare(0, prefix.size(), prefix) == 0) fs::remove_all(it->path(), ec);
}

void JobCheckpoints::extend_chain(Chain& chain, const std::string& prefix, bool full, std::string bytes, Snapshot& snapshot) {
  if (full) chain.files.clear();
  std::string name = prefix + "." + std::to_string(snapshot.id) + (full ? ".full" : ".delta");
  for (const CheckpointFile& earlier : chain.files) snapshot.writer->refer_shared(earlier);
  chain.files.push_back(CheckpointFile{name, true, bytes.size(), crc32c(bytes.data(), bytes.size())});
  snapshot.shared.emplace_back(name, std::move(bytes));
}

void JobCheckpoints::write_aggregate(std::size_t i, Snapshot& snapshot) {
  flow_agg_table& table = *ctx_.aggregates[i];
  const RowLayout& layout = ctx_.spec->aggregates[i].row_layout;
  std::string bytes;
  if (snapshot.savepoint) {
    snapshot_agg_table(table, layout, bytes);
    snapshot.files.emplace_back(prefix_ + numbered("aggregate", i), std::move(bytes));
    return;
  }
  Chain& chain = chains_[i];
  bool full = chain.next_is_full();
  if (full) snapshot_agg_table(table, layout, bytes);
  else snapshot_agg_changes(table, layout, bytes);
  extend_chain(chain, prefix_ + "aggregate-" + std::to_string(i), full, std::move(bytes), snapshot);
  if (full) table.track_changes();  // from here on, the changed rows make the next delta
  else table.clear_changes();
}

void JobCheckpoints::write_state_tables(IncrementalSnapshots& tables, Snapshot& snapshot) {
  std::string bytes;
  if (snapshot.savepoint) {  // self-contained, and the chain goes on unchanged
    tables.snapshot_all(bytes);
    snapshot.files.emplace_back(prefix_ + "state.full", std::move(bytes));
    return;
  }
  bool full = state_chain_.next_is_full();
  tables.snapshot_changes(full, bytes);
  extend_chain(state_chain_, prefix_ + "state", full, std::move(bytes), snapshot);
}

void JobCheckpoints::listen_for_signals() {
  if (options_.savepoint_dir.empty()) return;
  g_savepoint_requested = 0;
  g_stop_requested = 0;
  std::signal(SIGUSR1, on_savepoint_signal);
  std::signal(SIGTERM, on_savepoint_signal);
}

JobCheckpoints::Due JobCheckpoints::due() {
  Due due;
  if (in_flight_ && background_.finished() && !collect(false)) {
    due.failed = true;
    return due;
  }
  due.savepoint = g_savepoint_requested != 0;
  if (!enabled() && !due.savepoint) return due;  // asked after every batch: no clock read then
  due.at = std::chrono::steady_clock::now();
  due.checkpoint = enabled() && !in_flight_ && due.at - last_ >= std::chrono::milliseconds(options_.interval_ms);
  return due;
}

bool JobCheckpoints::maybe_take(const std::vector<ActiveSource>& sources, bool& stop) {
  Due now = due();
  if (now.failed) return false;
  if (!now.any()) return true;
  for (const ActiveSource& s : sources)
    if (!s.ended && s.decoder && !s.decoder->resumable()) return true;  // a bad record is pending: next step
  bool in_ranges = std::any_of(sources.begin(), sources.end(), [](const ActiveSource& s) { return !s.parts.empty(); });
  return take_due(now, [&](Snapshot& out, std::string& error) {
    if (in_ranges) write_parts(*ctx_.spec, {&sources}, false, out);  // resumed from parallel instances' ranges
    else write_sources(sources, out);
    return write_operators(out, error);
  }, stop);
}

bool JobCheckpoints::take_due(const Due& due, const Fill& fill, bool& stop) {
  if (due.savepoint) {
    // A SIGTERM that comes while this savepoint is written asks for one of its own: it is
    // taken at the next step, and the job stops there.
    g_savepoint_requested = 0;
    bool stopping = g_stop_requested != 0;
    if (!collect(true) || !take(true, fill)) return false;
    stop = stopping;
    if (!due.checkpoint) return true;
  }
  bool ok = take(false, fill);
  last_ = std::chrono::steady_clock::now();
  double pause = std::chrono::duration<double, std::milli>(last_ - due.at).count();
  if (in_flight_) in_flight_->pause_ms = pause;  // read once it is collected, on this thread
  pause_total_ms_ += pause;
  pause_max_ms_ = std::max(pause_max_ms_, pause);
  return ok;
}

bool JobCheckpoints::finish() { return collect(true); }

bool JobCheckpoints::collect(bool wait) {
  if (!in_flight_ || (!wait && !background_.finished())) return true;
  std::string error;
  bool ok = background_.collect(error);
  std::unique_ptr<Snapshot> done = std::move(in_flight_);
  if (!ok) {
    ctx_.failure.record("cannot write checkpoint " + std::to_string(done->id) + ": " + error);
    return false;
  }
  double background_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - done->started).count();
  async_total_ms_ += background_ms;
  std::lock_guard lock(stats_mutex_);
  ++taken_;
  last_pause_ms_ = done->pause_ms;
  last_duration_ms_ = done->pause_ms + background_ms;
  last_bytes_ = done->writer->bytes();
  return true;
}

bool JobCheckpoints::take(bool savepoint, const Fill& fill) {
  if (taken_ == 0 && next_id_ == 1 && !in_flight_) next_id_ = store_.next_id();
  auto taken = std::make_unique<Snapshot>();
  taken->savepoint = savepoint;
  // A savepoint is a full checkpoint of its own directory, never retained away.
  taken->id = savepoint ? CheckpointStore(options_.savepoint_dir).next_id() : next_id_;
  taken->writer = std::make_unique<CheckpointWriter>(savepoint ? options_.savepoint_dir : options_.dir, taken->id, savepoint);
  std::string error;
  auto fail = [&] {
    ctx_.failure.record(std::string("cannot write ") + (savepoint ? "savepoint " : "checkpoint ") + std::to_string(taken->id) +
                        ": " + error);
    return false;
  };
  if (!snapshot(fill, *taken, error)) return fail();
  if (savepoint) {  // written before the job goes on: SIGTERM stops it right after
    if (!persist(*taken, error)) return fail();
    std::fprintf(stderr, "note: savepoint written to %s\n", taken->writer->path().c_str());
    return true;
  }
  ++next_id_;
  taken->started = std::chrono::steady_clock::now();
  in_flight_ = std::move(taken);
  Snapshot* in_flight = in_flight_.get();
  background_.start([this, in_flight](std::string& failure) { return persist(*in_flight, failure); });
  return true;
}

void JobCheckpoints::write_sources(const std::vector<ActiveSource>& sources, Snapshot& out) {
  std::string bytes;
  ByteWriter w(bytes);
  w.u64(sources.size());
  for (const ActiveSource& s : sources) {
    SourcePosition p = s.decoder ? s.decoder->position() : SourcePosition{};
    w.u8(s.ended ? 1 : 0);
    w.u64(p.offset);
    w.i64(p.line);
    w.i64(s.skipped);
    w.i64(s.dead_lettered);
  }
  out.files.emplace_back("sources.state", std::move(bytes));
}

namespace {

// What `source` has left to read, as ranges of its file.
std::vector<ByteRange> remaining_ranges(const ActiveSource& source) {
  std::vector<ByteRange> left;
  if (source.ended) return left;
  uint64_t at = source.decoder ? source.decoder->position().offset : 0;
  if (source.parts.empty()) {
    left.push_back(ByteRange{at, std::numeric_limits<uint64_t>::max()});
    return left;
  }
  if (source.next_part > 0 && !source.between_parts) {
    const ByteRange& current = source.parts[source.next_part - 1];
    if (at < current.end) left.push_back(ByteRange{std::max(at, current.begin), current.end});
  }
  for (std::size_t k = source.next_part; k < source.parts.size(); ++k)
    if (source.parts[k].begin < source.parts[k].end) left.push_back(source.parts[k]);
  return left;
}

}  // namespace

std::vector<int32_t> JobCheckpoints::operator_parallelism(const JobSpec& spec) {
  std::vector<int32_t> out;
  for (const AggregateSpec& a : spec.aggregates) out.push_back(a.parallelism);
  for (const WindowOperatorSpec& w : spec.windows) out.push_back(w.parallelism);
  for (const JoinOperatorSpec& j : spec.joins) out.push_back(j.parallelism);
  return out;
}

void JobCheckpoints::write_parts(const JobSpec& spec, const std::vector<const std::vector<ActiveSource>*>& instances,
                                 bool salted_sets_disjoint, Snapshot& out) {
  std::string bytes;
  ByteWriter w(bytes);
  w.u32(static_cast<uint32_t>(instances.size()));
  const std::size_t sources = instances.front()->size();
  w.u64(sources);
  for (std::size_t i = 0; i < sources; ++i)
    for (const std::vector<ActiveSource>* instance : instances) {
      const ActiveSource& s = (*instance)[i];
      w.u8(s.ended ? 1 : 0);
      w.i64(s.skipped);
      w.i64(s.dead_lettered);
      std::vector<ByteRange> left = remaining_ranges(s);
      w.u64(left.size());
      for (const ByteRange& r : left) {
        w.u64(r.begin);
        w.u64(r.end);
      }
    }
  w.u8(salted_sets_disjoint ? 1 : 0);
  std::vector<int32_t> parallelism = operator_parallelism(spec);
  w.u64(parallelism.size());
  for (int32_t p : parallelism) w.i64(p);
  out.files.emplace_back("parts.state", std::move(bytes));
}

bool JobCheckpoints::write_operators(Snapshot& out, std::string& error) {
  auto add = [&](const std::string& name, std::string bytes) { out.files.emplace_back(prefix_ + name, std::move(bytes)); };
  std::string bytes;
  ctx_.time.snapshot_time(bytes);
  add("time.state", std::move(bytes));
  for (std::size_t i = 0; i < ctx_.time.window_count(); ++i) {
    bytes.clear();
    ctx_.time.window(static_cast<int32_t>(i))->snapshot(bytes);
    add(numbered("window", i), std::move(bytes));
  }
  for (std::size_t i = 0; i < ctx_.time.join_count(); ++i) {
    bytes.clear();
    ctx_.time.join(static_cast<int32_t>(i))->snapshot(bytes);
    add(numbered("join", i), std::move(bytes));
  }
  for (std::size_t i = 0; i < ctx_.aggregates.size(); ++i) write_aggregate(i, out);
  if (IncrementalSnapshots* tables = ctx_.state->incremental()) write_state_tables(*tables, out);
  if (PersistentState* db = ctx_.state->persistent()) {
    // The rows changed since the last checkpoint; the asynchronous part writes them into the
    // database and makes RocksDB's own checkpoint (hard links) of that, which it then adds.
    out.databases.push_back(Snapshot::Database{this, db->directory() + ".checkpoint-" + std::to_string(out.id) + (out.savepoint ? "s" : "")});
    if (!db->capture_changes(error)) return false;
  }
  return true;
}

bool JobCheckpoints::snapshot(const Fill& fill, Snapshot& out, std::string& error) {
  if (!fill(out, error) || !precommit_sinks(out, error)) return false;
  std::string bytes;
  ByteWriter sinks(bytes);
  sinks.u64(out.precommits.size());
  for (const SinkPrecommit& p : out.precommits) {
    sinks.u64(p.committed);
    sinks.bytes(p.pending);
    sinks.u64(p.length);
    sinks.u32(p.crc);
  }
  out.files.emplace_back("sinks.state", std::move(bytes));
  return true;
}

bool JobCheckpoints::persist(Snapshot& snapshot, std::string& error) {
  if (persist_files(snapshot, error)) return true;
  std::error_code ignored;
  for (const Snapshot::Database& d : snapshot.databases) std::filesystem::remove_all(d.staging, ignored);  // its hard links pin SST files
  return false;
}

bool JobCheckpoints::persist_files(Snapshot& snapshot, std::string& error) {
  CheckpointWriter& writer = *snapshot.writer;
  for (const auto& [name, bytes] : snapshot.files)
    if (!writer.write_file(name, bytes, error)) return false;
  for (const auto& [name, bytes] : snapshot.shared)
    if (!writer.write_shared(name, bytes, error)) return false;
  for (const Snapshot::Database& d : snapshot.databases)
    if (!d.owner->add_state_database(d.staging, writer, snapshot.savepoint, error)) return false;
  for (std::size_t i = 0; i < snapshot.precommits.size(); ++i) {
    FileTransaction* transaction = ctx_.sink_transactions[i].get();
    if (transaction && !transaction->make_durable(snapshot.precommits[i], error)) return false;
  }
  if (!writer.commit(error)) return false;
  // Complete: what it pre-committed is the sinks' output now.
  for (std::size_t i = 0; i < snapshot.precommits.size(); ++i) {
    FileTransaction* transaction = ctx_.sink_transactions[i].get();
    if (transaction && !transaction->commit(snapshot.precommits[i], error)) {
      error = "cannot commit its output to `" + transaction->path() + "`: " + error;
      return false;
    }
  }
  if (!snapshot.savepoint) store_.retain(options_.retained);
  return true;
}

bool is_database_file(const std::string& name) {
  return std::string_view(name).substr(instance_prefix(name).size(), 8) == "rocksdb.";
}

bool JobCheckpoints::add_state_database(const std::string& staging, CheckpointWriter& writer, bool savepoint, std::string& error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::remove_all(staging, ec);
  if (!ctx_.state->persistent()->write_checkpoint(staging, error)) return false;
  const std::string prefix = prefix_ + "rocksdb.";
  std::vector<std::string> names;
  for (fs::directory_iterator it(staging, ec), end; !ec && it != end; it.increment(ec)) names.push_back(it->path().filename().string());
  if (ec) return error = "cannot list " + staging + ": " + ec.message(), false;
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    std::string path = staging + "/" + name;
    bool table_file = name.size() > 4 && name.compare(name.size() - 4, 4, ".sst") == 0;
    if (table_file && !savepoint) {
      if (auto known = shared_tables_.find(name); known != shared_tables_.end()) {
        writer.refer_shared(known->second);
        continue;
      }
    }
    auto bytes = read_whole(path);
    if (!bytes) return error = "cannot read " + path, false;
    if (!table_file || savepoint) {
      if (!writer.write_file(prefix + name, *bytes, error)) return false;
      continue;
    }
    uint32_t crc = crc32c(bytes->data(), bytes->size());
    char content[32];
    std::snprintf(content, sizeof content, "%08x-%zu-", crc, bytes->size());
    CheckpointFile shared{prefix + content + name, true, bytes->size(), crc};
    if (!writer.link_shared(shared.name, path, shared.size, shared.crc, error)) return false;
    shared_tables_[name] = shared;
  }
  fs::remove_all(staging, ec);
  return true;
}

bool JobCheckpoints::precommit_sinks(Snapshot& snapshot, std::string& error) {
  std::string tag = (snapshot.savepoint ? "savepoint-" : "chk-") + std::to_string(snapshot.id);
  snapshot.precommits.resize(ctx_.sinks.size());
  for (std::size_t i = 0; i < ctx_.sinks.size(); ++i) {
    OutputBuffer* buffer = ctx_.sinks[i]->buffer();
    FileTransaction* transaction = ctx_.sink_transactions[i].get();
    SinkPrecommit& out = snapshot.precommits[i];
    if (transaction) {
      // The fsyncs are persist()'s (make_durable), for savepoints too.
      if (transaction->precommit(*buffer, tag, out, error, false)) continue;
    } else if (!buffer || buffer->sync()) {  // written directly: durable before the checkpoint counts it
      out.committed = buffer ? buffer->bytes_written() : 0;
      continue;
    } else {
      error = buffer->error();
    }
    error = "cannot write sink " + std::to_string(i) + ": " + error;
    return false;
  }
  return true;
}

void JobCheckpoints::print_summary() const {
  if (!enabled()) return;
  std::fprintf(stderr, "note: %d checkpoint%s taken; pause %.1f ms on average, %.1f ms at most; written in the background in %.1f ms on average\n",
               taken_, taken_ == 1 ? "" : "s", taken_ ? pause_total_ms_ / taken_ : 0.0, pause_max_ms_,
               taken_ ? async_total_ms_ / taken_ : 0.0);
}

}  // namespace flow
