// GeneratedDecoder and the generator factory (io/generated_source.h).
#include "io/generated_source.h"

#include <charconv>
#include <map>
#include <sstream>

#include "io/nexmark_generator.h"
#include "io/ysb_generator.h"

namespace flow {

namespace {

// "NAME KIND key=value ...": the compiler writes it, so a malformed one is a bug, but params
// can still make a value out of range.
struct GeneratorConfig {
  std::string name, kind;
  std::map<std::string, int64_t> values;
};

bool parse_config(const std::string& text, GeneratorConfig& out, std::string& error) {
  std::istringstream in(text);
  if (!(in >> out.name >> out.kind)) return error = "malformed generator description `" + text + "`", false;
  for (std::string word; in >> word;) {
    auto eq = word.find('=');
    int64_t value = 0;
    const char* end = word.data() + word.size();
    if (eq == std::string::npos || std::from_chars(word.data() + eq + 1, end, value).ptr != end)
      return error = "malformed generator argument `" + word + "`", false;
    out.values[word.substr(0, eq)] = value;
  }
  return true;
}

// A description parsed and checked: what params may have made of it at run time.
bool checked_config(const std::string& config, GeneratorConfig& c, std::string& error) {
  if (!parse_config(config, c, error)) return false;
  auto value = [&](const char* key) { return c.values.count(key) ? c.values[key] : 0; };
  if (value("events") < 0) return error = c.name + ": `events` must be at least 0, not " + std::to_string(value("events")), false;
  if (value("rate") < 1) return error = c.name + ": `rate` must be at least 1 event per second, not " + std::to_string(value("rate")), false;
  if (c.name == "ysb" && c.kind != "AdEvent" && c.kind != "Campaign") return error = "ysb makes no records of schema `" + c.kind + "`", false;
  if (c.name == "nexmark" && !nexmark_kind(c.kind)) return error = "nexmark makes no records of schema `" + c.kind + "`", false;
  if (c.name != "ysb" && c.name != "nexmark") return error = "unknown generator `" + c.name + "`", false;
  return true;
}

}  // namespace

std::optional<uint64_t> generated_event_count(const std::string& config, std::string& error) {
  GeneratorConfig c;
  if (!checked_config(config, c, error)) return std::nullopt;
  if (c.name == "ysb" && c.kind == "Campaign") return static_cast<uint64_t>(YsbGenerator::kAds);
  return static_cast<uint64_t>(c.values["events"]);
}

std::unique_ptr<EventGenerator> make_generator(const std::string& config, std::string& error) {
  GeneratorConfig c;
  if (!checked_config(config, c, error)) return nullptr;
  auto value = [&](const char* key) { return c.values.count(key) ? c.values[key] : 0; };
  if (c.name == "ysb") {
    auto source = make_ysb_source(YsbOptions{static_cast<uint64_t>(value("events")), value("seed"), value("rate")}, c.kind);
    if (!source) error = "ysb makes no records of schema `" + c.kind + "`";
    return source;
  }
  if (c.name == "nexmark") {
    NexmarkOptions options;
    options.events = static_cast<uint64_t>(value("events"));
    options.seed = value("seed");
    options.events_per_second = value("rate");
    return make_nexmark_source(options, *nexmark_kind(c.kind));
  }
  return nullptr;
}

GeneratedDecoder::GeneratedDecoder(std::vector<SourceField> fields, Arena& arena, DecoderOptions options)
    : RecordDecoder(std::move(fields), arena, options), numbers_(options.max_rows), max_rows_(options.max_rows) {
  for (const SourceField& f : fields_) used_.push_back(f.used);
}

bool GeneratedDecoder::open(const std::string& config, std::string& reason) {
  generator_ = make_generator(config, reason);
  if (!generator_) return false;
  next_ = 0;
  end_ = generator_->event_count();
  return true;
}

std::optional<uint64_t> GeneratedDecoder::size() const {
  return generator_ ? std::optional<uint64_t>(generator_->event_count()) : std::nullopt;
}

DecodeStep GeneratedDecoder::next() {
  batch_.num_rows = 0;
  std::size_t rows = generator_->fill_rows(next_, end_, max_rows_, fields_.size(), cells_.data(), numbers_.data(), used_, arena_);
  if (rows == 0) {
    next_ = end_;
    return DecodeStep::end;
  }
  next_ = numbers_[rows - 1] + 1;
  batch_.num_rows = static_cast<int64_t>(rows);
  return DecodeStep::batch;
}

bool GeneratedDecoder::resume(const SourcePosition& p) {
  next_ = p.offset;
  return true;
}

bool GeneratedDecoder::read_range(uint64_t begin, uint64_t end) {
  reads_parts_ = true;
  next_ = begin;
  end_ = std::min(end, generator_->event_count());
  return true;
}

}  // namespace flow
