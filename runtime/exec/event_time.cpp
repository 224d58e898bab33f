// Watermark propagation through the job's window operators (see event_time.h).
#include "exec/event_time.h"

#include <algorithm>
#include <string>

#include <cstring>

#include "checkpoint/byte_io.h"
#include "exec/job_context.h"
#include "time/clock.h"

namespace flow {

int64_t JobClock::now_ms() {
  if (!test_) return SystemClock().now_ms();
  int64_t now = now_;
  now_ += step_;
  return now;
}

void EventTimeGraph::build(const JobSpec& spec, flow_ctx& ctx, StateBackend& backend) {
  sources_.assign(spec.sources.size(), SourceTime{});
  for (std::size_t i = 0; i < spec.sources.size(); ++i) sources_[i].lag = spec.sources[i].lag_ms < 0 ? 0 : spec.sources[i].lag_ms;
  window_count_ = spec.windows.size();
  join_count_ = spec.joins.size();
  nodes_.resize(spec.windows.size() + spec.joins.size() + spec.partitions.size());
  for (std::size_t j = 0; j < spec.windows.size(); ++j) {
    const WindowOperatorSpec& w = spec.windows[j];
    RowLayout layout = w.row_layout;
    if (w.kind == FLOW_WINDOW_SESSION) layout.key_suffix = 8;  // rows are (key, session id)
    StateTable& table = backend.table("window-" + std::to_string(j), w.row_size, &layout);
    nodes_[j].window = make_window_operator(w, ctx, table);
    nodes_[j].window->set_index(static_cast<int32_t>(j));
    connect(w.inputs, j);
  }
  for (std::size_t j = 0; j < spec.joins.size(); ++j) {
    nodes_[window_count_ + j].join = make_join_operator(spec.joins[j], ctx, backend, "join-" + std::to_string(j));
    connect(spec.joins[j].inputs, window_count_ + j);
  }
  for (std::size_t j = 0; j < spec.partitions.size(); ++j) connect(spec.partitions[j].inputs, window_count_ + join_count_ + j);
}

void EventTimeGraph::connect(const std::vector<WindowInput>& inputs, std::size_t node) {
  nodes_[node].input = std::make_unique<CombinedWatermark>(static_cast<int>(inputs.size()), -1);
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    Edge edge{node, static_cast<int32_t>(k)};
    if (inputs[k].source >= 0) sources_[static_cast<std::size_t>(inputs[k].source)].downstream.push_back(edge);
    else if (inputs[k].window >= 0) nodes_[static_cast<std::size_t>(inputs[k].window)].downstream.push_back(edge);
    else if (inputs[k].join >= 0) nodes_[window_count_ + static_cast<std::size_t>(inputs[k].join)].downstream.push_back(edge);
    else nodes_[window_count_ + join_count_ + static_cast<std::size_t>(inputs[k].partition)].downstream.push_back(edge);
  }
}

int32_t EventTimeGraph::forward(const std::vector<Edge>& edges, int64_t w) {
  for (const Edge& edge : edges) {
    OperatorTime& target = nodes_[edge.node];
    int64_t before = target.input->current();
    if (w == kWatermarkEnd) target.input->end_of_input(edge.input);
    else target.input->update(edge.input, w, 0);
    int64_t now = target.input->current();
    if (now <= before) continue;
    int32_t status = 0;
    if (target.with_peers) {
      // Partial rows (`aggregate local`) a window's firing at `now` needs go out first.
      if (target.window) {
        if (int32_t status = target.window->flush_local(now)) return status;
        target.window->own_watermark(now);
      }
      send_(static_cast<int32_t>(edge.node), now);
      status = combine(edge.node, 0, now);
    } else {
      status = fire(edge.node, now);
    }
    if (status != 0) return status;
  }
  return 0;
}

int32_t EventTimeGraph::combine(std::size_t node, int input, int64_t w) {
  CombinedWatermark& all = *nodes_[node].with_peers;
  int64_t before = all.current();
  if (w == kWatermarkEnd) all.end_of_input(input);
  else all.update(input, w, 0);
  int64_t now = all.current();
  return now > before ? fire(node, now) : 0;
}

// The operator fires what watermark `now` makes due; only after those firings does it pass the
// watermark on.
int32_t EventTimeGraph::fire(std::size_t node, int64_t now) {
  OperatorTime& target = nodes_[node];
  if (target.window) {
    if (int32_t status = target.window->advance(now)) return status;
  } else if (target.join) {
    if (int32_t status = target.join->advance(now)) return status;
    now = target.join->output_watermark(now);
  }
  return forward(target.downstream, now);
}

void EventTimeGraph::connect_instances(int instances, int self, std::function<void(int32_t, int64_t)> send) {
  instances_ = instances;
  self_ = self;
  send_ = std::move(send);
  for (OperatorTime& node : nodes_) node.with_peers = std::make_unique<CombinedWatermark>(instances, -1);
}

int32_t EventTimeGraph::peer_watermark(int32_t node, int from, int64_t w) {
  if (node < 0 || static_cast<std::size_t>(node) >= nodes_.size() || !nodes_[static_cast<std::size_t>(node)].with_peers ||
      from == self_ || from < 0 || from >= instances_)
    return -1;
  return combine(static_cast<std::size_t>(node), from < self_ ? from + 1 : from, w);
}

bool EventTimeGraph::operators_ended() const {
  for (const OperatorTime& node : nodes_)
    if ((node.with_peers ? node.with_peers->current() : node.input->current()) != kWatermarkEnd) return false;
  return true;
}

void EventTimeGraph::snapshot_time(std::string& out) const {
  ByteWriter w(out);
  w.raw("FLOWTIM1", 8);
  w.u64(sources_.size());
  for (const SourceTime& s : sources_) w.i64(s.watermark);
  w.u64(nodes_.size());
  for (const OperatorTime& node : nodes_) {
    std::string input;
    node.input->snapshot(input);
    w.bytes(input);
  }
}

bool EventTimeGraph::restore_time(const std::vector<std::string_view>& parts, std::string& error) {
  // Per node, each part's input watermarks; the lowest of each input is restored (parts taken
  // at one consistent moment differ only in what their own inputs had seen).
  std::vector<std::vector<std::string_view>> inputs(nodes_.size());
  for (SourceTime& s : sources_) s.watermark = parts.empty() ? kWatermarkStart : INT64_MAX;
  for (std::string_view in : parts) {
    ByteReader r(in);
    uint64_t n = 0;
    if (!r.expect("FLOWTIM1") || !r.number(n) || n != sources_.size())
      return error = "the checkpoint's watermarks are not this job's", false;
    for (SourceTime& s : sources_) {
      int64_t w = 0;
      if (!r.number(w)) return error = "truncated watermarks", false;
      s.watermark = std::min(s.watermark, w);
    }
    if (!r.number(n) || n != nodes_.size()) return error = "the checkpoint's operators are not this job's", false;
    for (auto& node_inputs : inputs) {
      std::string_view input;
      if (!r.bytes(input)) return error = "damaged operator watermarks", false;
      node_inputs.push_back(input);
    }
    if (!r.done()) return error = "trailing bytes after the watermarks", false;
  }
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    if (!nodes_[i].input->restore_lowest(inputs[i])) return error = "damaged operator watermarks", false;
  return true;
}

int32_t EventTimeGraph::flush_local(bool all) {
  for (std::size_t j = 0; j < window_count_; ++j) {
    OperatorTime& node = nodes_[j];
    if (!node.with_peers) continue;
    if (int32_t status = node.window->flush_local(all ? INT64_MAX : node.input->current())) return status;
  }
  return 0;
}

int32_t EventTimeGraph::announce_to_peers() {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (!nodes_[i].with_peers) continue;
    int64_t w = nodes_[i].input->current();
    if (w == kWatermarkStart) continue;
    send_(static_cast<int32_t>(i), w);
    if (int32_t status = combine(i, 0, w)) return status;
  }
  return 0;
}

int32_t EventTimeGraph::end_of_source(int32_t source) {
  SourceTime& s = sources_[static_cast<std::size_t>(source)];
  s.watermark = kWatermarkEnd;
  return forward(s.downstream, kWatermarkEnd);
}

int32_t EventTimeGraph::tick() {
  int64_t now = INT64_MIN;
  for (std::size_t j = 0; j < window_count_; ++j) {
    OperatorTime& w = nodes_[j];
    int64_t every = w.window->spec().early_every_ms;
    if (every <= 0) continue;
    if (now == INT64_MIN) now = clock_.now_ms();
    if (w.next_early == INT64_MIN) w.next_early = now + every;
    if (now < w.next_early) continue;
    w.next_early = now + every;
    if (int32_t status = w.window->fire_early()) return status;
  }
  return 0;
}

}  // namespace flow

extern "C" {

int32_t flow_source_advance(flow_ctx* ctx, int32_t source_index, int64_t t) {
  return ctx->time.source_record(source_index, t);
}

const int64_t* flow_source_watermark(flow_ctx* ctx, int32_t source_index) { return ctx->time.source_watermark_slot(source_index); }

int64_t flow_clock_ms(flow_ctx* ctx) { return ctx->time.clock().now_ms(); }

flow_window* flow_ctx_window(flow_ctx* ctx, int32_t index) { return ctx->time.window(index); }

uint8_t* flow_window_upsert(flow_window* w, const uint8_t* key, int64_t len, int64_t t, flow_window_hit* hit) {
  w->count_record_in();
  return w->upsert(key, static_cast<std::size_t>(len), t, hit);
}

uint8_t* flow_window_upsert_local(flow_window* w, const uint8_t* key, int64_t len, int64_t t, flow_window_hit* hit) {
  w->count_record_in();
  return w->upsert_local(key, static_cast<std::size_t>(len), t, hit);
}

int32_t flow_window_refire(flow_window* w) { return w->refire(); }

flow_window_open_slice* flow_window_open(flow_window* w) { return &w->open_; }

}  // extern "C"
