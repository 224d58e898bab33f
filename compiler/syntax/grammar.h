// The X3 grammar's entry point (internal to compiler/syntax).
#pragma once

#include <vector>

#include "diagnostic.h"
#include "raw_ast.h"

namespace flow::syntax::grammar {

// Parses top-level items one by one; a syntax error becomes a diagnostic and parsing resumes
// at the next line that starts a new item.
std::vector<raw::ItemRaw> parse_items(const SourceFile& file, Diagnostics& diagnostics);

}  // namespace flow::syntax::grammar
