// Fuzz target for the input formats: any bytes decoded as CSV, JSONL or text (chosen by the
// first byte, with a small read chunk so records straddle refills) must give rows or located
// bad records, never a crash, a hang or an out-of-bounds read. Every cell also goes through
// the typed parsers generated code calls.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "flow/abi.h"
#include "io/record_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const int32_t formats[] = {FLOW_FORMAT_CSV, FLOW_FORMAT_JSONL, FLOW_FORMAT_TEXT};
  int32_t format = formats[data[0] % 3];
  std::size_t chunk = 16 + data[1] % 200;
  int fd = memfd_create("fuzz-input", 0);
  if (fd < 0) return 0;
  if (write(fd, data + 2, size - 2) != static_cast<ssize_t>(size - 2) || lseek(fd, 0, SEEK_SET) != 0) {
    close(fd);
    return 0;
  }
  std::vector<flow::SourceField> fields;
  if (format == FLOW_FORMAT_TEXT) fields.push_back({"line", true});
  else fields = {{"a", true}, {"b", true}, {"c", false}};
  flow::Arena arena;
  auto decoder = flow::make_decoder(format, fields, arena, {chunk, 7});
  decoder->input().adopt(fd);
  if (decoder->start()) {
    for (int steps = 0; steps < 1'000'000; ++steps) {
      flow::DecodeStep step = decoder->next();
      if (step == flow::DecodeStep::end || step == flow::DecodeStep::failed) break;
      if (step == flow::DecodeStep::bad_record) continue;
      const flow_batch& batch = decoder->batch();
      for (int64_t r = 0; r < batch.num_rows; ++r)
        for (int32_t f = 0; f < batch.num_fields; ++f) {
          const flow_cell& c = batch.cells[r * batch.num_fields + f];
          int64_t i;
          double d;
          uint8_t b;
          flow_parse_i64(c.ptr, c.len, &i);
          flow_parse_f64(c.ptr, c.len, &d);
          flow_parse_bool(c.ptr, c.len, &b);
          flow_parse_timestamp(c.ptr, c.len, &i);
          flow_parse_duration(c.ptr, c.len, &i);
          (void)decoder->field_position(r, f);
        }
      arena.reset();
    }
  }
  close(fd);
  return 0;
}
