// Channels between instances and the encoding of their messages.
//
// Every message starts with 16 bytes: kind (u8), 3 bytes of padding, an index (u32), a value
// (i64), and is padded to a multiple of 8 bytes, so that records in a block are aligned.
// A record: route, event time, then the record's bytes as generated code laid them out and the
// bytes of each of its strings in slot order; the receiver points the record's strings into the
// block and hands the record to the route where it lies. A watermark: node, watermark. The end
// of a stage: stage, 0.
#include "exchange/exchange.h"

#include <chrono>
#include <cstddef>
#include <climits>
#include <cstring>


namespace flow {

namespace {

constexpr std::size_t kBlockBytes = 64 << 10;  // a block goes out once it is this large

constexpr std::size_t kHeader = 16;

// The bytes of a record (or row) of `size` bytes with its strings after it.
std::size_t encoded_size(const char* bytes, std::size_t size, const std::vector<int64_t>& strings) {
  for (int64_t offset : strings) {
    flow_str s;
    std::memcpy(&s, bytes + offset, sizeof s);
    size += static_cast<std::size_t>(s.len);
  }
  return size;
}

void encode(char* p, const char* bytes, std::size_t size, const std::vector<int64_t>& strings) {
  std::memcpy(p, bytes, size);
  p += size;
  for (int64_t offset : strings) {
    flow_str s;
    std::memcpy(&s, bytes + offset, sizeof s);
    if (s.len > 0) std::memcpy(p, s.ptr, static_cast<std::size_t>(s.len));
    p += s.len;
  }
}

// Points the strings of the record at `record` (in a block that ends at `end`) to their bytes
// after it; returns the end of its strings, or nullptr when they do not fit.
char* decode_strings(char* record, std::size_t size, const std::vector<int64_t>& strings, const char* end) {
  char* p = record + size;
  for (int64_t offset : strings) {
    flow_str s;
    std::memcpy(&s, record + offset, sizeof s);
    if (s.len < 0 || end - p < s.len) return nullptr;
    s.ptr = p;
    p += s.len;
    std::memcpy(record + offset, &s, sizeof s);
  }
  return p;
}

std::size_t padded(std::size_t n) { return (n + 7) & ~std::size_t{7}; }

// Appends a message of `body` bytes after its header; returns where the body goes.
char* append_message(std::string& out, flow::ExchangeMessage kind, uint32_t index, int64_t value, std::size_t body) {
  std::size_t at = out.size();
  out.resize(at + kHeader + padded(body));
  char* p = out.data() + at;
  p[0] = static_cast<char>(kind);
  std::memcpy(p + 4, &index, sizeof index);
  std::memcpy(p + 8, &value, sizeof value);
  return p + kHeader;
}

}  // namespace

ExchangeHub::ExchangeHub(int instances, std::size_t channel_bytes)
    : instances_(instances),
      channel_bytes_(channel_bytes),
      channels_(static_cast<std::size_t>(instances * instances)),
      signals_(static_cast<std::size_t>(instances)) {}

void ExchangeHub::push(int from, int to, std::string block) {
  {
    Channel& c = channel(from, to);
    std::lock_guard lock(c.mutex);
    c.bytes += block.size();
    if (c.bytes > c.peak) c.peak = c.bytes;
    c.blocks.push_back(std::move(block));
  }
  wake(to);
}

void ExchangeHub::take(int from, int to, std::vector<std::string>& out) {
  {
    Channel& c = channel(from, to);
    std::lock_guard lock(c.mutex);
    if (c.blocks.empty()) return;
    for (std::string& block : c.blocks) out.push_back(std::move(block));
    c.blocks.clear();
    c.bytes = 0;
  }
  wake(from);
}

bool ExchangeHub::full(int from, int to) const { return queued(from, to) >= channel_bytes_; }

std::size_t ExchangeHub::queued(int from, int to) const {
  const Channel& c = channel(from, to);
  std::lock_guard lock(c.mutex);
  return c.bytes;
}

std::size_t ExchangeHub::peak(int from, int to) const {
  const Channel& c = channel(from, to);
  std::lock_guard lock(c.mutex);
  return c.peak;
}

void ExchangeHub::wait(int self, int timeout_ms) {
  Signal& s = signals_[static_cast<std::size_t>(self)];
  std::unique_lock lock(s.mutex);
  s.cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return s.raised || stopped(); });
  s.raised = false;
}

void ExchangeHub::wake(int self) {
  Signal& s = signals_[static_cast<std::size_t>(self)];
  {
    std::lock_guard lock(s.mutex);
    s.raised = true;
  }
  s.cv.notify_one();
}

void ExchangeHub::stop() {
  stopped_.store(true, std::memory_order_release);
  for (int i = 0; i < instances_; ++i) wake(i);
}

int32_t decode_block(std::string& block, int from, const std::vector<RouteSpec>& routes, const std::vector<RouteSpec>& rows,
                     ExchangeReceiver& receiver, const std::vector<RouteSpec>& windows) {
  char* const begin = block.data();
  const char* const end = begin + block.size();
  char* p = begin;
  while (p != end) {
    if (end - p < static_cast<std::ptrdiff_t>(kHeader)) return -1;
    char* header = p;
    uint32_t index = 0;
    int64_t value = 0;
    std::memcpy(&index, header + 4, sizeof index);
    std::memcpy(&value, header + 8, sizeof value);
    char* body = header + kHeader;
    char* body_end = body;
    int32_t status = 0;
    switch (static_cast<ExchangeMessage>(header[0])) {
      case ExchangeMessage::record:
      case ExchangeMessage::positioned_record: {  // body: [i64 position,] the record
        if (index >= routes.size()) return -1;
        int64_t position = 0;
        char* record = body;
        if (static_cast<ExchangeMessage>(header[0]) == ExchangeMessage::positioned_record) {
          if (end - body < 8) return -1;
          std::memcpy(&position, body, sizeof position);
          record = body + 8;
        }
        auto size = static_cast<std::size_t>(routes[index].record_size);
        if (end - record < static_cast<std::ptrdiff_t>(size)) return -1;
        body_end = decode_strings(record, size, routes[index].strings, end);
        if (!body_end) return -1;
        status = receiver.record(static_cast<int32_t>(index), record, value, position);
        break;
      }
      case ExchangeMessage::row: {
        if (index >= rows.size() || value < 0) return -1;
        auto key_len = static_cast<std::size_t>(value);
        auto size = static_cast<std::size_t>(rows[index].record_size);
        if (static_cast<std::size_t>(end - body) < padded(key_len) + size) return -1;
        char* row = body + padded(key_len);
        body_end = decode_strings(row, size, rows[index].strings, end);
        if (!body_end) return -1;
        status = receiver.row(static_cast<int32_t>(index), std::string_view(body, key_len), reinterpret_cast<uint8_t*>(row));
        break;
      }
      case ExchangeMessage::watermark:
        status = receiver.watermark(from, static_cast<int32_t>(index), value);
        break;
      case ExchangeMessage::stage_done:
        status = receiver.stage_done(from, static_cast<int32_t>(index));
        break;
      case ExchangeMessage::barrier:
        status = receiver.barrier(from, static_cast<int32_t>(index), value);
        break;
      case ExchangeMessage::window_row: {  // body: u64 key length, the key padded, the row
        if (index >= windows.size() || end - body < 8) return -1;
        uint64_t key_len = 0;
        std::memcpy(&key_len, body, sizeof key_len);
        auto size = static_cast<std::size_t>(windows[index].record_size);
        if (key_len > static_cast<uint64_t>(end - body) || static_cast<std::size_t>(end - body) < 8 + padded(key_len) + size)
          return -1;
        char* row = body + 8 + padded(key_len);
        body_end = decode_strings(row, size, windows[index].strings, end);
        if (!body_end) return -1;
        status = receiver.window_row(static_cast<int32_t>(index), value, std::string_view(body + 8, key_len),
                                     reinterpret_cast<uint8_t*>(row));
        break;
      }
      case ExchangeMessage::encoded_row: {  // header value: key length; body: the key padded, u64 length, the value
        if (index >= rows.size() || value < 0) return -1;
        auto key_len = static_cast<std::size_t>(value);
        if (static_cast<std::size_t>(end - body) < padded(key_len) + 8) return -1;
        uint64_t value_len = 0;
        std::memcpy(&value_len, body + padded(key_len), sizeof value_len);
        char* bytes = body + padded(key_len) + 8;
        if (value_len > static_cast<uint64_t>(end - bytes)) return -1;
        body_end = bytes + value_len;
        status = receiver.encoded_row(static_cast<int32_t>(index), std::string_view(body, key_len),
                                      std::string_view(bytes, static_cast<std::size_t>(value_len)));
        break;
      }
      default:
        return -1;
    }
    if (status != 0) return status;
    std::size_t used = padded(static_cast<std::size_t>(body_end - body));
    if (static_cast<std::size_t>(end - body) < used) return -1;
    p = body + used;
  }
  return 0;
}

}  // namespace flow

flow_exchange::flow_exchange(flow::ExchangeHub& h, int s, const std::vector<flow::RouteSpec>& r)
    : hub(h), self(s), instances(h.instances()), routes(r), building_(static_cast<std::size_t>(h.instances())) {}

void flow_exchange::send_record(int32_t route, const void* record, int64_t event_time) {
  append_record(route, record, event_time, nullptr);
}

void flow_exchange::send_record_at(int32_t route, const void* record, int64_t event_time, int64_t position) {
  append_record(route, record, event_time, &position);
}

void flow_exchange::append_record(int32_t route, const void* record, int64_t event_time, const int64_t* position) {
  const flow::RouteSpec& spec = routes[static_cast<std::size_t>(route)];
  std::string& out = building_[static_cast<std::size_t>(last_owner)];
  const auto* bytes = static_cast<const char*>(record);
  auto size = static_cast<std::size_t>(spec.record_size);
  const std::size_t prefix = position ? sizeof *position : 0;
  char* p = flow::append_message(out, position ? flow::ExchangeMessage::positioned_record : flow::ExchangeMessage::record,
                                 static_cast<uint32_t>(route), event_time, prefix + flow::encoded_size(bytes, size, spec.strings));
  if (position) std::memcpy(p, position, prefix);
  flow::encode(p + prefix, bytes, size, spec.strings);
  ++records_sent;
  ++messages_sent;
  if (out.size() >= flow::kBlockBytes) flush_to(last_owner);
}

void flow_exchange::send_row(int to, int32_t aggregate, std::string_view key, const uint8_t* row, const flow::RouteSpec& layout) {
  std::string& out = building_[static_cast<std::size_t>(to)];
  const auto* bytes = reinterpret_cast<const char*>(row);
  auto size = static_cast<std::size_t>(layout.record_size);
  std::size_t key_room = flow::padded(key.size());
  char* p = flow::append_message(out, flow::ExchangeMessage::row, static_cast<uint32_t>(aggregate),
                                 static_cast<int64_t>(key.size()), key_room + flow::encoded_size(bytes, size, layout.strings));
  std::memcpy(p, key.data(), key.size());
  flow::encode(p + key_room, bytes, size, layout.strings);
  ++messages_sent;
  if (out.size() >= flow::kBlockBytes) flush_to(to);
}

void flow_exchange::send_encoded_row(int to, int32_t aggregate, std::string_view key, std::string_view value) {
  std::string& out = building_[static_cast<std::size_t>(to)];
  std::size_t key_room = flow::padded(key.size());
  char* p = flow::append_message(out, flow::ExchangeMessage::encoded_row, static_cast<uint32_t>(aggregate),
                                 static_cast<int64_t>(key.size()), key_room + 8 + value.size());
  std::memcpy(p, key.data(), key.size());
  uint64_t value_len = value.size();
  std::memcpy(p + key_room, &value_len, sizeof value_len);
  std::memcpy(p + key_room + 8, value.data(), value.size());
  ++messages_sent;
  if (out.size() >= flow::kBlockBytes) flush_to(to);
}

void flow_exchange::send_window_row(int to, int32_t window, int64_t slice, std::string_view key, const uint8_t* row,
                                    int64_t row_size, const std::vector<int64_t>& strings) {
  std::string& out = building_[static_cast<std::size_t>(to)];
  const auto* bytes = reinterpret_cast<const char*>(row);
  auto size = static_cast<std::size_t>(row_size);
  std::size_t key_room = flow::padded(key.size());
  char* p = flow::append_message(out, flow::ExchangeMessage::window_row, static_cast<uint32_t>(window), slice,
                                 8 + key_room + flow::encoded_size(bytes, size, strings));
  uint64_t key_len = key.size();
  std::memcpy(p, &key_len, sizeof key_len);
  std::memcpy(p + 8, key.data(), key.size());
  flow::encode(p + 8 + key_room, bytes, size, strings);
  ++messages_sent;
  if (out.size() >= flow::kBlockBytes) flush_to(to);
}

void flow_exchange::send_watermark(int32_t node, int64_t w) {
  auto at = static_cast<std::size_t>(node);
  if (at >= watermarks_.size()) watermarks_.resize(at + 1, INT64_MIN);
  if (watermarks_[at] == INT64_MIN) pending_nodes_.push_back(node);
  watermarks_[at] = w;
}

void flow_exchange::send_stage_done(int32_t stage) {
  write_watermarks();
  write_to_others(flow::ExchangeMessage::stage_done, static_cast<uint32_t>(stage), 0);
}

int64_t flow_exchange::send_barrier(int32_t round) {
  write_watermarks();
  int64_t since = messages_sent - sent_at_barrier_;
  sent_at_barrier_ = messages_sent;
  for (int to = 0; to < hub.instances(); ++to)
    if (to != self) flow::append_message(building_[static_cast<std::size_t>(to)], flow::ExchangeMessage::barrier, static_cast<uint32_t>(round), since, 0);
  return since;
}

void flow_exchange::write_watermarks() {
  for (int32_t node : pending_nodes_) {
    auto at = static_cast<std::size_t>(node);
    write_to_others(flow::ExchangeMessage::watermark, static_cast<uint32_t>(node), watermarks_[at]);
    watermarks_[at] = INT64_MIN;
  }
  pending_nodes_.clear();
}

void flow_exchange::write_to_others(flow::ExchangeMessage kind, uint32_t index, int64_t value) {
  ++messages_sent;
  for (int to = 0; to < hub.instances(); ++to)
    if (to != self) flow::append_message(building_[static_cast<std::size_t>(to)], kind, index, value, 0);
}

void flow_exchange::flush_to(int to) {
  std::string& out = building_[static_cast<std::size_t>(to)];
  if (out.empty()) return;
  std::string block;
  block.reserve(flow::kBlockBytes + 1024);
  block.swap(out);
  hub.push(self, to, std::move(block));
}

void flow_exchange::flush() {
  write_watermarks();
  for (int to = 0; to < hub.instances(); ++to)
    if (to != self) flush_to(to);
}

bool flow_exchange::blocked() const {
  for (int to = 0; to < hub.instances(); ++to)
    if (to != self && hub.full(self, to)) return true;
  return false;
}

extern "C" {

int32_t flow_exchange_owns(flow_exchange* x, const uint8_t* key, int64_t len, int32_t parallelism) {
  return x->owns(key, static_cast<std::size_t>(len), parallelism) ? 1 : 0;
}

int32_t flow_exchange_deal(flow_exchange* x, int32_t partition, int32_t parallelism) {
  return x->deal(partition, parallelism) ? 1 : 0;
}

int32_t flow_exchange_rescale(flow_exchange* x, int32_t parallelism) { return x->rescale(parallelism) ? 1 : 0; }

void flow_exchange_send(flow_exchange* x, int32_t route, const void* record, int64_t event_time) {
  x->send_record(route, record, event_time);
}

void flow_exchange_send_at(flow_exchange* x, int32_t route, const void* record, int64_t event_time, int64_t position) {
  x->send_record_at(route, record, event_time, position);
}

}  // extern "C"
