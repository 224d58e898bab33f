// Channels between instances and the encoding of their messages.
//
// A record message: kind, route (u32), event time (i64), the record's bytes as generated code
// laid them out, then the bytes of each of its strings in slot order; the receiver points the
// strings of its copy of the record into the block. A watermark: kind, node (u32), watermark
// (i64). The end of a stage: kind, stage (u32), 0 (i64).
#include "exchange/exchange.h"

#include <chrono>
#include <cstddef>
#include <climits>
#include <cstring>


namespace flow {

namespace {

constexpr std::size_t kBlockBytes = 64 << 10;  // a block goes out once it is this large

template <class T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

template <class T>
bool get(const std::string& in, std::size_t& at, T& v) {
  if (in.size() - at < sizeof v) return false;
  std::memcpy(&v, in.data() + at, sizeof v);
  at += sizeof v;
  return true;
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

int32_t decode_block(const std::string& block, int from, const std::vector<RouteSpec>& routes, ExchangeReceiver& receiver) {
  std::vector<std::max_align_t> record;  // aligned like the generated code's records
  std::size_t at = 0;
  while (at < block.size()) {
    uint8_t kind = 0;
    uint32_t index = 0;
    int64_t value = 0;
    if (!get(block, at, kind) || !get(block, at, index) || !get(block, at, value)) return -1;
    int32_t status = 0;
    switch (static_cast<ExchangeMessage>(kind)) {
      case ExchangeMessage::record: {
        if (index >= routes.size()) return -1;
        const RouteSpec& route = routes[index];
        auto size = static_cast<std::size_t>(route.record_size);
        if (block.size() - at < size) return -1;
        record.resize((size + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t) + 1);
        auto* bytes = reinterpret_cast<char*>(record.data());
        std::memcpy(bytes, block.data() + at, size);
        at += size;
        for (int64_t offset : route.strings) {
          flow_str s;
          std::memcpy(&s, bytes + offset, sizeof s);
          if (s.len < 0 || block.size() - at < static_cast<std::size_t>(s.len)) return -1;
          s.ptr = block.data() + at;
          at += static_cast<std::size_t>(s.len);
          std::memcpy(bytes + offset, &s, sizeof s);
        }
        status = receiver.record(static_cast<int32_t>(index), bytes, value);
        break;
      }
      case ExchangeMessage::watermark:
        status = receiver.watermark(from, static_cast<int32_t>(index), value);
        break;
      case ExchangeMessage::stage_done:
        status = receiver.stage_done(from, static_cast<int32_t>(index));
        break;
      default:
        return -1;
    }
    if (status != 0) return status;
  }
  return 0;
}

}  // namespace flow

flow_exchange::flow_exchange(flow::ExchangeHub& h, int s, const std::vector<flow::RouteSpec>& r)
    : hub(h), self(s), routes(r), building_(static_cast<std::size_t>(h.instances())) {}

void flow_exchange::send_record(int32_t route, const void* record, int64_t event_time) {
  const flow::RouteSpec& spec = routes[static_cast<std::size_t>(route)];
  std::string& out = building_[static_cast<std::size_t>(last_owner)];
  flow::put(out, static_cast<uint8_t>(flow::ExchangeMessage::record));
  flow::put(out, static_cast<uint32_t>(route));
  flow::put(out, event_time);
  const auto* bytes = static_cast<const char*>(record);
  out.append(bytes, static_cast<std::size_t>(spec.record_size));
  for (int64_t offset : spec.strings) {
    flow_str s;
    std::memcpy(&s, bytes + offset, sizeof s);
    out.append(s.ptr, static_cast<std::size_t>(s.len));
  }
  ++records_sent;
  if (out.size() >= flow::kBlockBytes) flush_to(last_owner);
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

void flow_exchange::write_watermarks() {
  for (int32_t node : pending_nodes_) {
    auto at = static_cast<std::size_t>(node);
    write_to_others(flow::ExchangeMessage::watermark, static_cast<uint32_t>(node), watermarks_[at]);
    watermarks_[at] = INT64_MIN;
  }
  pending_nodes_.clear();
}

void flow_exchange::write_to_others(flow::ExchangeMessage kind, uint32_t index, int64_t value) {
  for (int to = 0; to < hub.instances(); ++to) {
    if (to == self) continue;
    std::string& out = building_[static_cast<std::size_t>(to)];
    flow::put(out, static_cast<uint8_t>(kind));
    flow::put(out, index);
    flow::put(out, value);
  }
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

int32_t flow_exchange_owns(flow_exchange* x, const uint8_t* key, int64_t len) {
  return x->owns(key, static_cast<std::size_t>(len)) ? 1 : 0;
}

void flow_exchange_send(flow_exchange* x, int32_t route, const void* record, int64_t event_time) {
  x->send_record(route, record, event_time);
}

}  // extern "C"
