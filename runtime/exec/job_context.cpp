// Context accessors of the ABI: params, sinks, aggregate tables, the key buffer, and the
// division-by-zero failure.
#include "exec/job_context.h"

namespace flow {

Arena& call_arena(flow_ctx* ctx) { return ctx->call_arena; }

}  // namespace flow

namespace {
const flow::ParamValue* param_at(flow_ctx* ctx, int32_t index) {
  if (index < 0 || static_cast<std::size_t>(index) >= ctx->params.size()) return nullptr;
  return &ctx->params[static_cast<std::size_t>(index)];
}
}  // namespace

extern "C" {

int64_t flow_param_i64(flow_ctx* ctx, int32_t index) {
  const flow::ParamValue* v = param_at(ctx, index);
  return v ? v->i64 : 0;
}

double flow_param_f64(flow_ctx* ctx, int32_t index) {
  const flow::ParamValue* v = param_at(ctx, index);
  return v ? v->f64 : 0.0;
}

void flow_param_str(flow_ctx* ctx, int32_t index, flow_str* out) {
  const flow::ParamValue* v = param_at(ctx, index);
  out->ptr = v ? v->text.data() : "";
  out->len = v ? static_cast<int64_t>(v->text.size()) : 0;
}

int32_t flow_fail_division_by_zero(flow_ctx* ctx, int32_t line, int32_t col) {
  ctx->failure.record(ctx->spec->program + ":" + std::to_string(line) + ":" + std::to_string(col) +
                      ": division by zero");
  return 1;
}

flow_sink* flow_ctx_sink(flow_ctx* ctx, int32_t index) {
  return ctx->sinks[static_cast<std::size_t>(index)].get();
}

flow_agg_table* flow_ctx_agg(flow_ctx* ctx, int32_t index) {
  return ctx->aggregates[static_cast<std::size_t>(index)].get();
}

flow_key_buf* flow_ctx_key_buf(flow_ctx* ctx) { return &ctx->key_buf; }

flow_exchange* flow_ctx_exchange(flow_ctx* ctx) { return ctx->exchange; }
int64_t flow_ctx_position(flow_ctx* ctx) { return ctx->record_position; }
void flow_ctx_set_position(flow_ctx* ctx, int64_t position) { ctx->record_position = position; }

int64_t flow_batch_position(flow_ctx* ctx, const flow_batch* batch, int64_t row) {
  flow::ActiveSource* source = ctx->source;
  if (!source || !source->decoder || row < 0 || row >= batch->num_rows) return 0;
  return static_cast<int64_t>(source->decoder->file_offset(row));
}

}  // extern "C"
