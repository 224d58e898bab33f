// Raw X3 parse tree -> ast:: tree (internal to compiler/syntax).
#pragma once

#include <vector>

#include "ast.h"
#include "raw_ast.h"

namespace flow::syntax {

ast::Program lower_items(const std::vector<raw::ItemRaw>& items, Diagnostics& diagnostics);

}  // namespace flow::syntax
