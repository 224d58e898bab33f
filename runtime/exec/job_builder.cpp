// The flow_job_* calls: generated code describes its job into a JobSpec.
#include <string>

#include "exec/job_spec.h"

namespace {

std::string text_or_empty(const char* s) { return s ? std::string(s) : std::string(); }

bool known_type(int32_t type) { return type >= FLOW_T_BOOL && type <= FLOW_T_LIST; }

}  // namespace

extern "C" {

void flow_job_program(flow_job_builder* b, const char* file_name) {
  b->spec.program = text_or_empty(file_name);
}

void flow_job_param(flow_job_builder* b, const char* name, int32_t type, const char* default_text) {
  if (!known_type(type) || type == FLOW_T_LIST)
    b->spec.problems.push_back("param `" + text_or_empty(name) + "` has type code " + std::to_string(type));
  b->spec.params.push_back(
      flow::ParamSpec{text_or_empty(name), type, default_text != nullptr, text_or_empty(default_text)});
}

void flow_job_source(flow_job_builder* b, const char* name, int32_t format, int32_t on_error,
                     flow_string_fn path, flow_batch_fn consume, flow_row_fn dead_letter) {
  std::string source = text_or_empty(name);
  if (format < FLOW_FORMAT_CSV || format > FLOW_FORMAT_TEXT)
    b->spec.problems.push_back("source `" + source + "` has format code " + std::to_string(format));
  if (on_error < FLOW_ON_ERROR_FAIL || on_error > FLOW_ON_ERROR_DEAD_LETTER)
    b->spec.problems.push_back("source `" + source + "` has on-error code " + std::to_string(on_error));
  if (!path || !consume)
    b->spec.problems.push_back("source `" + source + "` lacks its path or consume function");
  b->spec.sources.push_back(flow::SourceSpec{source, format, on_error, path, consume, dead_letter, {}});
}

void flow_job_source_field(flow_job_builder* b, const char* name, int32_t type, int32_t nullable,
                           int32_t used) {
  if (b->spec.sources.empty()) {
    b->spec.problems.push_back("field `" + text_or_empty(name) + "` given before any source");
    return;
  }
  b->spec.sources.back().fields.push_back(
      flow::FieldSpec{text_or_empty(name), type, nullable != 0, used != 0});
}

void flow_job_sink(flow_job_builder* b, int32_t kind, int32_t format, flow_string_fn path) {
  if (kind < FLOW_SINK_STDOUT || kind > FLOW_SINK_NULL)
    b->spec.problems.push_back("sink " + std::to_string(b->spec.sinks.size()) + " has kind code " +
                               std::to_string(kind));
  if (kind == FLOW_SINK_FILE && !path)
    b->spec.problems.push_back("file sink " + std::to_string(b->spec.sinks.size()) + " has no path function");
  b->spec.sinks.push_back(flow::SinkSpec{kind, format, path, {}});
}

void flow_job_sink_field(flow_job_builder* b, const char* name) {
  if (b->spec.sinks.empty()) {
    b->spec.problems.push_back("sink field `" + text_or_empty(name) + "` given before any sink");
    return;
  }
  b->spec.sinks.back().fields.push_back(text_or_empty(name));
}

void flow_job_aggregate(flow_job_builder* b, int32_t source_index, int64_t row_size, flow_row_fn emit) {
  if (!emit)
    b->spec.problems.push_back("aggregate " + std::to_string(b->spec.aggregates.size()) +
                               " has no emit function");
  b->spec.aggregates.push_back(flow::AggregateSpec{source_index, row_size, emit});
}

void flow_job_source_time(flow_job_builder* b, int32_t kind, int64_t lag_ms, int64_t idle_ms) {
  if (b->spec.sources.empty()) {
    b->spec.problems.push_back("event time given before any source");
    return;
  }
  if (kind < FLOW_TIME_FIELD || kind > FLOW_TIME_PROCESSING || lag_ms < 0)
    b->spec.problems.push_back("source `" + b->spec.sources.back().name + "` has time kind " + std::to_string(kind) +
                               " and lag " + std::to_string(lag_ms));
  flow::SourceSpec& source = b->spec.sources.back();
  source.time_kind = kind;
  source.lag_ms = lag_ms;
  source.idle_ms = idle_ms;
}

void flow_job_window(flow_job_builder* b, const char* where, int32_t kind, int64_t size_ms, int64_t slide_ms,
                     int64_t lateness_ms, int32_t flags, int64_t early_every_ms, int64_t row_size, flow_merge_fn merge,
                     flow_window_emit_fn emit) {
  std::string name = "window " + std::to_string(b->spec.windows.size());
  bool sliced = kind == FLOW_WINDOW_SLIDING || kind == FLOW_WINDOW_CUMULATING;
  if (kind < FLOW_WINDOW_TUMBLING || kind > FLOW_WINDOW_CUMULATING || size_ms <= 0 || (sliced && slide_ms <= 0) ||
      lateness_ms < 0 || (kind == FLOW_WINDOW_CUMULATING && size_ms % slide_ms != 0))
    b->spec.problems.push_back(name + " has kind " + std::to_string(kind) + ", size " + std::to_string(size_ms) + " and slide " +
                               std::to_string(slide_ms));
  if (!merge || !emit) b->spec.problems.push_back(name + " lacks its merge or emit function");
  flow::WindowOperatorSpec w;
  w.where = text_or_empty(where);
  w.kind = kind;
  w.size_ms = size_ms;
  w.slide_ms = slide_ms;
  w.lateness_ms = lateness_ms;
  w.flags = flags;
  w.early_every_ms = early_every_ms;
  w.row_size = row_size;
  w.merge = merge;
  w.emit = emit;
  b->spec.windows.push_back(std::move(w));
}

void flow_job_window_input(flow_job_builder* b, int32_t source_index, int32_t window_index) {
  if (b->spec.windows.empty()) {
    b->spec.problems.push_back("window input given before any window");
    return;
  }
  auto& spec = b->spec;
  bool source_ok = source_index >= 0 && static_cast<std::size_t>(source_index) < spec.sources.size() && window_index < 0;
  // A window's input window is registered before it, so the graph has no cycle.
  bool window_ok = window_index >= 0 && static_cast<std::size_t>(window_index) + 1 < spec.windows.size() && source_index < 0;
  if (!source_ok && !window_ok)
    spec.problems.push_back("window " + std::to_string(spec.windows.size() - 1) + " has input source " +
                            std::to_string(source_index) + " / window " + std::to_string(window_index));
  else if (source_ok && spec.sources[static_cast<std::size_t>(source_index)].time_kind == 0)
    spec.problems.push_back("window " + std::to_string(spec.windows.size() - 1) + " reads source `" +
                            spec.sources[static_cast<std::size_t>(source_index)].name + "`, which has no event time");
  else
    spec.windows.back().inputs.push_back(flow::WindowInput{source_index, window_index});
}

}  // extern "C"
