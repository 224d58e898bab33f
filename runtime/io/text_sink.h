// TextSink: the part shared by the CSV and JSONL writers: the buffered output, where it goes
// (for messages) and how write failures become a job failure.
#pragma once

#include "core/value_format.h"
#include "io/sink.h"

namespace flow {

class TextSink : public flow_sink {
 public:
  TextSink(std::string destination, JobFailure& failure, std::size_t buffer_size)
      : out_(buffer_size), destination_(std::move(destination)), failure_(failure) {}

  OutputBuffer& output() { return out_; }
  OutputBuffer* buffer() override { return &out_; }
  bool finish() override {
    if (out_.close()) return true;
    report();
    return false;
  }

 protected:
  // After a record: a failed write stops the job.
  int32_t check_output() {
    if (!out_.failed()) return 0;
    report();
    return 1;
  }
  void report() { failure_.record("cannot write " + destination_ + ": " + out_.error()); }

  OutputBuffer out_;
  TimestampTexts timestamp_texts_;
  std::string destination_;  // "`PATH`" or "to stdout"
  JobFailure& failure_;
};

}  // namespace flow
