// CSV writing.
#include "io/csv_sink.h"

#include "io/json_text.h"

namespace flow {

namespace {
bool needs_quotes(const char* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    char c = p[i];
    if (c == ',' || c == '"' || c == '\n' || c == '\r') return true;
  }
  return false;
}
}  // namespace

void CsvSink::write_header(const std::vector<std::string>& fields) {
  for (const std::string& name : fields) str_value(name.data(), name.size());
  first_field_ = true;
  out_.put('\n');
}

void CsvSink::write_pending_header() {
  header_pending_ = false;
  write_header(pending_header_);
}

void CsvSink::begin_field() {
  if (list_depth_ > 0) {
    if (list_needs_comma_) list_text_.push_back(',');
    list_needs_comma_ = true;
    return;
  }
  if (!first_field_) out_.put(',');
  else if (header_pending_) write_pending_header();
  first_field_ = false;
}

void CsvSink::write_field_text(const char* p, std::size_t n) {
  if (!needs_quotes(p, n)) {
    out_.append(p, n);
    return;
  }
  out_.put('"');
  std::size_t run = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] != '"') continue;
    out_.append(p + run, i + 1 - run);  // up to and including the quote, which is doubled
    out_.put('"');
    run = i + 1;
  }
  out_.append(p + run, n - run);
  out_.put('"');
}

void CsvSink::null_value() {
  begin_field();
  if (list_depth_ > 0) list_text_ += "null";
}

void CsvSink::bool_value(bool v) {
  begin_field();
  const char* text = v ? "true" : "false";
  if (list_depth_ > 0)
    list_text_ += text;
  else
    out_.append(text, v ? 4 : 5);
}

void CsvSink::i64_value(int64_t v) {
  begin_field();
  char text[kMaxValueText];
  std::size_t n = format_i64(text, v);
  if (list_depth_ > 0)
    list_text_.append(text, n);
  else
    out_.append(text, n);
}

void CsvSink::f64_value(double v) {
  begin_field();
  if (list_depth_ > 0) {
    StringOutput list{list_text_};
    write_json_f64(list, v);
    return;
  }
  char text[kMaxValueText];
  out_.append(text, format_f64(text, v));
}

void CsvSink::str_value(const char* p, std::size_t n) {
  begin_field();
  if (list_depth_ > 0) {
    StringOutput list{list_text_};
    write_json_string(list, p, n);
    return;
  }
  write_field_text(p, n);
}

void CsvSink::timestamp_value(int64_t ms) {
  begin_field();
  if (list_depth_ > 0) {
    StringOutput list{list_text_};
    write_json_timestamp(list, ms);
    return;
  }
  std::string_view text = timestamp_texts_.format(ms);
  out_.append(text.data(), text.size());
}

void CsvSink::list_begin() {
  begin_field();
  if (list_depth_++ == 0) list_text_.clear();
  list_text_.push_back('[');
  list_needs_comma_ = false;
}

void CsvSink::list_end() {
  if (list_depth_ == 0) return;
  list_text_.push_back(']');
  list_needs_comma_ = true;
  if (--list_depth_ == 0) write_field_text(list_text_.data(), list_text_.size());
}

int32_t CsvSink::end_record() {
  out_.put('\n');
  first_field_ = true;
  list_depth_ = 0;
  ++records_;
  return check_output();
}

}  // namespace flow
