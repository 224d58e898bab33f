// string(x) for every scalar type, plus hash(x) and round(x): the small value built-ins.
#include <xxhash.h>

#include <cmath>

#include "core/arena.h"
#include "core/value_format.h"
#include "flow/abi.h"

namespace {
void copy_out(flow_ctx* ctx, const char* text, std::size_t n, flow_str* out) {
  flow::set_str(out, flow::call_arena(ctx).copy(text, n));
}
}  // namespace

extern "C" {

void flow_i64_to_str(flow_ctx* ctx, int64_t v, flow_str* out) {
  char text[flow::kMaxValueText];
  copy_out(ctx, text, flow::format_i64(text, v), out);
}

void flow_f64_to_str(flow_ctx* ctx, double v, flow_str* out) {
  char text[flow::kMaxValueText];
  copy_out(ctx, text, flow::format_f64(text, v), out);
}

void flow_bool_to_str(flow_ctx* ctx, int32_t v, flow_str* out) {
  // Literals live forever: no copy needed.
  out->ptr = v ? "true" : "false";
  out->len = v ? 4 : 5;
}

void flow_timestamp_to_str(flow_ctx* ctx, int64_t ms, flow_str* out) {
  char text[flow::kMaxValueText];
  copy_out(ctx, text, flow::format_timestamp(text, ms), out);
}

void flow_duration_to_str(flow_ctx* ctx, int64_t ms, flow_str* out) { flow_i64_to_str(ctx, ms, out); }

int64_t flow_hash_bytes(const void* p, int64_t len) {
  return static_cast<int64_t>(XXH3_64bits(p, static_cast<std::size_t>(len)));
}

double flow_round(double v) { return std::round(v); }

}  // extern "C"
