// Watermark propagation through the job's window operators (see event_time.h).
#include "exec/event_time.h"

#include <string>

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
  windows_.resize(spec.windows.size());
  for (std::size_t j = 0; j < spec.windows.size(); ++j) {
    const WindowOperatorSpec& w = spec.windows[j];
    StateTable& table = backend.table("window-" + std::to_string(j), w.row_size);
    windows_[j].op = make_window_operator(w, ctx, table);
    windows_[j].input = std::make_unique<CombinedWatermark>(static_cast<int>(w.inputs.size()), -1);
    for (std::size_t k = 0; k < w.inputs.size(); ++k) {
      Edge edge{static_cast<int32_t>(j), static_cast<int32_t>(k)};
      if (w.inputs[k].source >= 0) sources_[static_cast<std::size_t>(w.inputs[k].source)].downstream.push_back(edge);
      else windows_[static_cast<std::size_t>(w.inputs[k].window)].downstream.push_back(edge);
    }
  }
}

int32_t EventTimeGraph::forward(const std::vector<Edge>& edges, int64_t w) {
  for (const Edge& edge : edges) {
    WindowTime& target = windows_[static_cast<std::size_t>(edge.window)];
    int64_t before = target.input->current();
    if (w == kWatermarkEnd) target.input->end_of_input(edge.input);
    else target.input->update(edge.input, w, 0);
    int64_t now = target.input->current();
    if (now <= before) continue;
    if (int32_t status = target.op->advance(now)) return status;
    // Only after the firings it caused does the operator pass the watermark on.
    if (int32_t status = forward(target.downstream, now)) return status;
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
  for (std::size_t j = 0; j < windows_.size(); ++j) {
    WindowTime& w = windows_[j];
    int64_t every = w.op->spec().early_every_ms;
    if (every <= 0) continue;
    if (now == INT64_MIN) now = clock_.now_ms();
    if (w.next_early == INT64_MIN) w.next_early = now + every;
    if (now < w.next_early) continue;
    w.next_early = now + every;
    if (int32_t status = w.op->fire_early()) return status;
  }
  return 0;
}

}  // namespace flow

extern "C" {

int32_t flow_source_advance(flow_ctx* ctx, int32_t source_index, int64_t t) {
  return ctx->time.source_record(source_index, t);
}

int64_t flow_clock_ms(flow_ctx* ctx) { return ctx->time.clock().now_ms(); }

flow_window* flow_ctx_window(flow_ctx* ctx, int32_t index) { return ctx->time.window(index); }

uint8_t* flow_window_upsert(flow_window* w, const uint8_t* key, int64_t len, int64_t t, flow_window_hit* hit) {
  return w->upsert(key, static_cast<std::size_t>(len), t, hit);
}

int32_t flow_window_refire(flow_window* w) { return w->refire(); }

}  // extern "C"
