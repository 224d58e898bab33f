// JSON lines decoding with simdjson On Demand, one document per line.
#include "io/jsonl_decoder.h"

#include <simdjson.h>

#include <climits>

#include "io/line_splitter.h"

namespace flow {

static_assert(InputBuffer::kPadding >= simdjson::SIMDJSON_PADDING, "simdjson reads past the document");

namespace ondemand = simdjson::ondemand;

struct JsonlDecoder::Parser {
  ondemand::parser parser;
};

namespace {

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && is_json_space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The JSON number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_number(std::string_view s) {
  std::size_t i = 0, n = s.size();
  if (i < n && s[i] == '-') ++i;
  if (i == n) return false;
  if (s[i] == '0') {
    ++i;
  } else if (is_digit(s[i])) {
    while (i < n && is_digit(s[i])) ++i;
  } else {
    return false;
  }
  if (i < n && s[i] == '.') {
    std::size_t digits = ++i;
    while (i < n && is_digit(s[i])) ++i;
    if (i == digits) return false;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    std::size_t digits = i;
    while (i < n && is_digit(s[i])) ++i;
    if (i == digits) return false;
  }
  return i == n;
}

flow_cell make_cell(std::string_view text, int32_t flags) {
  return flow_cell{text.data(), static_cast<int32_t>(text.size()), flags};
}

}  // namespace

JsonlDecoder::JsonlDecoder(std::vector<SourceField> fields, Arena& arena, DecoderOptions options)
    : RecordDecoder(std::move(fields), arena, options), parser_(std::make_unique<Parser>()) {}

JsonlDecoder::~JsonlDecoder() = default;

int32_t JsonlDecoder::field_index(std::string_view name) const {
  for (std::size_t f = 0; f < fields_.size(); ++f)
    if (fields_[f].name == name) return fields_[f].used ? static_cast<int32_t>(f) : -1;
  return -1;
}

RecordDecoder::Outcome JsonlDecoder::decode_one() {
  Line line;
  if (!next_line(input_, line)) return input_.at_eof() ? Outcome::end : Outcome::incomplete;
  input_.consume(line.consumed);
  int64_t number = line_++;
  std::size_t first = 0;
  while (first < line.length && is_json_space(line.text[first])) ++first;
  if (first == line.length) return Outcome::skipped;

  flow_cell* cells = row_cells();
  for (std::size_t f = 0; f < fields_.size(); ++f) cells[f] = flow_cell{nullptr, 0, FLOW_CELL_NULL};
  bad_.message.clear();
  if (line.length > INT32_MAX) {
    bad_.message = "line longer than 2 GiB";
  } else {
    decode_object(line.text, line.length, cells);
  }
  if (!bad_.message.empty()) {
    bad_.line = number;
    bad_.column = 1;
    bad_.raw = std::string_view(line.text, line.length);
    return Outcome::bad;
  }
  commit_row(RowOrigin{line.text, static_cast<int64_t>(line.length), number});
  return Outcome::row;
}

// Fills `cells` from the object on one line; on failure sets bad_.message.
bool JsonlDecoder::decode_object(const char* text, std::size_t length, flow_cell* cells) {
  auto invalid = [this](simdjson::error_code error) {
    bad_.message = std::string("invalid JSON: ") + simdjson::error_message(error);
    return false;
  };
  ondemand::document doc;
  auto error = parser_->parser.iterate(text, length, input_.capacity_after(text)).get(doc);
  if (error) return invalid(error);
  ondemand::object object;
  error = doc.get_object().get(object);
  if (error == simdjson::INCORRECT_TYPE) {
    bad_.message = "expected a JSON object";
    return false;
  }
  if (error) return invalid(error);

  for (auto&& field_result : object) {
    ondemand::field field;
    if ((error = std::move(field_result).get(field))) return invalid(error);
    std::string_view key;
    if ((error = field.unescaped_key().get(key))) return invalid(error);
    ondemand::value value = field.value();
    ondemand::json_type type;
    if ((error = value.type().get(type))) return invalid(error);
    int32_t index = field_index(key);
    if (index < 0 && (type == ondemand::json_type::object || type == ondemand::json_type::array))
      continue;  // skipped unread; simdjson checks its brackets
    std::string_view raw;
    switch (type) {
      case ondemand::json_type::object:
      case ondemand::json_type::array: {
        if (type == ondemand::json_type::object) {
          ondemand::object nested;
          if ((error = value.get_object().get(nested)) || (error = nested.raw_json().get(raw)))
            return invalid(error);
        } else {
          ondemand::array nested;
          if ((error = value.get_array().get(nested)) || (error = nested.raw_json().get(raw)))
            return invalid(error);
        }
        cells[index] = make_cell(trim_right(raw), FLOW_CELL_NESTED);
        break;
      }
      case ondemand::json_type::string: {
        raw = trim_right(value.raw_json_token());
        std::string_view inner = raw.substr(1, raw.size() - 2);
        if (inner.find('\\') == std::string_view::npos) {
          if (index >= 0) cells[index] = make_cell(inner, FLOW_CELL_QUOTED);
          break;
        }
        // Escapes are undone by simdjson into its own buffer, which the next line reuses.
        std::string_view unescaped;
        if ((error = value.get_string().get(unescaped))) return invalid(error);
        if (index >= 0)
          cells[index] = make_cell(arena_.copy(unescaped.data(), unescaped.size()), FLOW_CELL_QUOTED);
        break;
      }
      case ondemand::json_type::number:
        raw = trim_right(value.raw_json_token());
        if (!is_json_number(raw)) return invalid(simdjson::NUMBER_ERROR);
        if (index >= 0) cells[index] = make_cell(raw, 0);
        break;
      case ondemand::json_type::boolean:
        raw = trim_right(value.raw_json_token());
        if (raw != "true" && raw != "false") return invalid(simdjson::T_ATOM_ERROR);
        if (index >= 0) cells[index] = make_cell(raw, 0);
        break;
      case ondemand::json_type::null:
        raw = trim_right(value.raw_json_token());
        if (raw != "null") return invalid(simdjson::N_ATOM_ERROR);
        if (index >= 0) cells[index] = flow_cell{nullptr, 0, FLOW_CELL_NULL};
        break;
    }
  }
  // Anything after the closing brace (`{...} x`, `{...}}`) is not one JSON value.
  const char* trailing;
  if (!doc.current_location().get(trailing)) return invalid(simdjson::TRAILING_CONTENT);
  return true;
}

}  // namespace flow
