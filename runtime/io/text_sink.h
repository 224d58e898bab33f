// TextSink: the part shared by the CSV and JSONL writers: the buffered output, where it goes
// (for messages) and how write failures become a job failure. Every stdout sink of a job
// writes into one shared buffer, so stdout holds records in the order the job emitted them,
// whole lines never interleave, and when buffers are flushed (a checkpoint) changes nothing.
#pragma once

#include "core/value_format.h"
#include "io/sink.h"

namespace flow {

class TextSink : public flow_sink {
 public:
  // `shared`: the job's stdout buffer, written by several sinks; otherwise the sink owns one.
  TextSink(std::string destination, JobFailure& failure, std::size_t buffer_size, OutputBuffer* shared = nullptr)
      : own_(shared ? nullptr : std::make_unique<OutputBuffer>(buffer_size)),
        out_(shared ? *shared : *own_),
        destination_(std::move(destination)),
        failure_(failure) {}

  OutputBuffer& output() { return out_; }
  OutputBuffer* buffer() override { return &out_; }
  bool append_records(const char* p, std::size_t n, std::string& error) override {
    before_records();
    out_.append(p, n);
    if (!out_.failed()) return true;
    error = out_.error();
    return false;
  }
  bool finish() override {
    finish_output();
    if (own_ ? out_.close() : out_.flush()) return true;
    report();
    return false;
  }

 protected:
  // After a record: a failed write stops the job.
  int32_t check_output() {
    out_.record_end();
    if (!out_.failed()) return 0;
    report();
    return 1;
  }
  void report() { failure_.record("cannot write " + destination_ + ": " + out_.error()); }
  // What a format still owes its output at the end (a header no record has brought out yet).
  virtual void finish_output() {}
  // What a format owes its output before records handed over by append_records.
  virtual void before_records() {}

  std::unique_ptr<OutputBuffer> own_;
  OutputBuffer& out_;
  TimestampTexts timestamp_texts_;
  std::string destination_;  // "`PATH`" or "to stdout"
  JobFailure& failure_;
};

}  // namespace flow
