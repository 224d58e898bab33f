// Text lines as records.
#include "io/text_decoder.h"

#include <climits>

#include "io/line_splitter.h"

namespace flow {

TextDecoder::TextDecoder(std::vector<SourceField> fields, Arena& arena, DecoderOptions options)
    : RecordDecoder(std::move(fields), arena, options) {
  for (std::size_t f = 0; f < fields_.size(); ++f)
    if (fields_[f].name == "line") line_field_ = static_cast<int32_t>(f);
}

RecordDecoder::Outcome TextDecoder::decode_one() {
  Line line;
  if (!next_line(input_, line)) {
    return input_.at_eof() ? Outcome::end : Outcome::incomplete;
  }
  input_.consume(line.consumed);
  RowOrigin origin{line.text, static_cast<int64_t>(line.length), line_++};
  if (line.length > INT32_MAX) {
    bad_ = BadRecord{origin.line, 1, std::string_view(line.text, line.length), "line longer than 2 GiB"};
    return Outcome::bad;
  }
  flow_cell* cells = row_cells();
  // Other schema fields (the compiler allows none) read as null.
  for (std::size_t f = 0; f < fields_.size(); ++f) cells[f] = flow_cell{nullptr, 0, FLOW_CELL_NULL};
  if (line_field_ >= 0) cells[line_field_] = flow_cell{line.text, static_cast<int32_t>(line.length), 0};
  commit_row(origin);
  return Outcome::row;
}

}  // namespace flow
