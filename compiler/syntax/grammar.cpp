// The Boost.Spirit X3 grammar of .flow and the item-by-item parse loop with error recovery.
// This is the only translation unit that instantiates X3 (it is slow to compile); it fills in
// the raw parse tree of raw_ast.h, which lower_raw.cpp turns into the ast:: tree.
#include <boost/fusion/include/adapt_struct.hpp>
#include <boost/spirit/home/x3.hpp>
#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>

#include "grammar.h"

// clang-format off
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::Postfix, base, fields)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::Term, prefixes, operand)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::OpTerm, op, term)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::Chain, first, rest)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::Arg, name, value)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::Call, name, args)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::IfExpr, keyword, condition, then_value, else_value)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::Tuple, open, items)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::FieldItem, name, value)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::FilterRaw, keyword, predicate)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::MapRaw, keyword, fields)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::FlatMapRaw, keyword, variable, list, fields)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::LateRaw, keyword, lateness, target)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::EmitRaw, keyword, mode, every)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::WindowRaw, window, late)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::AggregateRaw, keyword, local, keys, window, emit, bindings)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::WithinRaw, low, high)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::JoinRaw, left, keyword, table, stream, alias, condition, within, window)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::SplitBranch, keyword, condition, target)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::SplitRaw, keyword, branches)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::SinkRaw, keyword, target)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::PartitionRaw, keyword, keys)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::ParallelRaw, keyword, count)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::AnnotatedStageRaw, parallel, stage)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::OriginRaw, merge, names)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::FlowRaw, origin, stages)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::SchemaFieldRaw, name, type)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::SchemaRaw, keyword, name, fields)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::ParamRaw, keyword, name, type, default_value)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::WatermarkRaw, mode, lag)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::TimeRaw, keyword, what, watermark, idle)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::OnErrorRaw, keyword, policy)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::SourceRaw, keyword, name, schema, connector, time, on_error)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::FnParamRaw, name, type)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::FnRaw, keyword, name, params, result, body)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::LetRaw, keyword, name, flow)
BOOST_FUSION_ADAPT_STRUCT(flow::syntax::raw::ImportRaw, keyword, module)
// clang-format on

namespace flow::syntax::grammar {

namespace x3 = boost::spirit::x3;
using namespace raw;

struct begin_tag;  // the start of the source text, to turn iterators into byte offsets

Span span_of(const char* begin, const char* first, const char* last) {
  return Span{static_cast<uint32_t>(first - begin), static_cast<uint32_t>(last - begin)};
}

// Rules whose attribute has a `span` member get it filled in when they match.
struct annotate {
  template <typename Iterator, typename Attribute, typename Context>
  void on_success(Iterator const& first, Iterator const& last, Attribute& attribute,
                  Context const& context) {
    if constexpr (requires { attribute.span; }) {
      const char* begin = x3::get<begin_tag>(context);
      attribute.span = span_of(begin, first, last);
    }
  }
};

// ------------------------------------------------------------------------ lexical helpers

const auto id_start = x3::char_("a-zA-Z_");
const auto id_char = x3::char_("a-zA-Z0-9_");
const auto digit = x3::char_("0-9");
const auto skipper = x3::char_(" \t\r\n\f\v") | x3::lexeme['#' >> *(x3::char_ - x3::char_("\n"))];

bool is_reserved(const std::string& word) {
  static const char* const reserved[] = {
      "schema", "param", "source", "table", "fn",   "let",  "filter", "map",  "flatmap",
      "aggregate", "join", "left", "split", "sink", "merge", "and",   "or",   "not",
      "in",     "if",    "then",  "else",  "true", "false", "null", "import"};
  for (const char* r : reserved)
    if (word == r) return true;
  return false;
}

auto const make_token = [](auto& context) {
  auto const& range = x3::_attr(context);
  Token& token = x3::_val(context);
  token.text.assign(range.begin(), range.end());
  token.span = span_of(x3::get<begin_tag>(context), &*range.begin(), &*range.begin() + range.size());
};

auto const make_identifier = [](auto& context) {
  make_token(context);
  x3::_pass(context) = !is_reserved(x3::_val(context).text);
};

auto const make_type_text = [](auto& context) {
  auto const& range = x3::_attr(context);
  TypeText& type = x3::_val(context);
  type.text.assign(range.begin(), range.end());
  type.span = span_of(x3::get<begin_tag>(context), &*range.begin(), &*range.begin() + range.size());
};

auto literal_of(Literal::Kind kind) {
  return [kind](auto& context) {
    auto const& range = x3::_attr(context);
    Literal& literal = x3::_val(context);
    literal.kind = kind;
    literal.text.assign(range.begin(), range.end());
    literal.span =
        span_of(x3::get<begin_tag>(context), &*range.begin(), &*range.begin() + range.size());
  };
}

template <size_t N>
auto keyword(char const (&word)[N]) {
  return x3::lexeme[x3::lit(word) >> !id_char];
}

// A keyword kept as a Token (for its span). Named by the word, so an expectation failure
// says "expected `then`".
template <size_t N>
auto keyword_token(char const (&word)[N]) {
  return x3::rule<struct keyword_token_id, Token>{word} = x3::raw[keyword(word)][make_token];
}

// A keyword with no attribute, named like keyword_token.
template <size_t N>
auto keyword_named(char const (&word)[N]) {
  return x3::rule<struct keyword_named_id>{word} = keyword(word);
}

template <size_t N>
auto symbol_token(char const (&text)[N]) {
  return x3::rule<struct symbol_token_id, Token>{text} = x3::raw[x3::lit(text)][make_token];
}

// ------------------------------------------------------------------------ rules

struct identifier_id;
struct literal_id;
struct binary_op_id;
struct prefix_op_id;
struct primary_id : annotate {};
struct postfix_id : annotate {};
struct term_id : annotate {};
struct chain_id : annotate {};
struct optional_chain_id;
struct arg_id;
struct call_id : annotate {};
struct if_id : annotate {};
struct tuple_id : annotate {};
struct field_item_id : annotate {};
struct field_list_id;
struct filter_id : annotate {};
struct map_id : annotate {};
struct flatmap_id : annotate {};
struct late_id : annotate {};
struct emit_id : annotate {};
struct window_id;
struct aggregate_id : annotate {};
struct within_id;
struct join_id : annotate {};
struct split_branch_id : annotate {};
struct split_id : annotate {};
struct sink_id : annotate {};
struct partition_id : annotate {};
struct redistribute_id : annotate {};
struct parallel_id : annotate {};
struct annotated_stage_id : annotate {};
struct stage_id;
struct origin_id : annotate {};
struct flow_id : annotate {};
struct type_syntax_id;
struct type_text_id;
struct schema_field_id;
struct schema_id : annotate {};
struct param_id : annotate {};
struct watermark_id;
struct time_id : annotate {};
struct on_error_id : annotate {};
struct source_id : annotate {};
struct fn_param_id;
struct fn_id : annotate {};
struct let_id : annotate {};
struct import_id : annotate {};
struct module_name_id : annotate {};
struct item_id;

x3::rule<identifier_id, Token> const identifier = "a name";
x3::rule<literal_id, Literal> const literal = "a literal";
x3::rule<binary_op_id, Token> const binary_op = "an operator";
x3::rule<prefix_op_id, Token> const prefix_op = "an operator";
x3::rule<primary_id, Primary> const primary = "an expression";
x3::rule<postfix_id, Postfix> const postfix = "an expression";
x3::rule<term_id, Term> const term = "an expression";
x3::rule<chain_id, Chain> const expression = "an expression";
x3::rule<optional_chain_id, boost::optional<Chain>> const optional_expression = "an expression";
x3::rule<arg_id, Arg> const arg = "an argument";
x3::rule<call_id, Call> const call = "a call such as `file(\"x.csv\", format = csv)`";
x3::rule<if_id, IfExpr> const if_expr = "`if`";
x3::rule<tuple_id, Tuple> const tuple = "`(`";
x3::rule<field_item_id, FieldItem> const field_item = "a field (`name`, `name = expression` or `...`)";
x3::rule<field_list_id, std::vector<FieldItem>> const field_list = "`{`";
x3::rule<filter_id, FilterRaw> const filter_stage = "`filter`";
x3::rule<map_id, MapRaw> const map_stage = "`map`";
x3::rule<flatmap_id, FlatMapRaw> const flatmap_stage = "`flatmap`";
x3::rule<late_id, LateRaw> const late_clause = "`late`";
x3::rule<emit_id, EmitRaw> const emit_clause = "`emit`";
x3::rule<window_id, WindowRaw> const window_clause = "`over`";
x3::rule<aggregate_id, AggregateRaw> const aggregate_stage = "`aggregate`";
x3::rule<within_id, WithinRaw> const within_clause = "`within`";
x3::rule<join_id, JoinRaw> const join_stage = "`join`";
x3::rule<split_branch_id, SplitBranch> const split_branch = "`when` or `else`";
x3::rule<split_id, SplitRaw> const split_stage = "`split`";
x3::rule<sink_id, SinkRaw> const sink_stage = "`sink`";
x3::rule<partition_id, PartitionRaw> const partition_stage = "`partition`";
x3::rule<redistribute_id, PartitionRaw> const redistribute_stage = "`rebalance` or `rescale`";
x3::rule<parallel_id, ParallelRaw> const parallel_annotation = "`@parallel(N)`";
x3::rule<annotated_stage_id, AnnotatedStageRaw> const annotated_stage = "a stage";
x3::rule<stage_id, StageRaw> const stage =
    "a stage (`filter`, `map`, `flatmap`, `aggregate`, `join`, `split`, `sink`, `partition by`, `rebalance` or `rescale`)";
x3::rule<origin_id, OriginRaw> const origin = "a stream name";
x3::rule<flow_id, FlowRaw> const flow = "a flow";
x3::rule<type_syntax_id> const type_syntax = "a type";
x3::rule<type_text_id, TypeText> const type_text = "a type";
x3::rule<schema_field_id, SchemaFieldRaw> const schema_field = "a field (`name: type`)";
x3::rule<schema_id, SchemaRaw> const schema_decl = "`schema`";
x3::rule<param_id, ParamRaw> const param_decl = "`param`";
x3::rule<watermark_id, WatermarkRaw> const watermark_clause = "`watermark`";
x3::rule<time_id, TimeRaw> const time_clause = "`time`";
x3::rule<on_error_id, OnErrorRaw> const on_error_clause = "`on error`";
x3::rule<source_id, SourceRaw> const source_decl = "`source`";
x3::rule<fn_param_id, FnParamRaw> const fn_param = "a parameter (`name: type`)";
x3::rule<fn_id, FnRaw> const fn_decl = "`fn`";
x3::rule<let_id, LetRaw> const let_decl = "`let`";
x3::rule<module_name_id, Token> const module_name = "a module name (`std.nexmark`)";
x3::rule<import_id, ImportRaw> const import_decl = "`import`";
x3::rule<item_id, ItemRaw> const item = "a declaration or a flow";

// clang-format off
auto const identifier_def = x3::raw[x3::lexeme[id_start >> *id_char]][make_identifier];

auto const exponent = x3::char_("eE") >> -x3::char_("+-") >> +digit;
auto const literal_def =
    x3::raw[x3::lexeme[+digit >> (x3::lit("ms") | 's' | 'm' | 'h' | 'd') >> !id_char]][literal_of(Literal::Kind::Duration)]
  | x3::raw[x3::lexeme[+digit >> (('.' >> +digit >> -exponent) | exponent) >> !id_char]][literal_of(Literal::Kind::Float)]
  | x3::raw[x3::lexeme[+digit >> !id_char]][literal_of(Literal::Kind::Int)]
  | x3::raw[x3::lexeme['"' >> *(('\\' > x3::char_("\"\\nt")) | (x3::char_ - x3::char_("\"\\\n"))) > '"']][literal_of(Literal::Kind::String)]
  | x3::raw[keyword("true") | keyword("false")][literal_of(Literal::Kind::Bool)]
  | x3::raw[keyword("null")][literal_of(Literal::Kind::Null)];

auto const binary_op_def = x3::raw[
    x3::lit("??") | keyword("or") | keyword("and") | "==" | "!=" | "<=" | ">=" | '<' | '>'
  | '+' | (x3::lit('-') >> !x3::lit('>')) | '*' | '/' | '%' | keyword("in")][make_token];
auto const prefix_op_def = x3::raw[keyword("not") | (x3::lit('-') >> !x3::lit('>'))][make_token];

// The lookahead keeps a positional argument that starts with a name (`lower(line)`) from
// being taken as a named one.
auto const arg_def = -(&(identifier >> '=' >> !x3::lit('=')) >> identifier >> '=') >> expression;
auto const call_def = identifier >> '(' >> -(arg % ',') > ')';
auto const if_expr_def = keyword_token("if") > expression > keyword("then") > expression > keyword("else") > expression;
auto const tuple_def = symbol_token("(") > (expression % ',') > ')';
auto const primary_def = literal | if_expr | call | tuple | identifier;
auto const postfix_def = primary >> *('.' >> identifier);
auto const term_def = *prefix_op >> postfix;
auto const expression_def = term >> *(binary_op > term);
auto const optional_expression_def = expression;

auto const field_item_def = (symbol_token("...") | identifier) >> -('=' > expression);
auto const field_list_def = x3::lit('{') > -(field_item % ',') > -x3::lit(',') > '}';

auto const filter_stage_def = keyword_token("filter") > expression;
auto const map_stage_def = keyword_token("map") > field_list;
auto const flatmap_stage_def = keyword_token("flatmap") > identifier > keyword("in") > expression > field_list;
auto const late_clause_def = keyword_token("late") > expression > ((x3::lit("->") > identifier) | keyword_token("drop"));
auto const emit_clause_def = keyword_token("emit") > (keyword_token("final") | keyword_token("early")) >> -(keyword("every") > expression);
auto const window_clause_def = keyword("over") > call >> -late_clause;
auto const aggregate_stage_def = keyword_token("aggregate") >> -keyword_token("local")
    >> -(keyword("by") > (field_item % ',')) >> -window_clause >> -emit_clause > field_list;
auto const within_clause_def = keyword("within") > expression > ".." > expression;
auto const join_stage_def = -keyword_token("left") >> keyword_token("join") > -keyword_token("table")
    > identifier > keyword("as") > identifier > keyword("on") > expression
    >> -within_clause >> -(keyword("over") > call);
auto const split_branch_def = (keyword_token("when") | keyword_token("else"))
    >> -(!x3::lit("->") >> expression) > "->" > identifier;
auto const split_stage_def = keyword_token("split") > '{' > *split_branch > '}';
// `null` is reserved, but `sink null()` names the null sink.
auto const sink_call = x3::rule<struct sink_call_id, Call>{"a sink such as `stdout()`, `file(\"out.csv\", format = csv)` or `null()`"} =
    (identifier | keyword_token("null")) > '(' > -(arg % ',') > ')';
auto const sink_stage_def = keyword_token("sink") > sink_call;
// Not reserved words: a field may still be called `partition`; no stage starts with a name.
auto const partition_stage_def = keyword_token("partition") > keyword_named("by") > (field_item % ',');
auto const redistribute_stage_def = (keyword_token("rebalance") | keyword_token("rescale")) >> x3::attr(std::vector<FieldItem>{});
auto const stage_def = filter_stage | map_stage | flatmap_stage | aggregate_stage | join_stage
                     | split_stage | sink_stage | partition_stage | redistribute_stage;

auto const origin_def = -keyword_token("merge") >> ((x3::lit('(') > (identifier % ',') > ')') | x3::repeat(1)[identifier]);
auto const at_parallel = x3::rule<struct at_parallel_id, Token>{"`@parallel`"} =
    x3::raw[x3::lexeme[x3::lit('@') >> keyword("parallel")]][make_token];
auto const instance_count = x3::rule<struct instance_count_id, Token>{"a number of instances"} =
    x3::raw[x3::lexeme[+digit]][make_token];
auto const parallel_annotation_def = at_parallel > '(' > instance_count > ')';
auto const annotated_stage_def = -parallel_annotation >> stage;
auto const flow_def = origin >> *('|' > annotated_stage);

auto const type_syntax_def = (('[' > type_syntax > ']') | x3::lexeme[id_start >> *id_char]) >> -x3::lit('?');
auto const type_text_def = x3::raw[type_syntax][make_type_text];
auto const schema_field_def = identifier > ':' > type_text;
auto const schema_decl_def = keyword_token("schema") > identifier > '{' > -(schema_field % ',') > -x3::lit(',') > '}';
auto const param_decl_def = keyword_token("param") > identifier > ':' > type_text >> -('=' > expression);
auto const watermark_clause_def = keyword("watermark") >
    ((keyword_token("ascending") >> x3::attr(boost::optional<Chain>()))
   | (keyword_token("lag") > optional_expression));
auto const time_clause_def = keyword_token("time") > identifier >> -watermark_clause >> -(keyword("idle") > expression);
// `-> name` is kept as one token ("-> bad"); lowering splits it.
auto const dead_letter_target = x3::rule<struct dead_letter_id, Token>{"`->`"} =
    x3::raw[x3::lit("->") > (x3::rule<struct stream_name_id>{"a stream name"} = x3::lexeme[id_start >> *id_char])][make_token];
auto const on_error_clause_def = keyword_token("on") >> keyword("error") >
    (keyword_token("fail") | keyword_token("skip") | dead_letter_target);
auto const source_decl_def = (keyword_token("source") | keyword_token("table")) > identifier > ':' > identifier
    > '=' > call >> -time_clause >> -on_error_clause;
auto const fn_param_def = identifier > ':' > type_text;
auto const fn_decl_def = keyword_token("fn") > identifier > '(' > -(fn_param % ',') > ')'
    >> -("->" > type_text) > '=' > expression;
auto const let_decl_def = keyword_token("let") > identifier > '=' > flow;
auto const module_name_def = x3::raw[x3::lexeme[id_start >> *id_char >> *(x3::lit(".") >> id_start >> *id_char)]][make_identifier];
auto const import_decl_def = keyword_token("import") > module_name;
auto const item_def = import_decl | schema_decl | param_decl | source_decl | fn_decl | let_decl | flow;
// clang-format on

BOOST_SPIRIT_DEFINE(identifier, literal, binary_op, prefix_op, primary,
                    postfix, term, expression, optional_expression, arg, call, if_expr, tuple,
                    field_item, field_list, filter_stage, map_stage, flatmap_stage, late_clause,
                    emit_clause, window_clause, aggregate_stage, within_clause, join_stage,
                    split_branch, split_stage, sink_stage, partition_stage, redistribute_stage, parallel_annotation,
                    annotated_stage, stage, origin, flow, type_syntax,
                    type_text, schema_field, schema_decl, param_decl, watermark_clause,
                    time_clause, on_error_clause, source_decl, fn_param, fn_decl, let_decl, module_name, import_decl, item)

// ------------------------------------------------------------------------ the parse loop

// What an expectation failure names, as a user reads it: 'x' becomes `x`.
std::string describe_expected(const std::string& which) {
  if (which.size() >= 2 && which.front() == '\'' && which.back() == '\'')
    return "`" + which.substr(1, which.size() - 2) + "`";
  if (which.size() >= 2 && which.front() == '"' && which.back() == '"')
    return "`" + which.substr(1, which.size() - 2) + "`";
  bool one_word = !which.empty();
  for (char c : which) one_word = one_word && (std::isalpha(static_cast<unsigned char>(c)) != 0);
  if (one_word) return "`" + which + "`";
  if (which.find("lexeme") != std::string::npos || which.find("sequence") != std::string::npos)
    return "more input";
  return which;
}

std::string fmt_byte(unsigned char c) {
  static const char* hex = "0123456789abcdef";
  std::string s = "byte 0x";
  s += hex[c >> 4];
  s += hex[c & 15];
  return s;
}

// Moves past blanks and comments, so that an error points at the next real token.
const char* skip_blanks(const char* p, const char* end) {
  while (p != end) {
    if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == '\f' || *p == '\v') {
      ++p;
    } else if (*p == '#') {
      while (p != end && *p != '\n') ++p;
    } else {
      break;
    }
  }
  return p;
}

// The token at `at`, for "found `x`" (a word, a number, or one character).
std::string describe_found(const char* at, const char* end) {
  if (at == end) return "end of file";
  const char* p = at;
  auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (is_word(*p)) {
    while (p != end && is_word(*p) && p - at < 40) ++p;
  } else {
    ++p;
  }
  std::string text(at, p);
  if (text == "\n") return "end of line";
  unsigned char c = static_cast<unsigned char>(text[0]);
  if (c < 0x20 || c >= 0x7f) return fmt_byte(c);
  return "`" + text + "`";
}

// After an error, skip to the next line that starts a new item: a letter or `_` in column 1.
const char* resynchronise(const char* item_start, const char* from, const char* end) {
  // The error may sit at the start of the next item already (a missing `}`).
  if (from > item_start && from[-1] == '\n' && from != end && (std::isalpha(static_cast<unsigned char>(*from)) || *from == '_'))
    return from;
  const char* p = from;
  while (p != end) {
    const char* newline = static_cast<const char*>(memchr(p, '\n', end - p));
    if (!newline) return end;
    p = newline + 1;
    if (p != end && (std::isalpha(static_cast<unsigned char>(*p)) || *p == '_')) return p;
  }
  return end;
}

uint32_t offset(const char* begin, const char* at) { return static_cast<uint32_t>(at - begin); }

std::vector<ItemRaw> parse_items(const SourceFile& file, Diagnostics& diagnostics) {
  std::vector<ItemRaw> items;
  const char* const begin = file.text().data();
  const char* const end = begin + file.text().size();
  const char* position = begin;
  auto const parser = x3::with<begin_tag>(begin)[item];
  while (true) {
    x3::phrase_parse(position, end, x3::eps, skipper);  // skip blanks and comments
    if (position == end) break;
    const char* item_start = position;
    try {
      ItemRaw parsed;
      if (x3::phrase_parse(position, end, parser, skipper, parsed) && position != item_start) {
        items.push_back(std::move(parsed));
        continue;
      }
      position = item_start;
      diagnostics.error("E0101", Span{offset(begin, position), offset(begin, position) + 1},
                        "expected a declaration or a flow, found " + describe_found(position, end),
                        "expected `import`, `schema`, `param`, `source`, `table`, `fn`, `let` or a stream name");
    } catch (const x3::expectation_failure<const char*>& failure) {
      const char* where = skip_blanks(failure.where(), end);
      std::string expected = describe_expected(failure.which());
      uint32_t at = offset(begin, where);
      diagnostics.error("E0101", Span{at, at + 1},
                        "expected " + expected + ", found " + describe_found(where, end),
                        "expected " + expected + " here");
      position = where;
    }
    position = resynchronise(item_start, std::max(position, item_start), end);
  }
  return items;
}

}  // namespace flow::syntax::grammar
