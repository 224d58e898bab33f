// Unit tests of compiler/syntax: the grammar, operator precedence, literals, and syntax
// errors with their places, including recovery so that several errors are reported.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "compiler/syntax/syntax.h"

namespace {

using flow::ast::Expr;

std::string dump(const Expr& e) {
  static const char* binary[] = {"??", "or", "and", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%"};
  switch (e.kind) {
    case Expr::Kind::Int: return std::to_string(e.int_value);
    case Expr::Kind::Duration: return std::to_string(e.int_value) + "ms";
    case Expr::Kind::Float: {
      std::ostringstream s;
      s << e.float_value;
      return s.str();
    }
    case Expr::Kind::String: return "\"" + e.text + "\"";
    case Expr::Kind::Bool: return e.bool_value ? "true" : "false";
    case Expr::Kind::Null: return "null";
    case Expr::Kind::Name: return e.text;
    case Expr::Kind::Field: return dump(*e.operands[0]) + "." + e.text;
    case Expr::Kind::Unary:
      return std::string("(") + (e.unary_op == flow::ast::UnaryOp::Not ? "not " : "-") + dump(*e.operands[0]) + ")";
    case Expr::Kind::Binary:
      return "(" + dump(*e.operands[0]) + " " + binary[static_cast<int>(e.binary_op)] + " " + dump(*e.operands[1]) + ")";
    case Expr::Kind::In: {
      std::string s = "(" + dump(*e.operands[0]) + " in";
      for (size_t i = 1; i < e.operands.size(); ++i) s += " " + dump(*e.operands[i]);
      return s + ")";
    }
    case Expr::Kind::If:
      return "(if " + dump(*e.operands[0]) + " " + dump(*e.operands[1]) + " " + dump(*e.operands[2]) + ")";
    case Expr::Kind::Call: {
      std::string s = e.text + "(";
      for (size_t i = 0; i < e.operands.size(); ++i)
        s += (i ? ", " : "") + (e.arg_names[i].empty() ? "" : e.arg_names[i] + " = ") + dump(*e.operands[i]);
      return s + ")";
    }
  }
  return "?";
}

struct Parsed {
  std::optional<flow::ast::Program> program;
  std::string diagnostics;
};

Parsed parse(const std::string& text) {
  flow::SourceFile file("t.flow", text);
  flow::Diagnostics diagnostics;
  Parsed p;
  p.program = flow::parse_program(file, diagnostics);
  if (diagnostics.has_errors()) p.program.reset();
  p.diagnostics = flow::render_all(diagnostics, file);
  return p;
}

// The expression of `filter EXPR` in a one-flow program, dumped.
std::string filter_expr(const std::string& expr) {
  Parsed p = parse("s | filter " + expr + "\n");
  INFO(p.diagnostics);
  REQUIRE(p.program);
  REQUIRE(p.program->flows.size() == 1);
  return dump(*p.program->flows[0].stages[0].filter.predicate);
}

}  // namespace

TEST_CASE("parser: every program of language.md parses") {
  std::ifstream in(std::string(FLOW_SOURCE_DIR) + "/tests/fuzz/corpus/language_0.flow");
  REQUIRE(in.good());
  for (const auto& entry : std::filesystem::directory_iterator(std::string(FLOW_SOURCE_DIR) + "/tests/fuzz/corpus")) {
    std::ifstream file(entry.path());
    std::stringstream text;
    text << file.rdbuf();
    Parsed p = parse(text.str());
    INFO(entry.path().string());
    INFO(p.diagnostics);
    CHECK(p.program.has_value());
  }
}

TEST_CASE("parser: operator precedence follows language.md section 5") {
  CHECK(filter_expr("a + b * c") == "(a + (b * c))");
  CHECK(filter_expr("a - b - c") == "((a - b) - c)");
  CHECK(filter_expr("a ?? b or c") == "(a ?? (b or c))");
  CHECK(filter_expr("a or b and c") == "(a or (b and c))");
  CHECK(filter_expr("not a == b and c") == "((not (a == b)) and c)");
  CHECK(filter_expr("-a * b") == "((-a) * b)");
  CHECK(filter_expr("a % b / c") == "((a % b) / c)");
  CHECK(filter_expr("x in (1, 2, 3) and y") == "((x in 1 2 3) and y)");
  CHECK(filter_expr("(a + b) * c") == "((a + b) * c)");
  CHECK(filter_expr("if a > 1 then \"x\" else \"y\"") == "(if (a > 1) \"x\" \"y\")");
  CHECK(filter_expr("p.order_id == null") == "(p.order_id == null)");
  CHECK(filter_expr("contains(lower(s), \"a\")") == "contains(lower(s), \"a\")");
}

TEST_CASE("parser: literals") {
  CHECK(filter_expr("x == -9223372036854775808") == "(x == -9223372036854775808)");
  CHECK(filter_expr("x == 250ms + 10s + 5m + 2h + 1d") == "(x == ((((250ms + 10000ms) + 300000ms) + 7200000ms) + 86400000ms))");
  CHECK(filter_expr("x == 1e-3") == "(x == 0.001)");
  CHECK(filter_expr("x == \"a\\\"b\\\\c\"") == "(x == \"a\"b\\c\")");
  Parsed p = parse("s | filter x == 9223372036854775808\n");
  CHECK_FALSE(p.program);
  CHECK(p.diagnostics.find("error[E0102]: number `9223372036854775808` is out of range") != std::string::npos);
}

TEST_CASE("parser: a syntax error says what was expected, where") {
  Parsed p = parse("schema Bid { price: f64 }\nbids\n| filter price >\n| sink stdout()\n");
  CHECK_FALSE(p.program);
  CHECK(p.diagnostics.find("error[E0101]: expected an expression, found `|`") != std::string::npos);
  CHECK(p.diagnostics.find("t.flow:4:1") != std::string::npos);
}

TEST_CASE("parser: import names a module of dotted words") {
  Parsed p = parse("import std.nexmark\nimport a.b.c\nbid | sink stdout()\n");
  INFO(p.diagnostics);
  REQUIRE(p.program);
  REQUIRE(p.program->imports.size() == 2);
  CHECK(p.program->imports[0].module.text == "std.nexmark");
  CHECK(p.program->imports[1].module.text == "a.b.c");
  Parsed keyword = parse("import\nschema A { x: i64 }\n");
  CHECK_FALSE(keyword.program);
  CHECK(keyword.diagnostics.find("error[E0101]: expected a module name (`std.nexmark`), found `schema`") != std::string::npos);
  Parsed reserved = parse("import = 1\n");  // `import` is reserved: no stream of that name
  CHECK_FALSE(reserved.program);
}

TEST_CASE("parser: errors in several items are all reported") {
  Parsed p = parse("schema A { x: i64\nschema B { y: }\nlines | map { a = }\n");
  CHECK_FALSE(p.program);
  size_t count = 0;
  for (size_t at = p.diagnostics.find("error[E0101]"); at != std::string::npos; at = p.diagnostics.find("error[E0101]", at + 1)) ++count;
  CHECK(count == 3);
}

TEST_CASE("parser: stages, clauses and declarations are kept with their parts") {
  Parsed p = parse(
      "param limit: i64 = 10\n"
      "fn net(price: f64) -> f64 = price * 0.908\n"
      "source s: T = file(input, format = csv) on error -> bad\n"
      "let big = s | filter price > 1.0\n"
      "big | flatmap w in split_words(line) { ..., word = w } | aggregate by word, k = w { n = count() } | sink stdout()\n");
  INFO(p.diagnostics);
  REQUIRE(p.program);
  const auto& program = *p.program;
  REQUIRE(program.params.size() == 1);
  CHECK(program.params[0].type.name == "i64");
  REQUIRE(program.functions.size() == 1);
  CHECK(program.functions[0].params[0].name.text == "price");
  REQUIRE(program.sources.size() == 1);
  REQUIRE(program.sources[0].on_error);
  CHECK(program.sources[0].on_error->kind == flow::ast::OnErrorClause::Kind::DeadLetter);
  CHECK(program.sources[0].on_error->stream->text == "bad");
  CHECK(program.sources[0].arg_names[1] == "format");
  REQUIRE(program.lets.size() == 1);
  REQUIRE(program.flows.size() == 1);
  const auto& stages = program.flows[0].stages;
  REQUIRE(stages.size() == 3);
  CHECK(stages[0].flatmap.keep_all);
  CHECK(stages[0].flatmap.fields[0].name.text == "word");
  CHECK(stages[1].aggregate.keys.size() == 2);
  CHECK(stages[1].aggregate.keys[1].value != nullptr);
  CHECK(stages[2].sink.kind.text == "stdout");
}

TEST_CASE("parser: types as written") {
  Parsed p = parse("schema T { a: [string], b: i64?, c: [ f64? ]? }\n");
  INFO(p.diagnostics);
  REQUIRE(p.program);
  const auto& fields = p.program->schemas[0].fields;
  CHECK(fields[0].type.name.empty());
  CHECK(fields[0].type.element->name == "string");
  CHECK(fields[1].type.nullable);
  CHECK(fields[2].type.nullable);
  CHECK(fields[2].type.element->nullable);
}

TEST_CASE("parser: deep nesting is refused, not a stack overflow") {
  Parsed p = parse("s | filter " + std::string(100000, '(') + "\n");
  CHECK_FALSE(p.program);
  CHECK(p.diagnostics.find("E0104") != std::string::npos);
}
