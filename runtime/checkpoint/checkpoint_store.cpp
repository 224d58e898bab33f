// Durable checkpoint files and their metadata (checkpoint_store.h).
#include "checkpoint/checkpoint_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "checkpoint/crc32c.h"

namespace flow {
namespace fs = std::filesystem;

namespace {

constexpr const char* kMagic = "flowc-checkpoint";
constexpr int kFormatVersion = 1;
constexpr const char* kMetadata = "_metadata";
constexpr const char* kShared = "shared";

std::string errno_text() { return std::strerror(errno); }

// Writes `bytes` to `path` and fsyncs it.
bool write_durably(const std::string& path, std::string_view bytes, std::string& error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "cannot create " + path + ": " + errno_text();
    return false;
  }
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = "cannot write " + path + ": " + errno_text();
      ::close(fd);
      return false;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  bool ok = ::fsync(fd) == 0;
  if (!ok) error = "cannot fsync " + path + ": " + errno_text();
  if (::close(fd) != 0 && ok) {
    error = "cannot close " + path + ": " + errno_text();
    ok = false;
  }
  return ok;
}

bool make_directory(const std::string& path, std::string& error) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) {
    error = "cannot create directory " + path + ": " + ec.message();
    return false;
  }
  return true;
}

std::optional<std::string> read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string hex32(uint32_t v) {
  char text[9];
  std::snprintf(text, sizeof text, "%08x", v);
  return text;
}

// The id in a directory name "chk-00000007", or -1.
int64_t id_of(const std::string& name) {
  if (name.size() <= 4 || name.compare(0, 4, "chk-") != 0) return -1;
  int64_t id = 0;
  for (std::size_t i = 4; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9' || id > INT64_MAX / 10) return -1;
    id = id * 10 + (name[i] - '0');
  }
  return id;
}

std::string file_path(const CheckpointStore& store, const CheckpointInfo& info, const CheckpointFile& f) {
  return f.shared ? store.root() + "/" + kShared + "/" + f.name : info.path + "/" + f.name;
}

// A file name that stays inside its directory.
bool plain_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\n') == std::string::npos && name.find(' ') == std::string::npos && name != kMetadata;
}

// Parses metadata text into `info`; false with info.problem set when it is not valid.
bool parse_metadata(const std::string& text, CheckpointInfo& info) {
  std::size_t last = text.rfind("\nend ");
  if (last == std::string::npos) {
    info.problem = "its metadata is truncated (no end line)";
    return false;
  }
  std::string body = text.substr(0, last + 1);
  std::string end_line = text.substr(last + 1);
  if (end_line != "end " + hex32(crc32c(body.data(), body.size())) + "\n") {
    info.problem = "its metadata is damaged (checksum mismatch)";
    return false;
  }
  std::istringstream in(body);
  std::string magic;
  int version = 0;
  in >> magic >> version;
  if (magic != kMagic) {
    info.problem = "its metadata is not a flowc checkpoint's";
    return false;
  }
  if (version != kFormatVersion) {
    info.problem = "its metadata has format version " + std::to_string(version) + ", this flowc reads " +
                   std::to_string(kFormatVersion);
    return false;
  }
  std::string word;
  while (in >> word) {
    if (word == "id") {
      int64_t id = -1;
      in >> id;
      if (id != info.id) {
        info.problem = "its metadata names checkpoint " + std::to_string(id);
        return false;
      }
    } else if (word == "kind") {
      std::string kind;
      in >> kind;
      info.savepoint = kind == "savepoint";
    } else if (word == "file" || word == "shared") {
      CheckpointFile f;
      std::string crc;
      in >> f.name >> f.size >> crc;
      f.shared = word == "shared";
      f.crc = static_cast<uint32_t>(std::strtoul(crc.c_str(), nullptr, 16));
      if (!in || !plain_name(f.name)) {
        info.problem = "its metadata has a bad file entry";
        return false;
      }
      info.files.push_back(f);
    } else {
      info.problem = "its metadata has an unknown entry `" + word + "`";
      return false;
    }
  }
  return true;
}

}  // namespace

bool fsync_directory(const std::string& path, std::string& error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    error = "cannot fsync directory " + path + ": " + std::string(std::strerror(errno));
    if (fd >= 0) ::close(fd);
    return false;
  }
  ::close(fd);
  return true;
}

std::string checkpoint_dir_name(int64_t id) {
  char text[32];
  std::snprintf(text, sizeof text, "chk-%08lld", static_cast<long long>(id));
  return text;
}

uint64_t CheckpointInfo::own_bytes() const {
  uint64_t n = 0;
  for (const auto& f : files) n += f.shared ? 0 : f.size;
  return n;
}

uint64_t CheckpointInfo::shared_bytes() const {
  uint64_t n = 0;
  for (const auto& f : files) n += f.shared ? f.size : 0;
  return n;
}

std::string_view instance_prefix(std::string_view file_name) {
  constexpr std::string_view kInstance = "instance-";
  if (file_name.substr(0, kInstance.size()) != kInstance) return {};
  std::size_t dot = file_name.find('.', kInstance.size());
  if (dot == std::string_view::npos || dot == kInstance.size()) return {};
  for (std::size_t i = kInstance.size(); i < dot; ++i)
    if (file_name[i] < '0' || file_name[i] > '9') return {};
  return file_name.substr(0, dot + 1);
}

std::vector<std::string> CheckpointInfo::operators() const {
  std::set<std::string> names;
  for (const auto& f : files) {
    std::string_view name = std::string_view(f.name).substr(instance_prefix(f.name).size());
    names.insert(std::string(name.substr(0, name.find('.'))));
  }
  return {names.begin(), names.end()};
}

int CheckpointInfo::instances() const {
  std::set<std::string_view> prefixes;
  for (const auto& f : files)
    if (std::string_view prefix = instance_prefix(f.name); !prefix.empty()) prefixes.insert(prefix);
  return prefixes.empty() ? 1 : static_cast<int>(prefixes.size());
}

// ------------------------------------------------------------------ writer

CheckpointWriter::CheckpointWriter(std::string root, int64_t id, bool savepoint)
    : root_(std::move(root)), path_(root_ + "/" + checkpoint_dir_name(id)), id_(id), savepoint_(savepoint) {}

bool CheckpointWriter::write_file(const std::string& name, std::string_view bytes, std::string& error) {
  if (!plain_name(name)) {
    error = "bad checkpoint file name `" + name + "`";
    return false;
  }
  if (!make_directory(path_, error) || !write_durably(path_ + "/" + name, bytes, error)) return false;
  files_.push_back(CheckpointFile{name, false, bytes.size(), crc32c(bytes.data(), bytes.size())});
  return true;
}

bool CheckpointWriter::write_shared(const std::string& name, std::string_view bytes, std::string& error) {
  if (!plain_name(name)) {
    error = "bad checkpoint file name `" + name + "`";
    return false;
  }
  std::string dir = root_ + "/" + kShared;
  std::string path = dir + "/" + name;
  if (!fs::exists(path)) {
    // Written under a temporary name first, so a crash never leaves a partial shared file
    // under a name a later checkpoint would trust.
    if (!make_directory(dir, error) || !write_durably(path + ".tmp", bytes, error)) return false;
    if (std::rename((path + ".tmp").c_str(), path.c_str()) != 0) {
      error = "cannot rename " + path + ".tmp: " + errno_text();
      return false;
    }
    if (!fsync_directory(dir, error)) return false;
  }
  files_.push_back(CheckpointFile{name, true, bytes.size(), crc32c(bytes.data(), bytes.size())});
  return true;
}

bool CheckpointWriter::link_shared(const std::string& name, const std::string& source, uint64_t size, uint32_t crc,
                                   std::string& error) {
  std::string dir = root_ + "/" + kShared;
  std::string path = dir + "/" + name;
  if (!plain_name(name)) return error = "bad checkpoint file name `" + name + "`", false;
  if (!fs::exists(path)) {
    if (!make_directory(dir, error)) return false;
    if (::link(source.c_str(), path.c_str()) != 0) {  // another file system: a copy
      std::optional<std::string> bytes = read_whole(source);
      if (!bytes) return error = "cannot read " + source + ": " + errno_text(), false;
      return write_shared(name, *bytes, error);
    }
    if (!fsync_directory(dir, error)) return false;
  }
  files_.push_back(CheckpointFile{name, true, size, crc});
  return true;
}

void CheckpointWriter::refer_shared(const CheckpointFile& file) {
  CheckpointFile f = file;
  f.shared = true;
  files_.push_back(f);
}

bool CheckpointWriter::commit(std::string& error) {
  if (!make_directory(path_, error)) return false;
  std::string body = std::string(kMagic) + " " + std::to_string(kFormatVersion) + "\n";
  body += "id " + std::to_string(id_) + "\n";
  body += std::string("kind ") + (savepoint_ ? "savepoint" : "checkpoint") + "\n";
  for (const auto& f : files_)
    body += std::string(f.shared ? "shared " : "file ") + f.name + " " + std::to_string(f.size) + " " + hex32(f.crc) + "\n";
  std::string text = body + "end " + hex32(crc32c(body.data(), body.size())) + "\n";
  std::string temporary = path_ + "/" + kMetadata + ".tmp";
  if (!fsync_directory(path_, error) || !write_durably(temporary, text, error)) return false;
  if (std::rename(temporary.c_str(), (path_ + "/" + kMetadata).c_str()) != 0) {
    error = "cannot rename " + temporary + ": " + errno_text();
    return false;
  }
  return fsync_directory(path_, error) && fsync_directory(root_, error);
}

// ------------------------------------------------------------------ store

CheckpointInfo CheckpointStore::inspect(const std::string& path, bool verify) const {
  CheckpointInfo info;
  info.path = path;
  info.id = id_of(fs::path(path).filename().string());
  auto metadata = read_whole(path + "/" + kMetadata);
  if (!metadata) {
    info.problem = "incomplete (no metadata)";
    return info;
  }
  info.complete = true;
  if (!parse_metadata(*metadata, info) || !verify) return info;
  for (const auto& f : info.files) {
    std::string where = file_path(*this, info, f);
    auto bytes = read_whole(where);
    if (!bytes) {
      info.problem = "file " + f.name + " is missing";
      return info;
    }
    if (bytes->size() != f.size) {
      info.problem = "file " + f.name + " has " + std::to_string(bytes->size()) + " bytes, expected " + std::to_string(f.size);
      return info;
    }
    uint32_t crc = crc32c(bytes->data(), bytes->size());
    if (crc != f.crc) {
      info.problem = "file " + f.name + " has checksum " + hex32(crc) + ", expected " + hex32(f.crc);
      return info;
    }
  }
  return info;
}

std::vector<CheckpointInfo> CheckpointStore::list(bool verify) const {
  std::vector<std::pair<int64_t, std::string>> dirs;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_, ec)) {
    if (!entry.is_directory()) continue;
    int64_t id = id_of(entry.path().filename().string());
    if (id >= 0) dirs.emplace_back(id, entry.path().string());
  }
  std::sort(dirs.begin(), dirs.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<CheckpointInfo> out;
  for (const auto& [id, path] : dirs) out.push_back(inspect(path, verify));
  return out;
}

std::optional<CheckpointInfo> CheckpointStore::latest_usable(std::vector<std::string>& skipped) const {
  for (CheckpointInfo& info : list(true)) {
    if (info.usable()) return info;
    skipped.push_back("checkpoint " + std::to_string(info.id) + " cannot be used: " + info.problem);
  }
  return std::nullopt;
}

int64_t CheckpointStore::next_id() const {
  int64_t next = 1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_, ec))
    next = std::max(next, id_of(entry.path().filename().string()) + 1);
  return next;
}

int CheckpointStore::retain(int retained) const {
  std::vector<CheckpointInfo> all = list(false);
  int kept = 0;
  bool seen_complete = false;
  int deleted = 0;
  std::set<std::string> shared_in_use;
  for (const CheckpointInfo& info : all) {
    bool keep;
    if (info.savepoint && info.complete) keep = true;
    else if (info.complete && info.problem.empty()) keep = kept++ < retained;
    else keep = !seen_complete;  // an incomplete checkpoint newer than every complete one may still be being written
    seen_complete = seen_complete || (info.complete && info.problem.empty());
    if (keep) {
      for (const auto& f : info.files)
        if (f.shared) shared_in_use.insert(f.name);
      continue;
    }
    std::error_code ec;
    fs::remove_all(info.path, ec);
    if (!ec) ++deleted;
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_ + "/" + kShared, ec)) {
    std::string name = entry.path().filename().string();
    if (shared_in_use.count(name)) continue;
    std::error_code remove_error;
    if (fs::remove(entry.path(), remove_error)) ++deleted;
  }
  return deleted;
}

std::string describe_checkpoints(const CheckpointStore& store) {
  std::vector<CheckpointInfo> all = store.list(true);
  if (all.empty()) return "no checkpoints in " + store.root() + "\n";
  std::string out;
  for (const CheckpointInfo& info : all) {
    out += (info.savepoint ? "savepoint " : "checkpoint ") + std::to_string(info.id) + ": ";
    if (!info.usable()) {
      out += "NOT USABLE: " + info.problem + "\n";
      continue;
    }
    std::string operators;
    for (const auto& name : info.operators()) operators += (operators.empty() ? "" : ", ") + name;
    out += "valid, " + std::to_string(info.files.size()) + " file" + (info.files.size() == 1 ? "" : "s") + ", " +
           std::to_string(info.own_bytes() + info.shared_bytes()) + " bytes (" + std::to_string(info.own_bytes()) +
           " its own, " + std::to_string(info.shared_bytes()) + " shared); operators: " +
           (operators.empty() ? "none" : operators) +
           (info.instances() > 1 ? "; taken by " + std::to_string(info.instances()) + " parallel instances" : "") + "\n";
  }
  return out;
}

CheckpointDirectoryLock::~CheckpointDirectoryLock() {
  if (fd_ >= 0) ::close(fd_);
}

bool CheckpointDirectoryLock::acquire(const std::string& dir, std::string& error) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return error = "cannot create checkpoint directory `" + dir + "`: " + ec.message(), false;
  std::string path = dir + "/.flowc-lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) return error = "cannot open `" + path + "`: " + std::strerror(errno), false;
  if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return true;
  error = errno == EWOULDBLOCK ? "checkpoint directory `" + dir + "` is in use by another running job; give each job its own --checkpoint-dir"
                               : "cannot lock `" + path + "`: " + std::strerror(errno);
  ::close(fd_);
  fd_ = -1;
  return false;
}

}  // namespace flow
