// The flow_out_* entry points: forward one field at a time to the sink's writer.
#include "io/sink.h"

extern "C" {

void flow_out_null(flow_sink* s) { s->null_value(); }
void flow_out_bool(flow_sink* s, int32_t v) { s->bool_value(v != 0); }
void flow_out_i64(flow_sink* s, int64_t v) { s->i64_value(v); }
void flow_out_f64(flow_sink* s, double v) { s->f64_value(v); }
void flow_out_str(flow_sink* s, const char* p, int64_t len) {
  s->str_value(p, static_cast<std::size_t>(len));
}
void flow_out_timestamp(flow_sink* s, int64_t ms) { s->timestamp_value(ms); }
void flow_out_duration(flow_sink* s, int64_t ms) { s->duration_value(ms); }
void flow_out_list_begin(flow_sink* s) { s->list_begin(); }
void flow_out_list_end(flow_sink* s) { s->list_end(); }
int32_t flow_out_end(flow_sink* s) { return s->end_record(); }

}  // extern "C"
