// Diagnostics: errors and warnings as values with a place in the source, collected in a list
// and rendered the way rustc does (file:line:col, the source line, a caret under the span).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace flow {

// A half-open byte range [begin, end) in one source file.
struct Span {
  uint32_t begin = 0;
  uint32_t end = 0;
};

// The text of one .flow file and where its lines start, so spans can be turned into
// line:column (1-based, columns counted in bytes).
class SourceFile {
 public:
  SourceFile(std::string name, std::string text);

  const std::string& name() const { return name_; }
  const std::string& text() const { return text_; }
  struct Position {
    uint32_t line;
    uint32_t column;
  };
  Position position(uint32_t offset) const;
  std::string_view line_text(uint32_t line) const;  // without the newline

 private:
  std::string name_;
  std::string text_;
  std::vector<uint32_t> line_starts_;
};

enum class Severity { Error, Warning };

// Codes are grouped by area; the catalogue with one line each lives in dsl-spec/errors.md.
//   E01xx syntax, E02xx names, E03xx types, E04xx streams and stages, E05xx not supported yet.
struct Diagnostic {
  Severity severity = Severity::Error;
  std::string code;     // "E0213"
  Span span;
  std::string message;  // "unknown field `prize` in schema `Bid`"
  std::string label;    // text under the caret: "did you mean `price`?" (may be empty)
  std::string help;     // an extra "help: ..." line (may be empty)
};

class Diagnostics {
 public:
  void error(std::string code, Span span, std::string message, std::string label = {},
             std::string help = {});
  void warning(std::string code, Span span, std::string message, std::string label = {},
               std::string help = {});
  void add(Diagnostic d) { list_.push_back(std::move(d)); }

  bool has_errors() const;
  size_t error_count() const;
  const std::vector<Diagnostic>& list() const { return list_; }

 private:
  std::vector<Diagnostic> list_;
};

// The rustc-like rendering:
//   error[E0213]: unknown field `prize` in schema `Bid`
//    --> q1.flow:7:12
//     |
//   7 | | filter prize > 10.0
//     |          ^^^^^ did you mean `price`?
//     = help: ...
std::string render(const Diagnostic& d, const SourceFile& file);
// All diagnostics in source order, each followed by a blank line, then a summary line such as
// "error: 2 errors, 1 warning" (nothing when the list is empty).
std::string render_all(const Diagnostics& ds, const SourceFile& file);

// The candidate closest to `name` by edit distance, if it is close enough to be a likely typo
// (used for "did you mean `price`?"). Empty when nothing is close.
std::string closest_name(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace flow
