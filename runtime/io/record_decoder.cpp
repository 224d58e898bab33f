// The format-independent part of decoding: batching rows, refilling the input between batches,
// and keeping bad records in input order.
#include "io/record_decoder.h"

#include <string>

#include "io/csv_decoder.h"
#include "io/generated_source.h"
#include "io/jsonl_decoder.h"
#include "io/text_decoder.h"

namespace flow {

RecordDecoder::RecordDecoder(std::vector<SourceField> fields, Arena& arena, DecoderOptions options)
    : fields_(std::move(fields)),
      arena_(arena),
      input_(options.chunk_size),
      options_(options),
      cells_(options.max_rows * (fields_.empty() ? 1 : fields_.size()), flow_cell{nullptr, 0, 0}),
      origins_(options.max_rows) {
  batch_.cells = cells_.data();
  batch_.num_fields = static_cast<int32_t>(fields_.size());
}

bool RecordDecoder::fail(std::string message, int64_t line) {
  error_.message = std::move(message);
  error_.line = line;
  return false;
}

bool RecordDecoder::resume(const SourcePosition& p) {
  if (p.offset < input_.position()) return fail("cannot resume before the first record (offset " + std::to_string(p.offset) + ")");
  if (!input_.seek(p.offset, error_.message)) {
    error_.line = 0;
    error_.read_failed = true;
    return false;
  }
  line_ = p.line;
  bad_pending_ = false;
  batch_.num_rows = 0;
  return true;
}

bool RecordDecoder::read_range(uint64_t begin, uint64_t end) {
  reads_parts_ = true;
  // A range that goes on where the last one stopped (after a restore) starts afresh too: the
  // input is at the last one's end.
  if (begin > input_.position() || (begin == input_.position() && input_.at_eof() && begin < end)) {
    if (!input_.seek(begin, error_.message)) {
      error_.line = 0;
      error_.read_failed = true;
      return false;
    }
    part_begin_ = begin;
    line_ = 1;
    lines_before_part_ = -1;
  }
  input_.limit(end);
  bad_pending_ = false;
  batch_.num_rows = 0;
  return true;
}

int64_t RecordDecoder::file_line(int64_t line) {
  if (line <= 0 || lines_before_part_ == 0) return line;
  if (lines_before_part_ < 0) lines_before_part_ = input_.line_breaks_before(part_begin_);
  return lines_before_part_ < 0 ? line : line + lines_before_part_;
}

DecodeStep RecordDecoder::next() {
  if (bad_pending_) {
    bad_pending_ = false;
    return DecodeStep::bad_record;
  }
  batch_.num_rows = 0;
  drained_ = false;
  const auto max_rows = static_cast<int64_t>(options_.max_rows);
  while (batch_.num_rows < max_rows) {
    decode_common(max_rows - batch_.num_rows);
    if (batch_.num_rows == max_rows) break;
    switch (decode_one()) {
      case Outcome::row:
      case Outcome::skipped:
        continue;
      case Outcome::bad:
        if (batch_.num_rows == 0) return DecodeStep::bad_record;
        bad_pending_ = true;
        return DecodeStep::batch;
      case Outcome::end:
        return batch_.num_rows > 0 ? DecodeStep::batch : DecodeStep::end;
      case Outcome::failed:
        return DecodeStep::failed;
      case Outcome::incomplete:
        // Refilling moves the buffer, so the rows decoded so far go out first.
        if (batch_.num_rows > 0) {
          drained_ = true;
          return DecodeStep::batch;
        }
        if (!input_.fill(error_.message)) {
          error_.line = 0;
          error_.read_failed = true;
          return DecodeStep::failed;
        }
        continue;
    }
  }
  return DecodeStep::batch;
}

std::unique_ptr<RecordDecoder> make_decoder(int32_t format, std::vector<SourceField> fields, Arena& arena,
                                            DecoderOptions options) {
  switch (format) {
    case FLOW_FORMAT_CSV:
      return std::make_unique<CsvDecoder>(std::move(fields), arena, options);
    case FLOW_FORMAT_JSONL:
      return std::make_unique<JsonlDecoder>(std::move(fields), arena, options);
    case FLOW_FORMAT_TEXT:
      return std::make_unique<TextDecoder>(std::move(fields), arena, options);
    case FLOW_FORMAT_GENERATED:
      return std::make_unique<GeneratedDecoder>(std::move(fields), arena, options);
    default:
      return nullptr;
  }
}

}  // namespace flow
