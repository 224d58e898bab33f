// TextDecoder: every line of the file is one record whose only field, `line`, is the line's
// text without its LF or CRLF.
#pragma once

#include "io/record_decoder.h"

namespace flow {

class TextDecoder final : public RecordDecoder {
 public:
  TextDecoder(std::vector<SourceField> fields, Arena& arena, DecoderOptions options);

 private:
  Outcome decode_one() override;
  int32_t line_field_ = -1;  // the schema field named `line`
};

}  // namespace flow
