// RecordDecoder: turns the bytes of one input file into flow_batch batches of text cells in
// schema order (one subclass per format). It also remembers where each row came from, so that
// a bad field or record can be reported as PATH:LINE:COL and sent to a dead-letter stream.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/arena.h"
#include "flow/abi.h"
#include "io/input_buffer.h"

namespace flow {

struct SourceField {
  std::string name;
  bool used = true;  // false: the program never reads it, the decoder may leave it empty
};

struct DecoderOptions {
  std::size_t chunk_size = InputBuffer::kDefaultChunk;
  std::size_t max_rows = 2048;  // rows per batch
};

// Where a row of the current batch came from. `raw` (the record without its line end) points
// into the input buffer and is valid until the next call to next().
struct RowOrigin {
  const char* raw;
  int64_t raw_len;
  int64_t line;  // 1-based line where the record starts
};

// A record that could not be decoded at all (wrong field count, invalid JSON, bad quoting).
struct BadRecord {
  int64_t line = 0;
  int64_t column = 1;
  std::string_view raw;
  std::string message;
};

struct FieldPosition {
  int64_t line;
  int64_t column;
};

// A problem that stops the source: `line` 0 when it has no line (an empty file, a read error).
struct DecoderError {
  int64_t line = 0;
  std::string message;
  bool read_failed = false;  // reading the file failed; `message` is the system's reason
};

enum class DecodeStep { batch, bad_record, end, failed };

// Where a source's next record starts: what a checkpoint keeps to resume reading there.
struct SourcePosition {
  uint64_t offset = 0;  // in the file
  int64_t line = 1;     // the line number of that record, for messages
  bool operator==(const SourcePosition&) const = default;
};

class RecordDecoder {
 public:
  RecordDecoder(std::vector<SourceField> fields, Arena& arena, DecoderOptions options);
  virtual ~RecordDecoder() = default;
  RecordDecoder(const RecordDecoder&) = delete;
  RecordDecoder& operator=(const RecordDecoder&) = delete;

  InputBuffer& input() { return input_; }
  // Opens the input: a file's path (a generator's description for GeneratedDecoder). False
  // with `reason` set on failure.
  virtual bool open(const std::string& path, std::string& reason) { return input_.open(path, reason); }
  // The input's size in position() units when it is known before reading (a generator's
  // number of events); a file's is its size on disk, which the caller reads itself.
  virtual std::optional<uint64_t> size() const { return std::nullopt; }

  // Reads what precedes the first record (the CSV header). False with error() set on failure.
  virtual bool start() { return true; }

  // The next batch (batch()), bad record (bad_record()), the end, or a failure (error()).
  // Batches never mix with bad records: a bad record met after some rows is returned by the
  // call after the one that returns those rows, so the order of the input is kept.
  virtual DecodeStep next();

  const flow_batch& batch() const { return batch_; }
  const RowOrigin& origin(int64_t row) const { return origins_[static_cast<std::size_t>(row)]; }
  const BadRecord& bad_record() const { return bad_; }
  const DecoderError& error() const { return error_; }
  const std::vector<SourceField>& fields() const { return fields_; }

  // After next() has returned, whether position() says where to resume: not while a bad
  // record met after a batch's rows is still to be returned.
  bool resumable() const { return !bad_pending_; }
  // The last batch ended where the input read so far ends: the next step reads more, and may
  // wait for it (a pipe). Metrics are published then, so they never lag behind a waiting job.
  bool drained() const { return drained_; }
  // Where the record after everything returned so far starts.
  virtual SourcePosition position() const { return {input_.position(), line_}; }
  // After start() (which reads the CSV header again): continues at `p`, the position() of a
  // decoder of the same file. False with error() set when the file cannot seek there.
  virtual bool resume(const SourcePosition& p);

  // Parallel instances (io/input_split.h): after start(), reads only the records that start
  // in [begin, end) of the file, both at line starts, then ends. Called again after the end for
  // the instance's next part. False with error() set when the file cannot seek there.
  virtual bool read_range(uint64_t begin, uint64_t end);
  // Whether the input is read in parts: a CSV record may then not hold a line break.
  bool reads_parts() const { return reads_parts_; }
  // The line in the file of `line`, a line number this decoder reported: lines are counted
  // from the start of a part, and the lines before it only when a message needs them.
  virtual int64_t file_line(int64_t line);

  // Where row `row` of the current batch starts in the file (its raw text is still in the
  // input buffer, which ends at position()).
  virtual uint64_t file_offset(int64_t row) const {
    return input_.position() - static_cast<uint64_t>(input_.data() - origin(row).raw);
  }
  // Where field `field` of row `row` of the current batch starts in the file.
  virtual FieldPosition field_position(int64_t row, int32_t field) const { return {origin(row).line, 1}; }

 protected:
  enum class Outcome { row, skipped, incomplete, bad, end, failed /* error_ set */ };
  // Decodes one record at input().data(): adds a row (row_cells() then commit_row()), skips
  // a blank line, reports a bad record (fill bad_), or needs more input. Consumes what it used.
  // Never returns `incomplete` once input().at_eof().
  virtual Outcome decode_one() = 0;
  // Decodes the common records in one tight loop, adding at most `room` rows; stops at the
  // first record it leaves to decode_one. Returns how many rows it added.
  virtual int64_t decode_common(int64_t /*room*/) { return 0; }

  flow_cell* row_cells() { return &cells_[static_cast<std::size_t>(batch_.num_rows) * fields_.size()]; }
  void commit_row(const RowOrigin& origin) {
    origins_[static_cast<std::size_t>(batch_.num_rows)] = origin;
    ++batch_.num_rows;
  }
  bool fail(std::string message, int64_t line = 0);

  std::vector<SourceField> fields_;
  Arena& arena_;  // unescaped text, valid until the batch has been consumed
  InputBuffer input_;
  BadRecord bad_;
  DecoderError error_;
  int64_t line_ = 1;  // line of the next record

  bool reads_parts_ = false;
  uint64_t part_begin_ = 0;
  int64_t lines_before_part_ = 0;  // -1: not counted yet

  std::vector<flow_cell> cells_;
  std::vector<RowOrigin> origins_;
  flow_batch batch_{};

 private:
  DecoderOptions options_;
  bool bad_pending_ = false;
  bool drained_ = false;
};

// A decoder for `format` (FLOW_FORMAT_*), or nullptr for an unknown format.
std::unique_ptr<RecordDecoder> make_decoder(int32_t format, std::vector<SourceField> fields, Arena& arena,
                                            DecoderOptions options = {});

}  // namespace flow
