// Job checkpoints: what goes into each file, and the order a restore puts it back in.
//   sources.state   per source: ended, position, bad-record counts
//   time.state      the watermarks of sources and operators
//   window-N.state, join-N.state   each operator's state
//   shared/aggregate-N.ID.full, shared/aggregate-N.ID.delta   an unwindowed aggregate, incremental:
//                   the full snapshot of checkpoint ID and the changes of each later one
//   aggregate-N.state   instead, in a savepoint (self-contained): the full snapshot
//   rocksdb.NAME    with --state rocksdb: the database's files other than SST files (MANIFEST,
//                   CURRENT, OPTIONS), and in a savepoint its SST files too
//   shared/rocksdb.CRC-SIZE-NAME.sst   its SST files, shared between checkpoints (hard links;
//                   named by content, since a restored database may number files again)
//   sinks.state     per sink: committed length, then the pre-commit: its file, length and checksum
//                   (with --at-least-once: the length written, no pre-commit)
#include "exec/job_checkpoints.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>

#include "checkpoint/byte_io.h"
#include "checkpoint/crc32c.h"
#include "checkpoint/state_snapshot.h"

namespace flow {

namespace {

// Set by the signal handlers, read between steps.
volatile std::sig_atomic_t g_savepoint_requested = 0;
volatile std::sig_atomic_t g_stop_requested = 0;

extern "C" void on_savepoint_signal(int signal) {
  g_savepoint_requested = 1;
  if (signal == SIGTERM) g_stop_requested = 1;
}

std::string numbered(const char* what, std::size_t i) { return std::string(what) + "-" + std::to_string(i) + ".state"; }

std::optional<std::string> read_whole(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return std::nullopt;
  std::string text;
  char buffer[1 << 16];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, f)) > 0;) text.append(buffer, n);
  std::fclose(f);
  return text;
}

}  // namespace

JobCheckpoints::JobCheckpoints(flow_ctx& ctx)
    : ctx_(ctx), options_(ctx.options.checkpoint), store_(options_.dir), last_(std::chrono::steady_clock::now()) {
  chains_.resize(ctx.aggregates.size());
}

bool JobCheckpoints::write_aggregate(std::size_t i, bool savepoint, int64_t id, CheckpointWriter& writer, std::string& error) {
  flow_agg_table& table = *ctx_.aggregates[i];
  const RowLayout& layout = ctx_.spec->aggregates[i].row_layout;
  std::string bytes;
  if (savepoint) {
    snapshot_agg_table(table, layout, bytes);
    return writer.write_file(numbered("aggregate", i), bytes, error);
  }
  Chain& chain = chains_[i];
  bool full = chain.files.size() % kFoldEvery == 0;  // the first, and every kFoldEvery-th
  if (full) {
    chain.files.clear();
    snapshot_agg_table(table, layout, bytes);
  } else {
    snapshot_agg_changes(table, layout, bytes);
  }
  std::string name = "aggregate-" + std::to_string(i) + "." + std::to_string(id) + (full ? ".full" : ".delta");
  for (const CheckpointFile& earlier : chain.files) writer.refer_shared(earlier);
  if (!writer.write_shared(name, bytes, error)) return false;
  chain.files.push_back(CheckpointFile{name, true, bytes.size(), crc32c(bytes.data(), bytes.size())});
  if (full) table.track_changes();  // from here on, the changed rows make the next delta
  else table.clear_changes();
  return true;
}

bool JobCheckpoints::restore_aggregate(std::size_t i, const CheckpointInfo& from, const std::map<std::string, std::string>& files,
                                       std::string& error) {
  flow_agg_table& table = *ctx_.aggregates[i];
  const RowLayout& layout = ctx_.spec->aggregates[i].row_layout;
  if (auto own = files.find(numbered("aggregate", i)); own != files.end()) return restore_agg_table(own->second, layout, table, error);
  // The chain: the full snapshot, then the deltas, in checkpoint order.
  std::string prefix = "aggregate-" + std::to_string(i) + ".";
  std::vector<std::pair<int64_t, const CheckpointFile*>> chain;
  for (const CheckpointFile& f : from.files)
    if (f.shared && f.name.compare(0, prefix.size(), prefix) == 0)
      chain.emplace_back(std::strtoll(f.name.c_str() + prefix.size(), nullptr, 10), &f);
  std::sort(chain.begin(), chain.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  if (chain.empty() || chain[0].second->name.size() < 5 || chain[0].second->name.compare(chain[0].second->name.size() - 5, 5, ".full") != 0)
    return error = "aggregate " + std::to_string(i) + " has no full snapshot", false;
  if (!restore_agg_table(files.at(chain[0].second->name), layout, table, error)) return false;
  for (std::size_t k = 1; k < chain.size(); ++k)
    if (!apply_agg_changes(files.at(chain[k].second->name), layout, table, error)) return false;
  return true;
}

bool JobCheckpoints::restore(RestoredJob& out) {
  if (options_.restore.empty()) return true;
  std::optional<CheckpointInfo> chosen;
  // The store the checkpoint is in: --checkpoint-dir, or the directory holding --restore PATH
  // (its shared files are there).
  std::string root = options_.dir;
  if (options_.restore != "latest") {
    std::string path = options_.restore;
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    std::size_t slash = path.rfind('/');
    root = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  }
  CheckpointStore from(root);
  if (options_.restore == "latest") {
    std::vector<std::string> skipped;
    chosen = store_.latest_usable(skipped);
    for (const std::string& why : skipped) std::fprintf(stderr, "warning: %s\n", why.c_str());
    if (!chosen) {
      std::fprintf(stderr, "note: no usable checkpoint in `%s`: starting from the beginning\n", options_.dir.c_str());
      return true;
    }
  } else {
    CheckpointInfo info = from.inspect(options_.restore, true);
    if (!info.usable()) {
      ctx_.failure.record("cannot restore from `" + options_.restore + "`: " + info.problem);
      return false;
    }
    chosen = info;
  }
  std::map<std::string, std::string> files;
  for (const CheckpointFile& f : chosen->files) {
    if (f.shared && f.name.compare(0, 8, "rocksdb.") == 0) continue;  // linked, not read (restore_state_database)
    auto bytes = read_whole(f.shared ? from.root() + "/shared/" + f.name : chosen->path + "/" + f.name);
    if (!bytes) {
      ctx_.failure.record("cannot read checkpoint file " + f.name + " of " + chosen->path);
      return false;
    }
    files[f.name] = std::move(*bytes);
  }
  auto fail = [&](const std::string& why) {
    ctx_.failure.record("cannot restore from " + chosen->path + ": " + why);
    return false;
  };
  auto file = [&](const std::string& name) -> const std::string* {
    auto it = files.find(name);
    return it == files.end() ? nullptr : &it->second;
  };
  const JobSpec& spec = *ctx_.spec;
  std::string error;
  // The database first: the operators' restores find their rows in it.
  PersistentState* db = ctx_.state->persistent();
  if (db && !restore_state_database(*db, *chosen, from.root(), files, error)) return fail(error);
  bool has_database = std::any_of(chosen->files.begin(), chosen->files.end(),
                                  [](const CheckpointFile& f) { return f.name.compare(0, 8, "rocksdb.") == 0; });
  if (has_database && !db) return fail("its state is in RocksDB: restore it with --state rocksdb");
  const std::string* time = file("time.state");
  if (!time || !ctx_.time.restore_time(*time, error)) return fail(time ? error : "it has no watermarks");
  for (std::size_t i = 0; i < ctx_.time.window_count(); ++i) {
    const std::string* bytes = file(numbered("window", i));
    if (!bytes || !ctx_.time.window(static_cast<int32_t>(i))->restore(*bytes, error))
      return fail(bytes ? "window " + std::to_string(i) + ": " + error : "it is not of this job (window " + std::to_string(i) + ")");
  }
  for (std::size_t i = 0; i < ctx_.time.join_count(); ++i) {
    const std::string* bytes = file(numbered("join", i));
    if (!bytes || !ctx_.time.join(static_cast<int32_t>(i))->restore(*bytes, error))
      return fail(bytes ? "join " + std::to_string(i) + ": " + error : "it is not of this job (join " + std::to_string(i) + ")");
  }
  for (std::size_t i = 0; i < ctx_.aggregates.size(); ++i)
    if (!restore_aggregate(i, *chosen, files, error)) return fail(error);
  const std::string* sources = file("sources.state");
  const std::string* sinks = file("sinks.state");
  if (!sources || !sinks) return fail("it lacks its sources or sinks");
  ByteReader r(*sources);
  uint64_t n = 0;
  if (!r.number(n) || n != spec.sources.size()) return fail("it is not of this job (sources)");
  out.sources.resize(n);
  for (RestoredJob::Source& s : out.sources) {
    uint8_t ended = 0;
    if (!r.number(ended) || !r.number(s.position.offset) || !r.number(s.position.line) || !r.number(s.skipped) ||
        !r.number(s.dead_lettered))
      return fail("damaged source positions");
    s.ended = ended != 0;
  }
  ByteReader k(*sinks);
  if (!k.number(n) || n != spec.sinks.size()) return fail("it is not of this job (sinks)");
  out.sinks.resize(n);
  for (SinkPrecommit& sink : out.sinks) {
    std::string_view pending;
    if (!k.number(sink.committed) || !k.bytes(pending) || !k.number(sink.length) || !k.number(sink.crc))
      return fail("damaged sink pre-commits");
    sink.pending = std::string(pending);
  }
  out.restored = true;
  out.id = chosen->id;
  next_id_ = store_.next_id();
  std::fprintf(stderr, "note: restored from checkpoint %lld\n", static_cast<long long>(chosen->id));
  return true;
}

void JobCheckpoints::listen_for_signals() {
  if (options_.savepoint_dir.empty()) return;
  g_savepoint_requested = 0;
  g_stop_requested = 0;
  std::signal(SIGUSR1, on_savepoint_signal);
  std::signal(SIGTERM, on_savepoint_signal);
}

bool JobCheckpoints::maybe_take(const std::vector<ActiveSource>& sources, bool& stop) {
  bool savepoint = g_savepoint_requested != 0;
  auto now = std::chrono::steady_clock::now();
  bool checkpoint = enabled() && now - last_ >= std::chrono::milliseconds(options_.interval_ms);
  if (!savepoint && !checkpoint) return true;
  for (const ActiveSource& s : sources)
    if (!s.ended && s.decoder && !s.decoder->resumable()) return true;  // a bad record is pending: next step
  if (savepoint) {
    g_savepoint_requested = 0;
    if (!take(sources, true)) return false;
    stop = g_stop_requested != 0;
    if (!checkpoint) return true;
  }
  bool ok = take(sources, false);
  last_ = std::chrono::steady_clock::now();
  double pause = std::chrono::duration<double, std::milli>(last_ - now).count();
  pause_total_ms_ += pause;
  pause_max_ms_ = std::max(pause_max_ms_, pause);
  return ok;
}

bool JobCheckpoints::take(const std::vector<ActiveSource>& sources, bool savepoint) {
  if (taken_ == 0 && next_id_ == 1) next_id_ = store_.next_id();
  // A savepoint is a full checkpoint of its own directory, never retained away.
  CheckpointStore savepoints(options_.savepoint_dir);
  int64_t id = savepoint ? savepoints.next_id() : next_id_;
  CheckpointWriter writer(savepoint ? options_.savepoint_dir : options_.dir, id, savepoint);
  std::string error;
  auto write = [&](const std::string& name, const std::string& bytes) { return writer.write_file(name, bytes, error); };
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
  bool ok = write("sources.state", bytes);
  bytes.clear();
  ctx_.time.snapshot_time(bytes);
  ok = ok && write("time.state", bytes);
  for (std::size_t i = 0; ok && i < ctx_.time.window_count(); ++i) {
    bytes.clear();
    ctx_.time.window(static_cast<int32_t>(i))->snapshot(bytes);
    ok = write(numbered("window", i), bytes);
  }
  for (std::size_t i = 0; ok && i < ctx_.time.join_count(); ++i) {
    bytes.clear();
    ctx_.time.join(static_cast<int32_t>(i))->snapshot(bytes);
    ok = write(numbered("join", i), bytes);
  }
  for (std::size_t i = 0; ok && i < ctx_.aggregates.size(); ++i) ok = write_aggregate(i, savepoint, id, writer, error);
  if (PersistentState* db = ctx_.state->persistent(); ok && db) ok = write_state_database(*db, writer, savepoint, error);
  std::vector<SinkPrecommit> precommits;
  ok = ok && precommit_sinks(savepoint, id, precommits);
  bytes.clear();
  ByteWriter sinks(bytes);
  sinks.u64(precommits.size());
  for (const SinkPrecommit& p : precommits) {
    sinks.u64(p.committed);
    sinks.bytes(p.pending);
    sinks.u64(p.length);
    sinks.u32(p.crc);
  }
  ok = ok && write("sinks.state", bytes) && writer.commit(error);
  if (!ok) {
    ctx_.failure.record(std::string("cannot write ") + (savepoint ? "savepoint " : "checkpoint ") + std::to_string(id) + ": " + error);
    return false;
  }
  // Complete: what it pre-committed is the sinks' output now.
  for (std::size_t i = 0; i < precommits.size(); ++i) {
    FileTransaction* transaction = ctx_.sink_transactions[i].get();
    if (transaction && !transaction->commit(precommits[i], error)) {
      ctx_.failure.record("cannot commit the output of checkpoint " + std::to_string(id) + " to `" + transaction->path() + "`: " + error);
      return false;
    }
  }
  if (savepoint) {
    std::fprintf(stderr, "note: savepoint written to %s\n", writer.path().c_str());
    return true;
  }
  ++taken_;
  ++next_id_;
  store_.retain(options_.retained);
  return true;
}

bool JobCheckpoints::write_state_database(PersistentState& db, CheckpointWriter& writer, bool savepoint, std::string& error) {
  namespace fs = std::filesystem;
  std::string staging = db.directory() + ".checkpoint";
  std::error_code ec;
  fs::remove_all(staging, ec);
  if (!db.checkpoint(staging, error)) return false;
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
      if (!writer.write_file("rocksdb." + name, *bytes, error)) return false;
      continue;
    }
    uint32_t crc = crc32c(bytes->data(), bytes->size());
    char prefix[32];
    std::snprintf(prefix, sizeof prefix, "%08x-%zu-", crc, bytes->size());
    CheckpointFile shared{"rocksdb." + std::string(prefix) + name, true, bytes->size(), crc};
    if (!writer.link_shared(shared.name, path, shared.size, shared.crc, error)) return false;
    shared_tables_[name] = shared;
  }
  fs::remove_all(staging, ec);
  return true;
}

bool JobCheckpoints::restore_state_database(PersistentState& db, const CheckpointInfo& from, const std::string& root,
                                            const std::map<std::string, std::string>& files, std::string& error) {
  namespace fs = std::filesystem;
  const std::string prefix = "rocksdb.";
  std::string dir = db.directory() + ".restore";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return error = "cannot create " + dir + ": " + ec.message(), false;
  bool any = false;
  for (const CheckpointFile& f : from.files) {
    if (f.name.compare(0, prefix.size(), prefix) != 0) continue;
    any = true;
    if (!f.shared) {
      std::string target = dir + "/" + f.name.substr(prefix.size());
      const std::string& bytes = files.at(f.name);
      std::FILE* out = std::fopen(target.c_str(), "wb");
      bool written = out && std::fwrite(bytes.data(), 1, bytes.size(), out) == bytes.size();
      if (out && std::fclose(out) != 0) written = false;
      if (!written) return error = "cannot write " + target, false;
      continue;
    }
    // shared/rocksdb.CRC-SIZE-NAME: linked back under the database's own NAME
    std::size_t second_dash = f.name.find('-', f.name.find('-') + 1);
    std::string source = root + "/shared/" + f.name;
    std::string target = dir + "/" + f.name.substr(second_dash + 1);
    fs::create_hard_link(source, target, ec);
    if (ec) fs::copy_file(source, target, ec);
    if (ec) return error = "cannot restore " + source + ": " + ec.message(), false;
  }
  if (!any) {  // a checkpoint of the heap backend: the operators' snapshots hold the rows
    fs::remove_all(dir, ec);
    return true;
  }
  return db.restore(dir, error);
}

bool JobCheckpoints::precommit_sinks(bool savepoint, int64_t id, std::vector<SinkPrecommit>& out) {
  std::string tag = (savepoint ? "savepoint-" : "chk-") + std::to_string(id);
  out.resize(ctx_.sinks.size());
  for (std::size_t i = 0; i < ctx_.sinks.size(); ++i) {
    OutputBuffer* buffer = ctx_.sinks[i]->buffer();
    FileTransaction* transaction = ctx_.sink_transactions[i].get();
    std::string error;
    if (transaction) {
      if (transaction->precommit(*buffer, tag, out[i], error)) continue;
    } else if (!buffer || buffer->sync()) {  // written directly: durable before the checkpoint counts it
      out[i].committed = buffer ? buffer->bytes_written() : 0;
      continue;
    } else {
      error = buffer->error();
    }
    ctx_.failure.record("cannot write sink " + std::to_string(i) + " before checkpoint " + std::to_string(id) + ": " + error);
    return false;
  }
  return true;
}

void JobCheckpoints::print_summary() const {
  if (!enabled()) return;
  std::fprintf(stderr, "note: %d checkpoint%s taken; pause %.1f ms on average, %.1f ms at most\n", taken_, taken_ == 1 ? "" : "s",
               taken_ ? pause_total_ms_ / taken_ : 0.0, pause_max_ms_);
}

}  // namespace flow
