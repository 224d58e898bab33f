// parse_program: the public entry of compiler/syntax. Guards against input that would make
// the recursive-descent parser recurse too deep, then parses and lowers.
#include "syntax.h"

#include "grammar.h"
#include "lower_raw.h"

namespace flow {

namespace {

// Nesting deeper than this is rejected before parsing, so that no input can exhaust the
// stack of the (recursive) parser.
constexpr int kMaxNesting = 200;

bool nesting_is_reasonable(const SourceFile& file, Diagnostics& diagnostics) {
  int depth = 0;
  bool in_string = false, in_comment = false;
  const std::string& text = file.text();
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_comment) {
      in_comment = c != '\n';
    } else if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"' || c == '\n') in_string = false;
    } else if (c == '#') {
      in_comment = true;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '(' || c == '[' || c == '{' || (c == 'i' && text.compare(i, 3, "if ") == 0)) {
      if (++depth > kMaxNesting) {
        uint32_t at = static_cast<uint32_t>(i);
        diagnostics.error("E0104", Span{at, at + 1}, "expressions are nested too deeply",
                          "more than 200 levels", "split the expression with a `fn`");
        return false;
      }
    } else if (c == ')' || c == ']' || c == '}' || (c == 'e' && text.compare(i, 4, "else") == 0)) {
      depth = std::max(0, depth - 1);
    }
  }
  return true;
}

}  // namespace

std::optional<ast::Program> parse_program(const SourceFile& file, Diagnostics& diagnostics) {
  size_t errors_before = diagnostics.error_count();
  if (!nesting_is_reasonable(file, diagnostics)) return std::nullopt;
  auto items = syntax::grammar::parse_items(file, diagnostics);
  if (diagnostics.error_count() != errors_before) return std::nullopt;
  // Errors found while lowering (a literal out of range, a misplaced `...`) leave a complete
  // tree, so the program is returned and sema reports its own errors too; the caller sees
  // the error count.
  return syntax::lower_items(items, diagnostics);
}

}  // namespace flow
