// CsvSink: CSV output (section 6 of language.md): a header row, RFC 4180 quoting only for
// fields with a comma, quote, CR or LF, null as an empty field, lists as JSON array text.
#pragma once

#include "io/text_sink.h"

namespace flow {

class CsvSink final : public TextSink {
 public:
  CsvSink(std::string destination, JobFailure& failure, std::size_t buffer_size, OutputBuffer* shared = nullptr)
      : TextSink(std::move(destination), failure, buffer_size, shared) {}

  void write_header(const std::vector<std::string>& fields);
  // On a shared stdout buffer the header goes out just before the first record (or at the
  // end, when there is none), so each sink's header stands above its own rows.
  void write_header_before_first_record(std::vector<std::string> fields) {
    pending_header_ = std::move(fields);
    header_pending_ = true;
  }

  void null_value() override;
  void bool_value(bool v) override;
  void i64_value(int64_t v) override;
  void f64_value(double v) override;
  void str_value(const char* p, std::size_t n) override;
  void timestamp_value(int64_t ms) override;
  void list_begin() override;
  void list_end() override;
  int32_t end_record() override;

 private:
  void begin_field();
  void write_field_text(const char* p, std::size_t n);  // quoted if needed
  void write_pending_header();
  void finish_output() override {
    if (header_pending_) write_pending_header();
  }
  void before_records() override {
    if (header_pending_) write_pending_header();
  }

  bool first_field_ = true;
  int list_depth_ = 0;
  std::string list_text_;  // the JSON text of the list being written
  bool list_needs_comma_ = false;
  bool header_pending_ = false;
  std::vector<std::string> pending_header_;
};

}  // namespace flow
