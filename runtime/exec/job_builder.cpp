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

}  // extern "C"
