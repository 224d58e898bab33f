// FileTransaction: staging, pre-commit and commit of a file sink's output.
#include "io/file_transaction.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "checkpoint/checkpoint_store.h"
#include "checkpoint/crc32c.h"

namespace flow {

namespace {

std::string errno_text() { return std::strerror(errno); }

// Closes a descriptor when it goes out of scope.
struct Descriptor {
  int fd;
  ~Descriptor() {
    if (fd >= 0) ::close(fd);
  }
};

// Copies the first `length` bytes of `from` into `to` at `offset`, in chunks; `crc`, when
// given, receives their CRC-32C. False, with `error`, when reading or writing fails (`ends_early`
// when `from` is shorter).
bool copy_bytes(int from, int to, uint64_t offset, uint64_t length, uint32_t* crc, const char* ends_early, std::string& error) {
  constexpr std::size_t kChunk = 1 << 20;
  std::unique_ptr<char[]> chunk(new char[kChunk]);
  uint32_t seen = 0;
  for (uint64_t done = 0; done < length;) {
    ssize_t n = ::pread(from, chunk.get(), std::min<uint64_t>(kChunk, length - done), static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return error = n < 0 ? errno_text() : ends_early, false;
    if (crc) seen = crc32c_extend(seen, chunk.get(), static_cast<std::size_t>(n));
    for (ssize_t put = 0; put < n;) {
      ssize_t w = ::pwrite(to, chunk.get() + put, static_cast<std::size_t>(n - put), static_cast<off_t>(offset + done + put));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return error = errno_text(), false;
      put += w;
    }
    done += static_cast<uint64_t>(n);
  }
  if (crc) *crc = seen;
  return true;
}

// A pre-commit's `length` bytes from `from` into `to` at `offset`, checked against `crc`.
bool copy_checked(int from, int to, uint64_t offset, uint64_t length, uint32_t crc, std::string& error) {
  uint32_t seen = 0;
  if (!copy_bytes(from, to, offset, length, &seen, "its pre-committed output ends early", error)) return false;
  if (seen != crc) return error = "its pre-committed output is damaged (checksum differs)", false;
  return true;
}

}  // namespace

FileTransaction::FileTransaction(std::string path) : path_(std::move(path)) {
  std::size_t slash = path_.rfind('/');
  directory_ = slash == std::string::npos ? "." : slash == 0 ? "/" : path_.substr(0, slash);
  name_ = slash == std::string::npos ? path_ : path_.substr(slash + 1);
}

std::string FileTransaction::beside(const std::string& suffix) const { return directory_ + "/." + name_ + ".flowc-" + suffix; }

bool FileTransaction::remove_staged(std::string& error) const {
  namespace fs = std::filesystem;
  std::string prefix = "." + name_ + ".flowc-";
  std::error_code ec;
  for (fs::directory_iterator it(directory_, ec), end; !ec && it != end; it.increment(ec)) {
    std::string entry = it->path().filename().string();
    if (entry.compare(0, prefix.size(), prefix) == 0 && !fs::remove(it->path(), ec)) break;
  }
  if (ec) return error = "cannot remove what an earlier run staged beside it: " + ec.message(), false;
  return true;
}

bool FileTransaction::begin(OutputBuffer& out, std::string& error) {
  Descriptor file{::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
  if (file.fd < 0 || ::fsync(file.fd) != 0) return error = errno_text(), false;
  committed_ = 0;
  return remove_staged(error) && copy_into_shadow(0, error) && stage(out, error);
}

bool FileTransaction::copy_into_shadow(uint64_t length, std::string& error) {
  shadow_lacks_ = SinkPrecommit{};
  Descriptor file{::open(path_.c_str(), O_RDONLY | O_CLOEXEC)};
  Descriptor shadow{::open(beside("shadow").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
  if (file.fd < 0 || shadow.fd < 0) return error = "cannot make its shadow file: " + errno_text(), false;
  if (!copy_bytes(file.fd, shadow.fd, 0, length, nullptr, "the file ends early", error))
    return error = "cannot make its shadow file: " + error, false;
  if (::fsync(shadow.fd) != 0) return error = "cannot make its shadow file: " + errno_text(), false;
  return true;
}

bool FileTransaction::replace_file(const SinkPrecommit& next, std::string& error) {
  std::string shadow_path = beside("shadow"), replaced = beside("replaced");
  Descriptor shadow{::open(shadow_path.c_str(), O_WRONLY | O_CLOEXEC)};
  if (shadow.fd < 0) return error = "cannot open its shadow file: " + errno_text(), false;
  for (const SinkPrecommit* p : {static_cast<const SinkPrecommit*>(&shadow_lacks_), &next}) {
    if (p->pending.empty()) continue;
    Descriptor from{::open(beside(p->pending).c_str(), O_RDONLY | O_CLOEXEC)};
    if (from.fd < 0) return error = "cannot read its pre-commit " + p->pending + ": " + errno_text(), false;
    if (!copy_checked(from.fd, shadow.fd, p->committed, p->length, p->crc, error)) return false;
  }
  uint64_t end = next.committed + next.length;
  if (::ftruncate(shadow.fd, static_cast<off_t>(end)) != 0 || ::fsync(shadow.fd) != 0) return error = errno_text(), false;
  // The file as it is becomes the next shadow; the complete one takes its name in one step.
  ::unlink(replaced.c_str());
  if (::link(path_.c_str(), replaced.c_str()) != 0) return error = "cannot keep the file as a shadow: " + errno_text(), false;
  if (::rename(shadow_path.c_str(), path_.c_str()) != 0 || ::rename(replaced.c_str(), shadow_path.c_str()) != 0)
    return error = "cannot replace the file: " + errno_text(), false;
  return fsync_directory(directory_, error);
}

bool FileTransaction::recover(const SinkPrecommit& last, std::string& error) {
  uint64_t end = last.committed + last.length;
  Descriptor file{::open(path_.c_str(), O_WRONLY | O_CLOEXEC | (end == 0 ? O_CREAT : 0), 0644)};
  if (file.fd < 0) {
    if (errno == ENOENT) return error = "it is gone, yet the checkpoint counted " + std::to_string(end) + " bytes of it", false;
    return error = errno_text(), false;
  }
  struct stat st;
  if (::fstat(file.fd, &st) != 0) return error = errno_text(), false;
  uint64_t size = static_cast<uint64_t>(st.st_size);
  bool has_pending = !last.pending.empty() && ::access(beside(last.pending).c_str(), F_OK) == 0;
  // Without its pre-commit file the commit had happened: the file holds those bytes already.
  uint64_t needed = has_pending ? last.committed : end;
  if (size < needed)
    return error = "it has " + std::to_string(size) + " bytes, fewer than the " + std::to_string(needed) +
                   " the checkpoint counted: it was changed since",
           false;
  if (size < end) {
    // The commit had not happened: the file is replaced with its committed part and the pre-commit.
    if (!copy_into_shadow(last.committed, error) || !replace_file(last, error)) return false;
  } else if (size > end) {  // output of a later checkpoint that is not used: cut off in one step
    if (::ftruncate(file.fd, static_cast<off_t>(end)) != 0 || ::fsync(file.fd) != 0) return error = errno_text(), false;
  }
  committed_ = end;
  return remove_staged(error) && copy_into_shadow(end, error);
}

bool FileTransaction::stage(OutputBuffer& out, std::string& error) {
  out.track_checksum();
  return out.open_file(beside("staging"), error);
}

bool FileTransaction::precommit(OutputBuffer& out, const std::string& tag, SinkPrecommit& pending, std::string& error,
                                bool durable_now) {
  if (!(durable_now ? out.sync() : out.flush())) return error = out.error(), false;
  pending = SinkPrecommit{committed_, "", out.bytes_written(), out.checksum()};
  if (pending.length == 0) return true;  // nothing staged: the staging file goes on
  pending.pending = "pending-" + tag;
  if (::rename(beside("staging").c_str(), beside(pending.pending).c_str()) != 0)
    return error = "cannot pre-commit: " + errno_text(), false;
  return (!durable_now || fsync_directory(directory_, error)) && stage(out, error);
}

bool FileTransaction::make_durable(const SinkPrecommit& pending, std::string& error) const {
  if (pending.pending.empty()) return true;
  Descriptor file{::open(beside(pending.pending).c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0 || ::fsync(file.fd) != 0) return error = "cannot pre-commit: " + errno_text(), false;
  return fsync_directory(directory_, error);
}

bool FileTransaction::commit(const SinkPrecommit& pending, std::string& error) {
  if (pending.pending.empty()) return true;
  if (!replace_file(pending, error)) return false;
  committed_ = pending.committed + pending.length;
  // Both files have the one before now; the shadow lacks this one until the next commit.
  if (!shadow_lacks_.pending.empty()) ::unlink(beside(shadow_lacks_.pending).c_str());
  shadow_lacks_ = pending;
  return true;
}

bool FileTransaction::finish(OutputBuffer& out, std::string& error) {
  SinkPrecommit last;
  if (!precommit(out, "final", last, error) || !commit(last, error)) return false;
  if (!out.close()) return error = out.error(), false;
  return remove_staged(error);
}

}  // namespace flow
