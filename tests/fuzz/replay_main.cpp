// A libFuzzer-compatible driver for builds without libFuzzer: feeds every corpus file, then
// a fixed number of seeded random mutations of them (byte flips, insertions, deletions,
// splices), to LLVMFuzzerTestOneInput. Deterministic, so a failure can be replayed.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::string mutate(std::string input, const std::vector<std::string>& corpus, std::mt19937_64& random) {
  static const std::string tokens[] = {"(", ")", "{", "}", "|", "\"", "#", "..", "->", "...", "if ", " then ",
                                       " else ", "??", "=", "map", "filter", "aggregate", "\n", "1e999", "-"};
  int edits = 1 + static_cast<int>(random() % 8);
  for (int i = 0; i < edits; ++i) {
    size_t at = input.empty() ? 0 : random() % (input.size() + 1);
    switch (random() % 5) {
      case 0: if (!input.empty() && at < input.size()) input[at] = static_cast<char>(random()); break;
      case 1: input.insert(at, 1, static_cast<char>(random())); break;
      case 2: if (!input.empty() && at < input.size()) input.erase(at, 1 + random() % 16); break;
      case 3: input.insert(at, tokens[random() % std::size(tokens)]); break;
      case 4: {
        const std::string& other = corpus[random() % corpus.size()];
        size_t from = other.empty() ? 0 : random() % other.size();
        input.insert(at, other.substr(from, random() % 64));
        break;
      }
    }
  }
  return input;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [ITERATIONS]\n", argv[0]);
    return 2;
  }
  long iterations = argc > 2 ? std::stol(argv[2]) : 200000;
  std::vector<std::string> corpus;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(argv[1])) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    corpus.push_back(text.str());
  }
  if (corpus.empty()) corpus.push_back("");
  for (const auto& input : corpus)
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  std::mt19937_64 random(20261123);
  for (long i = 0; i < iterations; ++i) {
    std::string input = mutate(corpus[random() % corpus.size()], corpus, random);
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  }
  std::printf("fuzz replay: %zu corpus inputs and %ld mutations, no crash\n", corpus.size(), iterations);
  return 0;
}
