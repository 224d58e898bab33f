// MetricsServer: GET requests on a loopback socket, answered from the latest reading. A few
// dozen lines of POSIX sockets rather than a library: Debian's cpp-httplib is a shared library
// built with OpenSSL and brotli, which every built job executable would then have to load.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "metrics/metrics.h"

namespace flow {

namespace {

// Reads the request head (up to its blank line), waiting at most a second for it.
std::string read_request_head(int connection) {
  std::string head;
  char chunk[1024];
  while (head.size() < 8192 && head.find("\r\n\r\n") == std::string::npos) {
    pollfd ready{connection, POLLIN, 0};
    if (::poll(&ready, 1, 1000) <= 0) break;
    ssize_t n = ::recv(connection, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    head.append(chunk, static_cast<std::size_t>(n));
  }
  return head;
}

void send_all(int connection, const std::string& bytes) {
  for (std::size_t sent = 0; sent < bytes.size();) {
    ssize_t n = ::send(connection, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the client went away
    sent += static_cast<std::size_t>(n);
  }
}

std::string response(const char* status, const char* type, const std::string& body) {
  return std::string("HTTP/1.1 ") + status + "\r\nContent-Type: " + type + "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace

bool MetricsServer::start(int port, std::string& error) {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener_ < 0) return error = std::string("cannot open a socket: ") + std::strerror(errno), false;
  int yes = 1;
  ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t length = sizeof address;
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener_, 16) != 0 ||
      ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    error = "cannot listen on port " + std::to_string(port) + ": " + std::strerror(errno);
    ::close(listener_);
    listener_ = -1;
    return false;
  }
  port_ = ntohs(address.sin_port);
  stopping_ = false;
  thread_ = std::thread([this] { serve(); });
  return true;
}

void MetricsServer::publish(const MetricsReading& reading) {
  std::string json = metrics_json(reading), prometheus = metrics_prometheus(reading);
  std::lock_guard<std::mutex> lock(mutex_);
  json_.swap(json);
  prometheus_.swap(prometheus);
  published_ = std::chrono::steady_clock::now();
}

void MetricsServer::publish_instance(int instance, int instances, MetricsReading reading) {
  std::lock_guard<std::mutex> lock(instances_mutex_);
  size_instances(instances);
  instance_readings_[static_cast<std::size_t>(instance)] = std::move(reading);
  instance_published_[static_cast<std::size_t>(instance)] = true;
  publish_merged(instances);
}

void MetricsServer::publish_shares(int instance, int instances, const TimeShares& shares) {
  std::lock_guard<std::mutex> lock(instances_mutex_);
  size_instances(instances);
  instance_shares_[static_cast<std::size_t>(instance)] = shares;
  publish_merged(instances);
}

void MetricsServer::size_instances(int instances) {
  auto n = static_cast<std::size_t>(instances);
  if (instance_readings_.size() == n) return;
  instance_readings_.assign(n, MetricsReading{});
  instance_published_.assign(n, false);
  instance_shares_.assign(n, TimeShares{});
}

void MetricsServer::publish_merged(int /*instances*/) {
  for (bool published : instance_published_)
    if (!published) return;
  publish(merge_readings(instance_readings_, instance_shares_));
}

void MetricsServer::stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  thread_.join();
  ::close(listener_);
  listener_ = -1;
}

void MetricsServer::serve() {
  while (!stopping_) {
    pollfd ready{listener_, POLLIN, 0};
    if (::poll(&ready, 1, 100) <= 0) continue;  // wakes up to notice stop()
    int connection = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (connection < 0) continue;
    answer(connection);
    ::close(connection);
  }
}

void MetricsServer::answer(int connection) {
  std::string head = read_request_head(connection);
  std::size_t line_end = head.find("\r\n");
  std::string line = head.substr(0, line_end == std::string::npos ? head.size() : line_end);
  // "GET /path HTTP/1.1", the query string ignored
  std::string path;
  if (line.compare(0, 4, "GET ") == 0) {
    std::size_t end = line.find(' ', 4);
    path = line.substr(4, end == std::string::npos ? std::string::npos : end - 4);
    path = path.substr(0, path.find('?'));
  }
  std::string reply;
  if (line.compare(0, 4, "GET ") != 0) {
    reply = response("405 Method Not Allowed", "text/plain", "only GET\n");
  } else if (path == "/" || path == "/index.html") {
    reply = response("200 OK", "text/html; charset=utf-8", metrics_web_page());
  } else if (path == "/metrics.json") {
    std::lock_guard<std::mutex> lock(mutex_);
    double age = std::chrono::duration<double>(std::chrono::steady_clock::now() - published_).count();
    char field[48];
    std::snprintf(field, sizeof field, "{\"reading_age_s\":%.3f%s", age, json_.size() > 2 ? "," : "");
    reply = response("200 OK", "application/json", field + json_.substr(1));
  } else if (path == "/metrics") {
    std::lock_guard<std::mutex> lock(mutex_);
    reply = response("200 OK", "text/plain; version=0.0.4", prometheus_);
  } else {
    reply = response("404 Not Found", "text/plain", "not found: try /, /metrics.json or /metrics\n");
  }
  send_all(connection, reply);
}

}  // namespace flow
