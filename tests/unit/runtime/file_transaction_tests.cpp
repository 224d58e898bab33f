// Unit tests of io/file_transaction.h, the two-phase commit of a file sink: the file at the
// sink's path changes only at a commit; a commit appends exactly the pre-committed bytes;
// a recovery commits the last pre-commit again whether or not it had been committed, drops
// anything staged after it, and refuses a file that lost committed output or a damaged
// pre-commit. A commit replaces the file in one step (a new file by rename), built from the
// shadow that holds the output of the commit before.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "io/file_transaction.h"
#include "test_support.h"

namespace {

using flow::FileTransaction;
using flow::OutputBuffer;
using flow::SinkPrecommit;
using flow_test::read_file;

std::size_t staged_files(const flow_test::TempDir& dir) {
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.file("")))
    if (entry.path().filename().string().rfind(".out.csv.flowc-", 0) == 0) ++n;
  return n;
}

}  // namespace

TEST_CASE("file transaction: the file changes only when a checkpoint commits") {
  flow_test::TempDir dir;
  std::string path = dir.file("out.csv");
  dir.write("out.csv", "left over from an earlier run\n");
  FileTransaction transaction(path);
  OutputBuffer out;
  std::string error;
  REQUIRE(transaction.begin(out, error));
  CHECK(read_file(path) == "");  // a fresh run starts empty
  out.append("a,b\n1,2\n");
  REQUIRE(out.flush());
  CHECK(read_file(path) == "");  // staged only

  SinkPrecommit first;
  REQUIRE(transaction.precommit(out, "chk-1", first, error));
  CHECK(first.committed == 0);
  CHECK(first.length == 8);
  CHECK(first.pending == "pending-chk-1");
  out.append("3,4\n");
  CHECK(read_file(path) == "");  // pre-committed, not committed
  REQUIRE(transaction.commit(first, error));
  CHECK(read_file(path) == "a,b\n1,2\n");
  CHECK(transaction.committed() == 8);

  SinkPrecommit second;
  REQUIRE(transaction.precommit(out, "chk-2", second, error));
  CHECK(second.committed == 8);
  REQUIRE(transaction.commit(second, error));
  CHECK(read_file(path) == "a,b\n1,2\n3,4\n");

  SinkPrecommit empty;  // nothing staged since: nothing to commit
  REQUIRE(transaction.precommit(out, "chk-3", empty, error));
  CHECK(empty.pending.empty());
  CHECK(empty.committed == 12);
  REQUIRE(transaction.commit(empty, error));
  out.append("5,6\n");
  REQUIRE(transaction.finish(out, error));
  CHECK(read_file(path) == "a,b\n1,2\n3,4\n5,6\n");
  CHECK(staged_files(dir) == 0);
}

TEST_CASE("file transaction: recovery commits the last pre-commit again and drops what came later") {
  flow_test::TempDir dir;
  std::string path = dir.file("out.csv");
  SinkPrecommit last;
  {
    FileTransaction transaction(path);
    OutputBuffer out;
    std::string error;
    REQUIRE(transaction.begin(out, error));
    out.append("h\n1\n");
    SinkPrecommit first;
    REQUIRE(transaction.precommit(out, "chk-1", first, error));
    REQUIRE(transaction.commit(first, error));
    out.append("2\n3\n");
    REQUIRE(transaction.precommit(out, "chk-2", last, error));
    out.append("4\n");  // staged after the checkpoint: a crash loses it
    REQUIRE(out.flush());
  }  // crashed before committing checkpoint 2
  CHECK(read_file(path) == "h\n1\n");

  SUBCASE("not committed before the crash") {
    FileTransaction again(path);
    std::string error;
    REQUIRE(again.recover(last, error));
    CHECK(read_file(path) == "h\n1\n2\n3\n");
    CHECK(again.committed() == 8);
    CHECK(staged_files(dir) == 1);  // the shadow, a copy of what the file holds
    CHECK(read_file(dir.file(".out.csv.flowc-shadow")) == "h\n1\n2\n3\n");
    // Recovering twice (a crash during recovery) gives the same file.
    FileTransaction third(path);
    REQUIRE(third.recover(last, error));
    CHECK(read_file(path) == "h\n1\n2\n3\n");
  }
  SUBCASE("partly committed before the crash") {
    dir.write("out.csv", "h\n1\n2\n3");  // a commit cut short
    FileTransaction again(path);
    std::string error;
    REQUIRE(again.recover(last, error));
    CHECK(read_file(path) == "h\n1\n2\n3\n");
  }
  SUBCASE("committed and beyond: a later commit is cut away") {
    dir.write("out.csv", "h\n1\n2\n3\n4\n");
    std::filesystem::remove(dir.file(".out.csv.flowc-pending-chk-2"));
    FileTransaction again(path);
    std::string error;
    REQUIRE(again.recover(last, error));
    CHECK(read_file(path) == "h\n1\n2\n3\n");
  }
  SUBCASE("a damaged pre-commit is refused and the file keeps its committed part") {
    dir.write(".out.csv.flowc-pending-chk-2", "2\nX\n");
    FileTransaction again(path);
    std::string error;
    CHECK_FALSE(again.recover(last, error));
    CHECK(error == "its pre-committed output is damaged (checksum differs)");
    CHECK(read_file(path) == "h\n1\n");
  }
  SUBCASE("a file that lost committed output is refused") {
    dir.write("out.csv", "h\n");
    FileTransaction again(path);
    std::string error;
    CHECK_FALSE(again.recover(last, error));
    CHECK(error == "it has 2 bytes, fewer than the 4 the checkpoint counted: it was changed since");
  }
  SUBCASE("a deleted file is refused") {
    std::filesystem::remove(path);
    FileTransaction again(path);
    std::string error;
    CHECK_FALSE(again.recover(last, error));
    CHECK(error == "it is gone, yet the checkpoint counted 8 bytes of it");
  }
}

TEST_CASE("file transaction: a pre-commit set aside in the pause is made durable later, then commits the same bytes") {
  flow_test::TempDir dir;
  std::string path = dir.file("out.csv");
  FileTransaction transaction(path);
  OutputBuffer out;
  std::string error;
  REQUIRE(transaction.begin(out, error));
  out.append("a\n1\n");
  SinkPrecommit pending;
  REQUIRE(transaction.precommit(out, "chk-1", pending, error, false));
  CHECK(pending.length == 4);
  out.append("2\n");  // the job goes on writing into the new staging file meanwhile
  REQUIRE(out.flush());
  REQUIRE(transaction.make_durable(pending, error));
  CHECK(read_file(path) == "");
  REQUIRE(transaction.commit(pending, error));
  CHECK(read_file(path) == "a\n1\n");
  REQUIRE(transaction.finish(out, error));
  CHECK(read_file(path) == "a\n1\n2\n");
  CHECK(staged_files(dir) == 0);

  SinkPrecommit gone{0, "pending-chk-9", 4, 0};  // its file was never written
  CHECK_FALSE(transaction.make_durable(gone, error));
  CHECK(error.find("cannot pre-commit: ") == 0);
}

TEST_CASE("file transaction: a commit replaces the file in one step, and the old file becomes the shadow") {
  flow_test::TempDir dir;
  std::string path = dir.file("out.csv");
  FileTransaction transaction(path);
  OutputBuffer out;
  std::string error;
  REQUIRE(transaction.begin(out, error));
  std::string shadow = dir.file(".out.csv.flowc-shadow");
  out.append("h\n1\n");
  SinkPrecommit first, second, third;
  REQUIRE(transaction.precommit(out, "chk-1", first, error));
  REQUIRE(transaction.commit(first, error));
  auto links = [](const std::string& p) { return std::filesystem::status(p).type() == std::filesystem::file_type::regular ? std::filesystem::hard_link_count(p) : 0; };
  CHECK(links(path) == 1);  // the replaced file went on to be the shadow, under its own name only
  CHECK(read_file(shadow) == "");  // the output before that commit
  out.append("2\n");
  REQUIRE(transaction.precommit(out, "chk-2", second, error));
  REQUIRE(transaction.commit(second, error));
  CHECK(read_file(path) == "h\n1\n2\n");
  CHECK(read_file(shadow) == "h\n1\n");
  CHECK_FALSE(std::filesystem::exists(dir.file(".out.csv.flowc-pending-chk-1")));  // both files have it
  CHECK(std::filesystem::exists(dir.file(".out.csv.flowc-pending-chk-2")));       // the shadow lacks it

  // A kill in the middle of the next commit leaves a shadow half written and the file whole;
  // the restore puts things right.
  out.append("3\n");
  REQUIRE(transaction.precommit(out, "chk-3", third, error));
  dir.write(".out.csv.flowc-shadow", "h\n1\n2\n3");
  CHECK(read_file(path) == "h\n1\n2\n");
  FileTransaction again(path);
  REQUIRE(again.recover(third, error));
  CHECK(read_file(path) == "h\n1\n2\n3\n");
  CHECK(read_file(shadow) == "h\n1\n2\n3\n");
}
