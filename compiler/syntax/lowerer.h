// Internal to compiler/syntax: the Lowerer that turns the raw X3 parse tree into the ast::
// tree. Expressions and types are in lower_expressions.cpp, stages and declarations in
// lower_raw.cpp.
#pragma once

#include <string>
#include <vector>

#include "ast.h"
#include "raw_ast.h"

namespace flow::syntax {

inline ast::Name name_of(const raw::Token& token) { return ast::Name{token.text, token.span}; }

inline Span join_spans(Span a, Span b) { return Span{std::min(a.begin, b.begin), std::max(a.end, b.end)}; }

using raw::Arg;
using raw::Call;
using raw::Chain;
using raw::FieldItem;
using raw::FlowRaw;
using raw::Literal;
using raw::Postfix;
using raw::Primary;
using raw::StageRaw;
using raw::AnnotatedStageRaw;
using raw::Term;
using raw::Token;
using raw::TypeText;

class Lowerer {
 public:
  explicit Lowerer(Diagnostics& diagnostics) : diagnostics_(diagnostics) {}

  ast::ExprPtr expression(const Chain& chain);
  std::vector<ast::ExprPtr> arguments(const std::vector<Arg>& args, std::vector<std::string>& names);
  ast::ExprPtr call(const Call& c);
  std::vector<ast::FieldBinding> fields(const std::vector<FieldItem>& items, bool allow_keep_all,
                                        bool& keep_all, Span& keep_all_span, const char* where);
  ast::TypeRef type(const TypeText& text);
  ast::Flow flow(const FlowRaw& raw);

  // Precedence climbing over one chain: terms t0..tn with ops o1..on between them.
  struct ChainCursor {
    const Chain* chain;
    size_t next_term = 0;    // index into terms (0 = chain.first)
    size_t next_prefix = 0;  // prefixes of the next term already applied
  };
  const Term& term_at(const ChainCursor& c, size_t i) const {
    return i == 0 ? c.chain->first : c.chain->rest[i - 1].term;
  }
  size_t term_count(const ChainCursor& c) const { return c.chain->rest.size() + 1; }
  ast::ExprPtr climb(ChainCursor& c, int min_precedence);
  ast::ExprPtr unary(ChainCursor& c);
  ast::ExprPtr in_list(ChainCursor& c, ast::ExprPtr lhs, const Token& op);
  ast::ExprPtr postfix(const Postfix& p);
  ast::ExprPtr primary(const Primary& p);
  ast::ExprPtr literal(const Literal& l, bool negated);
  ast::ExprPtr make(ast::Expr::Kind kind, Span span) {
    auto e = std::make_unique<ast::Expr>();
    e->kind = kind;
    e->span = span;
    return e;
  }
  ast::WindowSpec window(const Call& c);
  ast::Stage stage(const StageRaw& raw);
  ast::Stage stage(const AnnotatedStageRaw& raw);

 private:
  Diagnostics& diagnostics_;
};

}  // namespace flow::syntax
