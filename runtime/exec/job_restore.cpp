// Restoring a job from a checkpoint or savepoint (see job_checkpoints.h and the file list
// at the top of job_checkpoints.cpp): the state database or the heap tables' chain first, then
// the watermarks, each operator's snapshot, the unwindowed aggregates, and last the source
// positions and sink pre-commits the driver resumes from.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>

#include "checkpoint/byte_io.h"
#include "checkpoint/state_snapshot.h"
#include "exec/checkpoint_files.h"
#include "exec/job_checkpoints.h"

namespace flow {

std::vector<const CheckpointFile*> JobCheckpoints::chain_of(const CheckpointInfo& from, const std::string& prefix, std::string& error) {
  std::vector<std::pair<int64_t, const CheckpointFile*>> links;
  std::string start = prefix + ".";
  for (const CheckpointFile& f : from.files)
    if (f.shared && f.name.compare(0, start.size(), start) == 0)
      links.emplace_back(std::strtoll(f.name.c_str() + start.size(), nullptr, 10), &f);
  std::sort(links.begin(), links.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<const CheckpointFile*> chain;
  for (const auto& link : links) chain.push_back(link.second);
  auto ends_with = [](const std::string& name, std::string_view end) {
    return name.size() >= end.size() && name.compare(name.size() - end.size(), end.size(), end) == 0;
  };
  if (!chain.empty() && !ends_with(chain[0]->name, ".full")) error = prefix + " has no full snapshot";
  return chain;
}

bool JobCheckpoints::restore_aggregate(std::size_t i, const CheckpointInfo& from, const std::map<std::string, std::string>& files,
                                       std::string& error) {
  flow_agg_table& table = *ctx_.aggregates[i];
  const RowLayout& layout = ctx_.spec->aggregates[i].row_layout;
  if (auto own = files.find(numbered("aggregate", i)); own != files.end()) return restore_agg_table(own->second, layout, table, error);
  std::vector<const CheckpointFile*> chain = chain_of(from, "aggregate-" + std::to_string(i), error);
  if (chain.empty() && error.empty()) error = "aggregate " + std::to_string(i) + " has no full snapshot";
  if (!error.empty()) return false;
  if (!restore_agg_table(files.at(chain[0]->name), layout, table, error)) return false;
  for (std::size_t k = 1; k < chain.size(); ++k)
    if (!apply_agg_changes(files.at(chain[k]->name), layout, table, error)) return false;
  return true;
}

bool JobCheckpoints::restore_state_tables(const CheckpointInfo& from, const std::map<std::string, std::string>& files,
                                          std::string& error) {
  std::vector<std::string_view> chain;
  if (auto own = files.find("state.full"); own != files.end()) {
    chain.push_back(own->second);
  } else {
    for (const CheckpointFile* f : chain_of(from, "state", error)) chain.push_back(files.at(f->name));
    if (!error.empty()) return false;
  }
  IncrementalSnapshots* tables = ctx_.state->incremental();
  if (chain.empty()) return true;  // a job without window or join state
  if (!tables) return error = "its window and join state is in heap snapshots: restore it with --state heap", false;
  return tables->restore(chain, error);
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
  if (!restore_state_tables(*chosen, files, error)) return fail(error);
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

}  // namespace flow
