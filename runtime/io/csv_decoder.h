// CsvDecoder: RFC 4180 CSV with a required header row; columns are matched to schema fields by
// name (extra columns ignored). Cells point into the read buffer; only a quoted field with
// doubled quotes is copied (into the arena) to undo them.
#pragma once

#include <vector>

#include "io/csv_plain_record.h"
#include "io/record_decoder.h"

namespace flow {

class CsvDecoder final : public RecordDecoder {
 public:
  using RecordDecoder::RecordDecoder;

  bool start() override;
  FieldPosition field_position(int64_t row, int32_t field) const override;

 private:
  Outcome decode_one() override;
  int64_t decode_common(int64_t room) override;
  bool read_header();

  int32_t header_columns_ = 0;
  std::vector<int32_t> field_of_column_;  // schema field index per column, -1 if not read
  CsvBlockMasks masks_;                    // valid while input_.fills() == masks_fills_
  uint64_t masks_fills_ = 0;
  std::vector<int32_t> column_of_field_;  // column per schema field
};

}  // namespace flow
