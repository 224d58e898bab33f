// The syntax stage: .flow text -> ast::Program, with diagnostics for what does not parse.
// Public header of compiler/syntax (the AST and the Diagnostic type come with it).
#pragma once

#include <optional>

#include "ast.h"
#include "diagnostic.h"

namespace flow {

// Parses a whole program. Syntax errors are added to `diagnostics` (each says what was
// expected and where); the parser resynchronises at the next declaration or flow, so one
// mistake does not hide the others. Returns the program unless there were syntax errors;
// it may still carry errors about literals, so check `diagnostics` before using it.
// Never throws and never loops forever, whatever bytes `file` holds.
std::optional<ast::Program> parse_program(const SourceFile& file, Diagnostics& diagnostics);

}  // namespace flow
