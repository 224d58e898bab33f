// Splitting an input file between the parallel instances of a job: parts of about a given size,
// each cut moved to just after a line break so that no line is split, dealt round robin (part k
// to instance k % N) so that the instances move through the file, and its event time, together.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace flow {

struct ByteRange {
  uint64_t begin = 0;
  uint64_t end = 0;
  bool operator==(const ByteRange&) const = default;
};

// Per instance, its parts in file order. A file that is not a regular file (a pipe) cannot be
// cut: it is one part, instance 0's. `part_bytes` 0 picks a size from the file's: eight parts
// per instance, between 1 MiB and 4 MiB. Small parts keep the instances close in event time
// (an operator's watermark waits for the instance furthest behind, and holds its windows
// open until then); each part costs a seek.
std::vector<std::vector<ByteRange>> split_input(const std::string& path, int instances, uint64_t part_bytes);
// The same for the given ranges of the file only (each starting at a line start, in file order):
// what is left to read after a restore at another parallelism.
std::vector<std::vector<ByteRange>> split_ranges(const std::string& path, const std::vector<ByteRange>& ranges, int instances,
                                                 uint64_t part_bytes);
// The same for a generator's event numbers [0, count) (or the given ranges of them), cut
// anywhere: parts of `part_size` numbers (0: eight parts per instance, 64Ki to 1Mi numbers).
std::vector<std::vector<ByteRange>> split_numbers(uint64_t count, const std::vector<ByteRange>& ranges, int instances,
                                                  uint64_t part_size);

}  // namespace flow
