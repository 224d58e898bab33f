// Unit tests of runtime/checkpoint: CRC-32C, and checkpoint storage: a checkpoint counts only
// once committed; damage to any file or to the metadata is found, and the newest usable
// checkpoint is the one restored; retention keeps N and frees shared files nothing names.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "checkpoint/checkpoint_store.h"
#include "checkpoint/crc32c.h"

namespace fs = std::filesystem;

namespace {

// A fresh directory under /tmp, removed at the end of the test.
struct TempDir {
  std::string path;
  TempDir() {
    char pattern[] = "/tmp/flow-checkpoint-test-XXXXXX";
    path = mkdtemp(pattern);
  }
  ~TempDir() { fs::remove_all(path); }
};

void write_checkpoint(const std::string& root, int64_t id, const std::string& window_state,
                      const std::string& shared_name = "", const std::string& shared_bytes = "") {
  flow::CheckpointWriter w(root, id);
  std::string error;
  REQUIRE(w.write_file("window-0.state", window_state, error));
  REQUIRE(w.write_file("sources.positions", "source 0 offset " + std::to_string(id * 100), error));
  if (!shared_name.empty()) REQUIRE(w.write_shared(shared_name, shared_bytes, error));
  REQUIRE(w.commit(error));
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void spit(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

}  // namespace

TEST_CASE("crc32c: the standard check value, and the table and hardware paths agree") {
  CHECK(flow::crc32c("123456789", 9) == 0xE3069283u);
  CHECK(flow::crc32c("", 0) == 0u);
  std::string data(1000, '\0');
  std::mt19937 random(3);
  for (char& c : data) c = static_cast<char>(random());
  // Extending piece by piece (odd lengths exercise the byte-wise tail) equals one pass.
  uint32_t whole = flow::crc32c(data.data(), data.size());
  uint32_t pieces = 0;
  for (std::size_t at = 0; at < data.size(); at += 37)
    pieces = flow::crc32c_extend(pieces, data.data() + at, std::min<std::size_t>(37, data.size() - at));
  CHECK(pieces == whole);
}

TEST_CASE("checkpoints: only committed checkpoints count, newest first, with their files") {
  TempDir dir;
  flow::CheckpointStore store(dir.path);
  CHECK(store.next_id() == 1);
  write_checkpoint(dir.path, 1, "one");
  write_checkpoint(dir.path, 2, "two two", "000001.sst", "shared bytes");
  {
    flow::CheckpointWriter unfinished(dir.path, 3);
    std::string error;
    REQUIRE(unfinished.write_file("window-0.state", "three", error));  // never committed
  }
  CHECK(store.next_id() == 4);
  auto all = store.list(true);
  REQUIRE(all.size() == 3);
  CHECK(all[0].id == 3);
  CHECK_FALSE(all[0].usable());
  CHECK(all[0].problem == "incomplete (no metadata)");
  CHECK(all[1].id == 2);
  CHECK(all[1].usable());
  CHECK(all[1].files.size() == 3);
  CHECK(all[1].own_bytes() == 7 + std::string("source 0 offset 200").size());
  CHECK(all[1].shared_bytes() == 12);
  CHECK(all[1].operators() == std::vector<std::string>{"000001", "sources", "window-0"});
  std::vector<std::string> skipped;
  auto latest = store.latest_usable(skipped);
  REQUIRE(latest);
  CHECK(latest->id == 2);
  CHECK(skipped == std::vector<std::string>{"checkpoint 3 cannot be used: incomplete (no metadata)"});
}

TEST_CASE("checkpoints: a truncated, flipped or missing file, or damaged metadata, is found and skipped") {
  TempDir dir;
  flow::CheckpointStore store(dir.path);
  write_checkpoint(dir.path, 1, "the older state");
  write_checkpoint(dir.path, 2, "the newer state", "000002.sst", "shared");
  std::string newest = dir.path + "/" + flow::checkpoint_dir_name(2);
  std::string state = newest + "/window-0.state";
  std::string original = slurp(state);
  auto problem_of_newest = [&] {
    std::vector<std::string> skipped;
    auto latest = store.latest_usable(skipped);
    REQUIRE(latest);
    CHECK(latest->id == 1);  // the fallback
    REQUIRE(skipped.size() == 1);
    return skipped[0];
  };

  spit(state, original.substr(0, 5));
  CHECK(problem_of_newest() == "checkpoint 2 cannot be used: file window-0.state has 5 bytes, expected 15");
  std::string flipped = original;
  flipped[3] ^= 0x10;
  spit(state, flipped);
  CHECK(problem_of_newest().find("file window-0.state has checksum") != std::string::npos);
  fs::remove(state);
  CHECK(problem_of_newest() == "checkpoint 2 cannot be used: file window-0.state is missing");
  spit(state, original);
  fs::remove(dir.path + "/shared/000002.sst");
  CHECK(problem_of_newest() == "checkpoint 2 cannot be used: file 000002.sst is missing");
  spit(dir.path + "/shared/000002.sst", "shared");
  std::vector<std::string> none;
  CHECK(store.latest_usable(none)->id == 2);  // repaired: usable again

  std::string metadata = slurp(newest + "/_metadata");
  std::string changed = metadata;
  changed[changed.find("15")] = '9';  // a size changed without its checksum
  spit(newest + "/_metadata", changed);
  CHECK(problem_of_newest() == "checkpoint 2 cannot be used: its metadata is damaged (checksum mismatch)");
  spit(newest + "/_metadata", metadata.substr(0, metadata.size() / 2));
  CHECK(problem_of_newest() == "checkpoint 2 cannot be used: its metadata is truncated (no end line)");

  // With every checkpoint damaged there is nothing to restore, and each reason is given.
  fs::remove(dir.path + "/" + flow::checkpoint_dir_name(1) + "/sources.positions");
  std::vector<std::string> skipped;
  CHECK_FALSE(store.latest_usable(skipped));
  CHECK(skipped.size() == 2);
}

TEST_CASE("checkpoints: retention keeps the newest N and the shared files they name") {
  TempDir dir;
  flow::CheckpointStore store(dir.path);
  write_checkpoint(dir.path, 1, "a", "old.sst", "x");
  write_checkpoint(dir.path, 2, "b", "kept.sst", "y");
  {
    // Checkpoint 3 shares kept.sst with checkpoint 2 without writing it again.
    flow::CheckpointWriter w(dir.path, 3);
    std::string error;
    REQUIRE(w.write_file("window-0.state", "c", error));
    auto two = store.inspect(dir.path + "/" + flow::checkpoint_dir_name(2), false);
    for (const auto& f : two.files)
      if (f.shared) w.refer_shared(f);
    REQUIRE(w.commit(error));
  }
  CHECK(store.inspect(dir.path + "/" + flow::checkpoint_dir_name(3), true).usable());
  CHECK(store.retain(2) == 2);  // checkpoint 1 and old.sst
  auto all = store.list(true);
  REQUIRE(all.size() == 2);
  CHECK(all[0].id == 3);
  CHECK(all[1].id == 2);
  CHECK(all[0].usable());
  CHECK(fs::exists(dir.path + "/shared/kept.sst"));
  CHECK_FALSE(fs::exists(dir.path + "/shared/old.sst"));
  CHECK(store.retain(1) == 1);  // checkpoint 2; kept.sst is still named by 3
  CHECK(fs::exists(dir.path + "/shared/kept.sst"));
  std::string report = flow::describe_checkpoints(store);
  CHECK(report.find("checkpoint 3: valid, 2 files, 2 bytes (1 its own, 1 shared); operators: kept, window-0\n") == 0);
}

TEST_CASE("checkpoints: the report of a parallel job's checkpoint names its operators once and its instances") {
  TempDir dir;
  flow::CheckpointStore store(dir.path);
  {
    flow::CheckpointWriter w(dir.path, 1);
    std::string error;
    for (const char* name : {"instance-0.window-0.state", "instance-1.window-0.state", "instance-0.time.state",
                             "instance-1.time.state", "instance-1.rocksdb.MANIFEST-000005", "parts.state", "sinks.state"})
      REQUIRE(w.write_file(name, "x", error));
    REQUIRE(w.write_shared("instance-0.rocksdb.0a0b0c0d-1-000009.sst", "y", error));
    REQUIRE(w.commit(error));
  }
  auto all = store.list(true);
  REQUIRE(all.size() == 1);
  CHECK(all[0].instances() == 2);
  CHECK(all[0].operators() == std::vector<std::string>{"parts", "rocksdb", "sinks", "time", "window-0"});
  CHECK(flow::describe_checkpoints(store) ==
        "checkpoint 1: valid, 8 files, 8 bytes (7 its own, 1 shared); operators: parts, rocksdb, sinks, time, window-0; taken "
        "by 2 parallel instances\n");
}
