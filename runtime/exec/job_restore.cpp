// Restoring a job from a checkpoint or savepoint (see job_checkpoints.h and the file list
// at the top of job_checkpoints.cpp): the state database or the heap tables' chain first, then
// the watermarks, each operator's snapshot, the unwindowed aggregates, and last the source
// positions and sink pre-commits the driver resumes from.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <limits>
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

namespace {

// One instance's entry for one source: sources.state (a single instance reading its file from a
// position) or parts.state (per instance, the ranges it had left to read).
struct SourceEntry {
  bool ended = false;
  SourcePosition position;  // sources.state only
  int64_t skipped = 0, dead_lettered = 0;
  std::vector<ByteRange> ranges;  // left to read (sources.state: from the position to the end)
};

// Per source, per part of the checkpoint, its entry; and from parts.state, whether salted sets
// are disjoint (absent in older checkpoints: they may not be).
bool read_source_entries(const LoadedCheckpoint& from, std::size_t sources, std::vector<std::vector<SourceEntry>>& out,
                         std::string& error, bool* salted_sets_disjoint = nullptr,
                         std::vector<int32_t>* operator_parallelism = nullptr) {
  const std::string* bytes = from.file(from.parallel ? "parts.state" : "sources.state");
  if (!bytes) return error = "it lacks its sources or sinks", false;
  ByteReader r(*bytes);
  uint64_t n = 0;
  uint32_t parts = 1;
  if ((from.parallel && !r.number(parts)) || !r.number(n) || n != sources) return error = "it is not of this job (sources)", false;
  out.assign(n, std::vector<SourceEntry>(parts));
  for (std::vector<SourceEntry>& source : out)
    for (SourceEntry& e : source) {
      uint8_t ended = 0;
      uint64_t ranges = 0;
      bool ok = from.parallel ? r.number(ended) && r.number(e.skipped) && r.number(e.dead_lettered) && r.number(ranges)
                              : r.number(ended) && r.number(e.position.offset) && r.number(e.position.line) &&
                                    r.number(e.skipped) && r.number(e.dead_lettered);
      if (!ok) return error = "damaged source positions", false;
      e.ended = ended != 0;
      if (!from.parallel && !e.ended) e.ranges.push_back(ByteRange{e.position.offset, std::numeric_limits<uint64_t>::max()});
      for (uint64_t j = 0; j < ranges; ++j) {
        ByteRange range;
        if (!r.number(range.begin) || !r.number(range.end) || range.end < range.begin) return error = "damaged source positions", false;
        e.ranges.push_back(range);
      }
    }
  uint8_t disjoint = 0;
  if (from.parallel && !r.done() && !r.number(disjoint)) return error = "damaged source positions", false;
  if (salted_sets_disjoint) *salted_sets_disjoint = disjoint != 0;
  uint64_t operators = 0;
  std::vector<int32_t> parallelism;
  if (from.parallel && !r.done()) {
    if (!r.number(operators) || operators > 1 << 20) return error = "damaged source positions", false;
    for (uint64_t i = 0; i < operators; ++i) {
      int64_t p = 0;
      if (!r.number(p)) return error = "damaged source positions", false;
      parallelism.push_back(static_cast<int32_t>(p));
    }
  }
  if (operator_parallelism) *operator_parallelism = std::move(parallelism);
  return r.done() || (error = "damaged source positions", false);
}

// Which sources a checkpoint of a single instance had read to their end (none if it cannot
// tell: restore_positions reports why).
std::vector<bool> ended_sources(const LoadedCheckpoint& from, std::size_t sources) {
  std::vector<std::vector<SourceEntry>> entries;
  std::string error;
  std::vector<bool> ended;
  if (from.parts != 1 || !read_source_entries(from, sources, entries, error)) return ended;
  for (const std::vector<SourceEntry>& source : entries) ended.push_back(source[0].ended);
  return ended;
}

// What each state table keeps at `owner`: a keyed operator with `@parallel(P)` owns its keys
// among the first P instances. (The tables' names: EventTimeGraph::build, make_join_operator.)
TableOwnership table_ownership(const JobSpec& spec, const KeyOwnership& owner) {
  TableOwnership out{owner, {}};
  for (std::size_t j = 0; j < spec.windows.size(); ++j)
    if (spec.windows[j].parallelism > 0) out.tables.emplace_back("window-" + std::to_string(j), owner.among(spec.windows[j].parallelism));
  for (std::size_t j = 0; j < spec.joins.size(); ++j)
    if (spec.joins[j].parallelism > 0)
      for (const char* side : {"-left", "-right"})
        out.tables.emplace_back("join-" + std::to_string(j) + side, owner.among(spec.joins[j].parallelism));
  return out;
}

}  // namespace

bool JobCheckpoints::restore_aggregate_part(std::size_t i, const LoadedCheckpoint& from, int part, flow_agg_table& into,
                                            std::string& error) {
  const RowLayout& layout = ctx_.spec->aggregates[i].row_layout;
  std::string prefix = from.prefix(part);
  if (const std::string* own = from.file(prefix + numbered("aggregate", i))) return restore_agg_table(*own, layout, into, error);
  std::vector<const CheckpointFile*> chain = chain_of(from.info, prefix + "aggregate-" + std::to_string(i), error);
  if (chain.empty() && error.empty()) error = "aggregate " + std::to_string(i) + " has no full snapshot";
  if (!error.empty()) return false;
  if (!restore_agg_table(from.files.at(chain[0]->name), layout, into, error)) return false;
  for (std::size_t k = 1; k < chain.size(); ++k)
    if (!apply_agg_changes(from.files.at(chain[k]->name), layout, into, error)) return false;
  return true;
}

// From one part with every key: straight into the table. Otherwise each part into a table of
// its own, whose rows of owned keys are then copied, or merged into the row another part gave
// the same key (two-phase aggregation: each instance held partial rows of any key).
bool JobCheckpoints::restore_aggregate(std::size_t i, const LoadedCheckpoint& from, const std::vector<int>& parts,
                                       const KeyOwnership& owner, std::string& error) {
  flow_agg_table& table = *ctx_.aggregates[i];
  const AggregateSpec& spec = ctx_.spec->aggregates[i];
  if (parts.size() == 1 && owner.owns_all()) return restore_aggregate_part(i, from, parts[0], table, error);
  std::string value;
  for (int part : parts) {
    flow_agg_table rows(spec.row_size);
    if (!restore_aggregate_part(i, from, part, rows, error)) return false;
    bool ok = true;
    rows.for_each_entry([&](std::string_view key, const uint8_t* row) {
      if (!ok || !owner.owns(key)) return;
      if (uint8_t* into = table.find(reinterpret_cast<const uint8_t*>(key.data()), key.size())) {
        if (!spec.merge) {
          ok = false;
          error = "aggregate " + std::to_string(i) + " has a key in two instances' state";
          return;
        }
        spec.merge(&ctx_, &table, into, row);
        return;
      }
      value.clear();
      encode_row_value(row, spec.row_size, spec.row_layout, value);
      ok = decode_row_value(value, spec.row_layout, table, key, error);
    });
    if (!ok) return false;
  }
  return true;
}

bool JobCheckpoints::restore_state_tables(const LoadedCheckpoint& from, const std::vector<int>& parts, const KeyOwnership& owner,
                                          std::string& error) {
  std::vector<std::vector<std::string_view>> chains;
  for (int part : parts) {
    std::vector<std::string_view> chain;
    if (const std::string* own = from.file(from.prefix(part) + "state.full")) {
      chain.push_back(*own);
    } else {
      for (const CheckpointFile* f : chain_of(from.info, from.prefix(part) + "state", error)) chain.push_back(from.files.at(f->name));
      if (!error.empty()) return false;
    }
    if (!chain.empty()) chains.push_back(std::move(chain));
  }
  IncrementalSnapshots* tables = ctx_.state->incremental();
  if (chains.empty()) return true;  // a job without window or join state
  if (!tables) return error = "its window and join state is in heap snapshots: restore it with --state heap", false;
  return tables->restore(chains, table_ownership(*ctx_.spec, owner), error);
}

bool JobCheckpoints::load(LoadedCheckpoint& loaded) {
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
  for (const CheckpointFile& f : chosen->files) {
    if (f.shared && is_database_file(f.name)) continue;  // linked, not read (restore_state_database)
    auto bytes = read_whole(f.shared ? from.root() + "/shared/" + f.name : chosen->path + "/" + f.name);
    if (!bytes) {
      ctx_.failure.record("cannot read checkpoint file " + f.name + " of " + chosen->path);
      return false;
    }
    loaded.files[f.name] = std::move(*bytes);
  }
  loaded.info = std::move(*chosen);
  loaded.root = from.root();
  if (const std::string* parts = loaded.file("parts.state")) {
    ByteReader r(*parts);
    uint32_t n = 0;
    if (!r.number(n) || n < 1 || n > 1024) {
      ctx_.failure.record("cannot restore from " + loaded.info.path + ": damaged parts.state");
      return false;
    }
    loaded.parallel = true;
    loaded.parts = static_cast<int>(n);
    std::vector<std::vector<SourceEntry>> entries;
    std::string ignored;  // (restore_positions reports a damaged file)
    read_source_entries(loaded, ctx_.spec->sources.size(), entries, ignored, &loaded.salted_sets_disjoint,
                        &loaded.operator_parallelism);
  }
  return true;
}

bool JobCheckpoints::refuse_incompatible(const LoadedCheckpoint& from, std::string& error) const {
  auto any = [&](auto&& is) { return std::any_of(from.info.files.begin(), from.info.files.end(), is); };
  const bool has_database = any([](const CheckpointFile& f) { return is_database_file(f.name); });
  if (has_database && !ctx_.options.rocksdb_state) return error = "its state is in RocksDB: restore it with --state rocksdb", false;
  // The heap backend's chain (state.ID.full, state.ID.delta, or a savepoint's state.full).
  const bool heap_tables =
      any([](const CheckpointFile& f) { return std::string_view(f.name).substr(instance_prefix(f.name).size(), 6) == "state."; });
  if (heap_tables && ctx_.options.rocksdb_state)
    return error = "its window and join state is in heap snapshots: restore it with --state heap", false;
  return true;
}

bool JobCheckpoints::restore_operators(const LoadedCheckpoint& from, const KeyOwnership& owner, std::string& error) {
  // At the parallelism it was taken at, instance K takes part K whole; at another (or when a
  // keyed operator's `@parallel` changed), every instance takes the keys it owns from every
  // part (rescaling: state moves by key group).
  std::vector<int> parts;
  KeyOwnership filter = owner;
  if (from.same_layout(owner.instances, operator_parallelism(*ctx_.spec))) {
    parts.push_back(owner.instance);
    filter = KeyOwnership{};
  } else {
    for (int k = 0; k < from.parts; ++k) parts.push_back(k);
  }
  if (!refuse_incompatible(from, error)) return false;
  // The database first: the operators' restores find their rows in it.
  PersistentState* db = ctx_.state->persistent();
  if (db && !restore_state_database(*db, from, parts, filter, error)) return false;
  if (!restore_state_tables(from, parts, filter, error)) return false;
  std::vector<std::string_view> files;
  auto part_files = [&](const std::string& name) {
    files.clear();
    for (int part : parts) {
      const std::string* bytes = from.file(from.prefix(part) + name);
      if (!bytes) return false;
      files.push_back(*bytes);
    }
    return true;
  };
  if (!part_files("time.state")) return error = "it has no watermarks", false;
  if (!ctx_.time.restore_time(files, error)) return false;
  for (std::size_t i = 0; i < ctx_.time.window_count(); ++i) {
    if (!part_files(numbered("window", i))) return error = "it is not of this job (window " + std::to_string(i) + ")", false;
    if (!ctx_.time.window(static_cast<int32_t>(i))->restore(files, filter.among(ctx_.spec->windows[i].parallelism), error))
      return error = "window " + std::to_string(i) + ": " + error, false;
  }
  for (std::size_t i = 0; i < ctx_.time.join_count(); ++i) {
    if (!part_files(numbered("join", i))) return error = "it is not of this job (join " + std::to_string(i) + ")", false;
    if (!ctx_.time.join(static_cast<int32_t>(i))->restore(files, filter.among(ctx_.spec->joins[i].parallelism), error))
      return error = "join " + std::to_string(i) + ": " + error, false;
  }
  // An aggregate fed by one source that a single instance had read to its end has emitted its
  // rows already; parallel instances emit every aggregate at the end of the job, so they leave
  // it empty.
  std::vector<bool> ended = ctx_.exchange ? ended_sources(from, ctx_.spec->sources.size()) : std::vector<bool>{};
  for (std::size_t i = 0; i < ctx_.aggregates.size(); ++i) {
    auto source = static_cast<std::size_t>(ctx_.spec->aggregates[i].source_index);
    if (ctx_.spec->aggregates[i].source_index >= 0 && source < ended.size() && ended[source]) continue;
    if (!restore_aggregate(i, from, parts, filter.among(ctx_.spec->aggregates[i].parallelism), error)) return false;
  }
  return true;
}

bool JobCheckpoints::restore_positions(const LoadedCheckpoint& from, const KeyOwnership& owner, RestoredJob& out,
                                       std::string& error) {
  const JobSpec& spec = *ctx_.spec;
  const std::string* sinks = from.file("sinks.state");
  std::vector<std::vector<SourceEntry>> entries;
  if (!sinks) return error = "it lacks its sources or sinks", false;
  if (!read_source_entries(from, spec.sources.size(), entries, error)) return false;
  out.sources.assign(entries.size(), RestoredJob::Source{});
  const bool same_parallelism = from.parts == owner.instances;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    RestoredJob::Source& s = out.sources[i];
    if (!from.parallel && owner.instances == 1) {  // a single instance's position, resumed as it was
      const SourceEntry& e = entries[i][0];
      s.ended = e.ended;
      s.position = e.position;
      s.skipped = e.skipped;
      s.dead_lettered = e.dead_lettered;
      continue;
    }
    // Ranges: this instance's own at the same parallelism, else all that was left (the driver
    // deals them out); each part's counts to one instance.
    s.in_ranges = true;
    for (std::size_t k = 0; k < entries[i].size(); ++k) {
      const SourceEntry& e = entries[i][k];
      bool mine = !same_parallelism || static_cast<int>(k) == owner.instance;
      if (same_parallelism ? mine : owner.counts(k)) {
        s.skipped += e.skipped;
        s.dead_lettered += e.dead_lettered;
      }
      if (mine) s.ranges.insert(s.ranges.end(), e.ranges.begin(), e.ranges.end());
      // A single instance that read a source to its end emitted its aggregates: at parallelism
      // 1 it stays ended.
      if (from.parts == 1 && owner.instances == 1 && e.ended) {
        s.in_ranges = false;
        s.ended = true;
      }
    }
    std::sort(s.ranges.begin(), s.ranges.end(), [](const ByteRange& a, const ByteRange& b) { return a.begin < b.begin; });
  }
  out.split = owner.instances > 1 && !same_parallelism;
  ByteReader k(*sinks);
  uint64_t n = 0;
  if (!k.number(n) || n != spec.sinks.size()) return error = "it is not of this job (sinks)", false;
  out.sinks.resize(n);
  for (SinkPrecommit& sink : out.sinks) {
    std::string_view pending;
    if (!k.number(sink.committed) || !k.bytes(pending) || !k.number(sink.length) || !k.number(sink.crc))
      return error = "damaged sink pre-commits", false;
    sink.pending = std::string(pending);
  }
  out.restored = true;
  out.id = from.info.id;
  out.parts = from.parts;
  return true;
}

bool JobCheckpoints::restore(RestoredJob& out) {
  LoadedCheckpoint loaded;
  if (!load(loaded)) return false;
  if (loaded.info.id == 0) return true;  // nothing to restore
  std::string error;
  const KeyOwnership single{0, 1};
  if (!restore_operators(loaded, single, error) || !restore_positions(loaded, single, out, error)) {
    ctx_.failure.record("cannot restore from " + loaded.info.path + ": " + error);
    return false;
  }
  next_id_ = store_.next_id();
  std::fprintf(stderr, "note: restored from checkpoint %lld\n", static_cast<long long>(loaded.info.id));
  return true;
}

bool JobCheckpoints::restore_state_database(PersistentState& db, const LoadedCheckpoint& from, const std::vector<int>& parts,
                                            const KeyOwnership& owner, std::string& error) {
  const std::string dir = db.directory() + ".restore";
  if (parts.size() == 1 && owner.owns_all()) {
    if (unpack_database(from, from.prefix(parts[0]) + "rocksdb.", dir, error)) return db.restore(dir, error);
    return error.empty();  // a checkpoint of the heap backend: the operators' snapshots hold the rows
  }
  // Rescaling: each part's database in turn, unpacked, its rows of owned key groups copied,
  // removed. Either every part has one or none does.
  const TableOwnership tables = table_ownership(*ctx_.spec, owner);
  std::size_t with_database = 0;
  for (std::size_t k = 0; k < parts.size(); ++k) {
    if (!unpack_database(from, from.prefix(parts[k]) + "rocksdb.", dir, error)) {
      if (!error.empty()) return false;
      continue;
    }
    bool ok = (with_database > 0 || db.start_rescaled(error)) && db.add_rescaled_part(dir, tables, error);
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    if (!ok) return false;
    if (++with_database != k + 1) break;
  }
  if (with_database == 0) return true;
  if (with_database != parts.size())
    return error = "its state is in the RocksDB databases of some instances only (" + std::to_string(with_database) + " of " +
                   std::to_string(parts.size()) + ")",
           false;
  return db.finish_rescaled(error);
}

bool JobCheckpoints::unpack_database(const LoadedCheckpoint& from, const std::string& prefix, const std::string& dir,
                                     std::string& error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return error = "cannot create " + dir + ": " + ec.message(), false;
  bool any = false;
  for (const CheckpointFile& f : from.info.files) {
    if (f.name.compare(0, prefix.size(), prefix) != 0) continue;
    any = true;
    if (!f.shared) {
      std::string target = dir + "/" + f.name.substr(prefix.size());
      const std::string& bytes = from.files.at(f.name);
      std::FILE* out = std::fopen(target.c_str(), "wb");
      bool written = out && std::fwrite(bytes.data(), 1, bytes.size(), out) == bytes.size();
      if (out && std::fclose(out) != 0) written = false;
      if (!written) {
        fs::remove_all(dir, ec);
        return error = "cannot write " + target, false;
      }
      continue;
    }
    // shared/PREFIX.rocksdb.CRC-SIZE-NAME: linked back under the database's own NAME
    std::size_t first_dash = f.name.find('-', prefix.size());
    std::size_t second_dash = first_dash == std::string::npos ? first_dash : f.name.find('-', first_dash + 1);
    std::string source = from.root + "/shared/" + f.name;
    if (second_dash == std::string::npos) error = "damaged database file name " + f.name;
    std::string target = dir + "/" + f.name.substr(second_dash == std::string::npos ? 0 : second_dash + 1);
    if (error.empty()) {
      fs::create_hard_link(source, target, ec);
      if (ec) fs::copy_file(source, target, ec);
      if (ec) error = "cannot restore " + source + ": " + ec.message();
    }
    if (!error.empty()) {
      fs::remove_all(dir, ec);
      return false;
    }
  }
  if (!any) fs::remove_all(dir, ec);
  return any;
}

}  // namespace flow
