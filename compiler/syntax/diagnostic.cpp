// Diagnostics: line/column lookup, the rustc-like renderer and "did you mean" suggestions.
#include "diagnostic.h"

#include <algorithm>

namespace flow {

SourceFile::SourceFile(std::string name, std::string text) : name_(std::move(name)), text_(std::move(text)) {
  line_starts_.push_back(0);
  for (uint32_t i = 0; i < text_.size(); ++i)
    if (text_[i] == '\n') line_starts_.push_back(i + 1);
}

SourceFile::Position SourceFile::position(uint32_t offset) const {
  offset = std::min<uint32_t>(offset, static_cast<uint32_t>(text_.size()));
  auto next = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  uint32_t line = static_cast<uint32_t>(next - line_starts_.begin());  // 1-based
  return Position{line, offset - line_starts_[line - 1] + 1};
}

std::string_view SourceFile::line_text(uint32_t line) const {
  if (line == 0 || line > line_starts_.size()) return {};
  uint32_t begin = line_starts_[line - 1];
  uint32_t end = line < line_starts_.size() ? line_starts_[line] - 1 : static_cast<uint32_t>(text_.size());
  std::string_view text(text_.data() + begin, end - begin);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return text;
}

void Diagnostics::error(std::string code, Span span, std::string message, std::string label, std::string help) {
  list_.push_back(Diagnostic{Severity::Error, std::move(code), span, std::move(message), std::move(label), std::move(help)});
}

void Diagnostics::warning(std::string code, Span span, std::string message, std::string label, std::string help) {
  list_.push_back(Diagnostic{Severity::Warning, std::move(code), span, std::move(message), std::move(label), std::move(help)});
}

size_t Diagnostics::error_count() const {
  return static_cast<size_t>(std::count_if(list_.begin(), list_.end(), [](const Diagnostic& d) { return d.severity == Severity::Error; }));
}

bool Diagnostics::has_errors() const { return error_count() > 0; }

namespace {

// Bytes that would garble a terminal (control characters, invalid UTF-8) are shown as `?`.
std::string printable(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    bool valid = length > 0 && i + length <= text.size();
    for (size_t k = 1; valid && k < length; ++k) valid = (static_cast<unsigned char>(text[i + k]) >> 6) == 0x2;
    if (!valid || (c < 0x20 && c != '\t') || c == 0x7f) {
      out += '?';
      ++i;
      continue;
    }
    out.append(text.substr(i, length));
    i += length;
  }
  return out;
}

}  // namespace

std::string render(const Diagnostic& d, const SourceFile& file) {
  auto at = file.position(d.span.begin);
  std::string gutter(std::to_string(at.line).size(), ' ');
  std::string out = (d.severity == Severity::Error ? "error[" : "warning[") + d.code + "]: " + d.message + "\n";
  out += gutter + "--> " + file.name() + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + "\n";
  out += gutter + " |\n";
  // The line is shown without its indentation, and the carets move with it.
  std::string_view line = file.line_text(at.line);
  size_t indent = 0;
  while (indent < line.size() && (line[indent] == ' ' || line[indent] == '\t')) ++indent;
  indent = std::min<size_t>(indent, at.column - 1);
  std::string shown = printable(line.substr(indent));
  out += std::to_string(at.line) + " | " + shown + "\n";
  size_t start = at.column - 1 - indent;
  size_t width = 1;
  if (d.span.end > d.span.begin) {
    auto end = file.position(d.span.end);
    width = end.line == at.line ? end.column - at.column : line.size() - (at.column - 1);
  }
  width = std::max<size_t>(1, std::min(width, shown.size() > start ? shown.size() - start : 1));
  // Carets count characters, not bytes (printable() keeps byte offsets).
  auto characters = [&](size_t from, size_t count) {
    size_t n = 0;
    for (size_t i = from; i < std::min(shown.size(), from + count); ++i)
      n += (static_cast<unsigned char>(shown[i]) & 0xC0) != 0x80;
    return n;
  };
  size_t caret_column = characters(0, start);
  width = std::max<size_t>(1, characters(start, width));
  start = caret_column;
  out += gutter + " | " + std::string(start, ' ') + std::string(width, '^');
  if (!d.label.empty()) out += " " + d.label;
  out += "\n";
  if (!d.help.empty()) out += gutter + " = help: " + d.help + "\n";
  return out;
}

std::string render_all(const Diagnostics& ds, const SourceFile& file) {
  std::vector<Diagnostic> sorted = ds.list();
  std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic& a, const Diagnostic& b) { return a.span.begin < b.span.begin; });
  // The same message at the same place (an error inside an inlined fn) is shown once.
  sorted.erase(std::unique(sorted.begin(), sorted.end(),
                           [](const Diagnostic& a, const Diagnostic& b) {
                             return a.span.begin == b.span.begin && a.span.end == b.span.end && a.code == b.code && a.message == b.message;
                           }),
               sorted.end());
  std::string out;
  size_t errors = 0, warnings = 0;
  for (const auto& d : sorted) {
    out += render(d, file) + "\n";
    (d.severity == Severity::Error ? errors : warnings)++;
  }
  if (sorted.empty()) return out;
  auto count = [](size_t n, const char* what) { return std::to_string(n) + " " + what + (n == 1 ? "" : "s"); };
  if (errors > 0) {
    out += "error: " + count(errors, "error");
    if (warnings > 0) out += ", " + count(warnings, "warning");
  } else {
    out += "warning: " + count(warnings, "warning");
  }
  return out + "\n";
}

std::string closest_name(std::string_view name, const std::vector<std::string>& candidates) {
  size_t best = std::string::npos;
  std::string best_name;
  for (const auto& candidate : candidates) {
    // Levenshtein distance with one row.
    std::vector<size_t> row(candidate.size() + 1);
    for (size_t j = 0; j <= candidate.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= name.size(); ++i) {
      size_t diagonal = row[0];
      row[0] = i;
      for (size_t j = 1; j <= candidate.size(); ++j) {
        size_t above = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (name[i - 1] == candidate[j - 1] ? 0 : 1)});
        diagonal = above;
      }
    }
    size_t distance = row[candidate.size()];
    if (distance < best) {
      best = distance;
      best_name = candidate;
    }
  }
  size_t limit = std::max<size_t>(1, name.size() / 3);
  return best <= limit && best > 0 ? best_name : std::string();
}

}  // namespace flow
