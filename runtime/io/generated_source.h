// Sources that generate their records (FLOW_FORMAT_GENERATED): the standard library's event
// generators, such as `nexmark(events = N, seed = S)`. A generator numbers its events 0..N-1
// and can make any event from its number alone, so parallel instances take ranges of numbers
// as they take byte ranges of a file, a checkpoint keeps the next number, and a record's
// "position" (for first/last) is its number. Cells hold typed values, not text (abi.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/record_decoder.h"

namespace flow {

// A typed cell (abi.h, FLOW_FORMAT_GENERATED): a number's bits in `ptr`, or a string.
inline void set_number(flow_cell& cell, int64_t value) {
  cell = flow_cell{reinterpret_cast<const char*>(static_cast<uintptr_t>(value)), 0, 0};
}
inline void set_text(flow_cell& cell, std::string_view text) { cell = flow_cell{text.data(), static_cast<int32_t>(text.size()), 0}; }

// The rows of the kept events from `n` on, below `end` (EventGenerator::fill_rows), made by
// G's next_kept and fill: for a final G, with no virtual call per event.
template <typename G>
std::size_t fill_kept_rows(G& generator, uint64_t n, uint64_t end, std::size_t max_rows, std::size_t width, flow_cell* cells,
                           uint64_t* numbers, const std::vector<bool>& used, Arena& arena) {
  std::size_t rows = 0;
  for (n = generator.next_kept(n); n < end && rows < max_rows; n = generator.next_kept(n + 1)) {
    generator.fill(n, cells + rows * width, used, arena);
    numbers[rows++] = n;
  }
  return rows;
}

class EventGenerator {
 public:
  virtual ~EventGenerator() = default;
  // How many events the stream has (of every kind; a source keeps its own kind's).
  virtual uint64_t event_count() const = 0;
  // The first event at or after `n` of the kind this source keeps (event_count() if none).
  virtual uint64_t next_kept(uint64_t n) const = 0;
  // Writes event `n`'s fields into `cells` in schema order: those with `used[i]` set (the rest
  // may be left as they are). Strings live in `arena`.
  virtual void fill(uint64_t n, flow_cell* cells, const std::vector<bool>& used, Arena& arena) = 0;
  // Fills up to `max_rows` rows (`width` cells each) with the kept events from `n` on, below
  // `end`, their numbers into `numbers`; returns how many. (Generators override it with a
  // loop that makes no virtual call per event.)
  virtual std::size_t fill_rows(uint64_t n, uint64_t end, std::size_t max_rows, std::size_t width, flow_cell* cells,
                                uint64_t* numbers, const std::vector<bool>& used, Arena& arena) {
    return fill_kept_rows(*this, n, end, max_rows, width, cells, numbers, used, arena);
  }
};

// The generator a source's "path" describes ("nexmark Bid events=1000 seed=0 rate=10000", as
// the compiler writes it), or nullptr with `error` set.
std::unique_ptr<EventGenerator> make_generator(const std::string& config, std::string& error);
// The same description checked, and the number of events it has, without building the
// generator's tables; nullopt with `error` set when it is bad.
std::optional<uint64_t> generated_event_count(const std::string& config, std::string& error);

// A RecordDecoder over a generator: batches of its kind's events in number order, within the
// ranges it is given.
class GeneratedDecoder : public RecordDecoder {
 public:
  GeneratedDecoder(std::vector<SourceField> fields, Arena& arena, DecoderOptions options);

  bool open(const std::string& config, std::string& reason) override;
  std::optional<uint64_t> size() const override;
  DecodeStep next() override;
  SourcePosition position() const override { return {next_, static_cast<int64_t>(next_) + 1}; }
  bool resume(const SourcePosition& p) override;
  bool read_range(uint64_t begin, uint64_t end) override;
  int64_t file_line(int64_t line) override { return line; }
  uint64_t file_offset(int64_t row) const override { return numbers_[static_cast<std::size_t>(row)]; }
  // A row's "line" is its event number + 1 (its cells are typed: never a bad record, no origin).
  FieldPosition field_position(int64_t row, int32_t) const override {
    return {static_cast<int64_t>(numbers_[static_cast<std::size_t>(row)]) + 1, 1};
  }

 protected:
  Outcome decode_one() override { return Outcome::end; }  // (next() does the work)

 private:
  std::unique_ptr<EventGenerator> generator_;
  std::vector<bool> used_;
  std::vector<uint64_t> numbers_;  // each row's event number
  uint64_t next_ = 0;              // the next event number to look at
  uint64_t end_ = 0;               // where this range ends
  std::size_t max_rows_;
};

}  // namespace flow
