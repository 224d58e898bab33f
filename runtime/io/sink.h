// flow_sink: one output of a job. Generated code writes a record field by field (flow_out_*)
// and ends it with flow_out_end; each format (CSV, JSONL, null) is a subclass.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/job_failure.h"
#include "flow/abi.h"
#include "io/output_buffer.h"

struct flow_sink {
 public:
  virtual ~flow_sink() = default;

  virtual void null_value() = 0;
  virtual void bool_value(bool v) = 0;
  virtual void i64_value(int64_t v) = 0;
  virtual void f64_value(double v) = 0;
  virtual void str_value(const char* p, std::size_t n) = 0;
  virtual void timestamp_value(int64_t ms) = 0;
  virtual void duration_value(int64_t ms) { i64_value(ms); }
  virtual void list_begin() = 0;
  virtual void list_end() = 0;
  // Ends a record; non-zero (after recording the failure) when writing failed.
  virtual int32_t end_record() = 0;

  // Flushes everything; false (after recording the failure) when writing failed.
  virtual bool finish() { return true; }
  // The buffered output behind the sink, or nullptr (the null sink).
  virtual flow::OutputBuffer* buffer() { return nullptr; }
  // Whole records, already formatted by a parallel instance's sink of the same declaration,
  // written out as if this sink had written them. False with `error` set when writing failed.
  virtual bool append_records(const char* /*p*/, std::size_t /*n*/, std::string& /*error*/) { return true; }

  int64_t records_written() const { return records_; }

 protected:
  int64_t records_ = 0;
};

namespace flow {

class FileTransaction;

struct SinkTarget {
  int32_t kind;      // FLOW_SINK_*
  int32_t format;    // FLOW_FORMAT_CSV or FLOW_FORMAT_JSONL
  std::string path;  // for FLOW_SINK_FILE
  std::vector<std::string> fields;
};

// Opens the output (creating or truncating a file) and writes the CSV header. On failure
// returns nullptr and sets `error` to the whole message (`cannot write `PATH`: reason`).
// `resume_at` >= 0: a restore; a file sink keeps its first resume_at bytes (header included)
// and writes after them. With `staged`, a file sink writes through that transaction (exactly-
// once output, io/file_transaction.h), which a restore has recovered already. A stdout sink
// writes into `stdout_buffer` when given (one buffer for all stdout sinks of a job).
std::unique_ptr<flow_sink> open_sink(const SinkTarget& target, JobFailure& failure, std::string& error,
                                     std::size_t buffer_size = OutputBuffer::kDefaultCapacity, int64_t resume_at = -1,
                                     FileTransaction* staged = nullptr, OutputBuffer* stdout_buffer = nullptr);

// A sink of one parallel instance: formats records as open_sink's would, without a header, and
// hands them, whole, to `deliver` (the job's sink of the same declaration) instead of opening
// the output.
std::unique_ptr<flow_sink> open_instance_sink(const SinkTarget& target, JobFailure& failure, std::size_t buffer_size,
                                              OutputBuffer::Delivery deliver);

}  // namespace flow
