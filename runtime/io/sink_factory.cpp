// open_sink: the writer for a sink declaration, and the null sink that only counts.
#include <unistd.h>

#include "io/csv_sink.h"
#include "io/file_transaction.h"
#include "io/jsonl_sink.h"
#include "io/sink.h"

namespace flow {

namespace {

class NullSink final : public flow_sink {
 public:
  void null_value() override {}
  void bool_value(bool) override {}
  void i64_value(int64_t) override {}
  void f64_value(double) override {}
  void str_value(const char*, std::size_t) override {}
  void timestamp_value(int64_t) override {}
  void list_begin() override {}
  void list_end() override {}
  int32_t end_record() override {
    ++records_;
    return 0;
  }
};

}  // namespace

std::unique_ptr<flow_sink> open_sink(const SinkTarget& target, JobFailure& failure, std::string& error,
                                     std::size_t buffer_size, int64_t resume_at, FileTransaction* staged,
                                     OutputBuffer* stdout_buffer) {
  if (target.kind == FLOW_SINK_NULL) return std::make_unique<NullSink>();
  std::string destination =
      target.kind == FLOW_SINK_STDOUT ? std::string("to stdout") : "`" + target.path + "`";
  OutputBuffer* shared = target.kind == FLOW_SINK_STDOUT ? stdout_buffer : nullptr;
  std::unique_ptr<TextSink> sink;
  CsvSink* csv = nullptr;
  if (target.format == FLOW_FORMAT_JSONL) {
    sink = std::make_unique<JsonlSink>(destination, failure, buffer_size, target.fields, shared);
  } else {
    auto csv_sink = std::make_unique<CsvSink>(destination, failure, buffer_size, shared);
    csv = csv_sink.get();
    sink = std::move(csv_sink);
  }
  if (target.kind == FLOW_SINK_FILE) {
    std::string reason;
    OutputBuffer& out = sink->output();
    bool opened = staged ? (resume_at >= 0 ? staged->stage(out, reason) : staged->begin(out, reason))
                  : resume_at >= 0 ? out.resume_file(target.path, static_cast<uint64_t>(resume_at), reason)
                                   : out.open_file(target.path, reason);
    if (!opened) {
      error = "cannot write `" + target.path + "`: " + reason;
      return nullptr;
    }
    if (resume_at >= 0) return sink;  // its header is in the kept part
  } else {
    if (!shared) sink->output().use_fd(STDOUT_FILENO);
    // Restored, a stdout sink is a new process's output: its header comes again (lazily on the
    // shared buffer, before its first row).
    if (resume_at >= 0 && !shared) return sink;
  }
  if (csv && shared) csv->write_header_before_first_record(target.fields);
  else if (csv) csv->write_header(target.fields);
  return sink;
}

std::unique_ptr<flow_sink> open_instance_sink(const SinkTarget& target, JobFailure& failure, std::size_t buffer_size,
                                              OutputBuffer::Delivery deliver) {
  if (target.kind == FLOW_SINK_NULL) return std::make_unique<NullSink>();
  std::string destination = target.kind == FLOW_SINK_STDOUT ? std::string("to stdout") : "`" + target.path + "`";
  std::unique_ptr<TextSink> sink;
  if (target.format == FLOW_FORMAT_JSONL) sink = std::make_unique<JsonlSink>(destination, failure, buffer_size, target.fields);
  else sink = std::make_unique<CsvSink>(destination, failure, buffer_size);
  // Handed over in blocks of this size or more: few lock round trips, little memory.
  sink->output().deliver_to(std::move(deliver), buffer_size < (64 << 10) ? buffer_size : (64 << 10));
  return sink;
}

}  // namespace flow
