// JSON lines writing.
#include "io/jsonl_sink.h"

#include "io/json_text.h"

namespace flow {

JsonlSink::JsonlSink(std::string destination, JobFailure& failure, std::size_t buffer_size,
                     const std::vector<std::string>& fields, OutputBuffer* shared)
    : TextSink(std::move(destination), failure, buffer_size, shared) {
  for (const std::string& name : fields) {
    std::string key;
    StringOutput text{key};
    write_json_string(text, name.data(), name.size());
    key.push_back(':');
    keys_.push_back(std::move(key));
  }
}

void JsonlSink::begin_value() {
  if (list_depth_ > 0) {
    if (list_needs_comma_) out_.put(',');
    list_needs_comma_ = true;
    return;
  }
  out_.put(field_ == 0 ? '{' : ',');
  if (field_ >= keys_.size()) {
    // More values than registered names: a code generator bug, but keep the output valid JSON.
    keys_.push_back("\"field_" + std::to_string(field_ + 1) + "\":");
  }
  out_.append(keys_[field_]);
  ++field_;
}

void JsonlSink::null_value() {
  begin_value();
  out_.append("null", 4);
}

void JsonlSink::bool_value(bool v) {
  begin_value();
  out_.append(v ? "true" : "false", v ? 4 : 5);
}

void JsonlSink::i64_value(int64_t v) {
  begin_value();
  write_json_i64(out_, v);
}

void JsonlSink::f64_value(double v) {
  begin_value();
  write_json_f64(out_, v);
}

void JsonlSink::str_value(const char* p, std::size_t n) {
  begin_value();
  write_json_string(out_, p, n);
}

void JsonlSink::timestamp_value(int64_t ms) {
  begin_value();
  out_.put('"');
  out_.append(timestamp_texts_.format(ms));
  out_.put('"');
}

void JsonlSink::list_begin() {
  begin_value();
  out_.put('[');
  ++list_depth_;
  list_needs_comma_ = false;
}

void JsonlSink::list_end() {
  if (list_depth_ == 0) return;
  out_.put(']');
  --list_depth_;
  list_needs_comma_ = true;
}

int32_t JsonlSink::end_record() {
  if (field_ == 0) out_.put('{');
  out_.append("}\n", 2);
  field_ = 0;
  list_depth_ = 0;
  ++records_;
  return check_output();
}

}  // namespace flow
