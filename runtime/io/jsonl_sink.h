// JsonlSink: one JSON object per record, keys in registration order, null as `null`,
// timestamps as ISO-8601 strings, non-finite doubles as null, lists as arrays.
#pragma once

#include "io/text_sink.h"

namespace flow {

class JsonlSink final : public TextSink {
 public:
  JsonlSink(std::string destination, JobFailure& failure, std::size_t buffer_size,
            const std::vector<std::string>& fields, OutputBuffer* shared = nullptr);

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
  void begin_value();

  std::vector<std::string> keys_;  // `"name":` per field, escaped once at open
  std::size_t field_ = 0;          // next top-level field of the record
  int list_depth_ = 0;
  bool list_needs_comma_ = false;
};

}  // namespace flow
