// JsonlDecoder: one JSON object per line, fields matched by name (simdjson On Demand). Absent
// and null fields become FLOW_CELL_NULL cells, strings are unescaped (FLOW_CELL_QUOTED),
// numbers and booleans keep their text, objects and arrays their raw text (FLOW_CELL_NESTED).
#pragma once

#include <memory>

#include "io/record_decoder.h"

namespace flow {

class JsonlDecoder final : public RecordDecoder {
 public:
  JsonlDecoder(std::vector<SourceField> fields, Arena& arena, DecoderOptions options);
  ~JsonlDecoder() override;

 private:
  Outcome decode_one() override;
  bool decode_object(const char* text, std::size_t length, flow_cell* cells);
  int32_t field_index(std::string_view name) const;

  struct Parser;  // keeps simdjson out of this header
  std::unique_ptr<Parser> parser_;
};

}  // namespace flow
