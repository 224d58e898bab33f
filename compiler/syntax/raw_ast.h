// The parse tree that the Spirit X3 grammar fills in: shaped for X3's attribute rules (fusion
// structs, x3::variant, flat operator chains), not for later stages. lower_raw.cpp turns it
// into the ast:: tree (operator precedence, literal values, checks with diagnostics).
#pragma once

#include <boost/optional.hpp>
#include <boost/spirit/home/x3/support/ast/variant.hpp>
#include <string>
#include <vector>

#include "diagnostic.h"

namespace flow::syntax::raw {

namespace x3 = boost::spirit::x3;

// A token kept as its text and place (identifiers, keywords, operators, literals).
struct Token {
  std::string text;
  Span span;
};

struct Literal {
  enum class Kind { Int, Float, String, Bool, Null, Duration };
  Kind kind = Kind::Null;
  std::string text;  // as written (strings with their quotes and escapes)
  Span span;
};

struct Chain;
struct Call;
struct IfExpr;
struct Tuple;

// A primary expression: a literal, a name, a call, `if ... then ... else ...`, or a
// parenthesised list (one element: plain parentheses; several: the right side of `in`).
struct Primary : x3::variant<Literal, x3::forward_ast<Call>, x3::forward_ast<IfExpr>,
                             x3::forward_ast<Tuple>, Token> {
  using base_type::base_type;
  using base_type::operator=;
};

// base.field.field...
struct Postfix {
  Primary base;
  std::vector<Token> fields;
  Span span;
};

// Prefix operators (`not`, `-`) then an operand.
struct Term {
  std::vector<Token> prefixes;
  Postfix operand;
  Span span;
};

struct OpTerm {
  Token op;
  Term term;
};

// term (op term)*: every binary operator at one level; precedence is applied when lowering.
struct Chain {
  Term first;
  std::vector<OpTerm> rest;
  Span span;
};

// An argument: positional, or `name = value`.
struct Arg {
  boost::optional<Token> name;
  Chain value;
};

struct Call {
  Token name;
  std::vector<Arg> args;
  Span span;
};

struct IfExpr {
  Token keyword;
  Chain condition;
  Chain then_value;
  Chain else_value;
  Span span;
};

struct Tuple {
  Token open;
  std::vector<Chain> items;
  Span span;
};

// ------------------------------------------------------------------------------ stages

// `name`, `name = value`, or `...` (name.text == "...").
struct FieldItem {
  Token name;
  boost::optional<Chain> value;
  Span span;
};

struct FilterRaw {
  Token keyword;
  Chain predicate;
  Span span;
};

struct MapRaw {
  Token keyword;
  std::vector<FieldItem> fields;
  Span span;
};

struct FlatMapRaw {
  Token keyword;
  Token variable;
  Chain list;
  std::vector<FieldItem> fields;
  Span span;
};

struct LateRaw {
  Token keyword;
  Chain lateness;
  Token target;  // the stream name, or `drop`
  Span span;
};

struct EmitRaw {
  Token keyword;
  Token mode;  // `final` or `early`
  boost::optional<Chain> every;
  Span span;
};

struct WindowRaw {
  Call window;
  boost::optional<LateRaw> late;
};

struct AggregateRaw {
  Token keyword;
  boost::optional<Token> local;
  std::vector<FieldItem> keys;
  boost::optional<WindowRaw> window;
  boost::optional<EmitRaw> emit;
  std::vector<FieldItem> bindings;
  Span span;
};

struct WithinRaw {
  Chain low;
  Chain high;
};

struct JoinRaw {
  boost::optional<Token> left;
  Token keyword;
  boost::optional<Token> table;
  Token stream;
  Token alias;
  Chain condition;
  boost::optional<WithinRaw> within;
  boost::optional<Call> window;
  Span span;
};

struct SplitBranch {
  Token keyword;  // `when` or `else`
  boost::optional<Chain> condition;
  Token target;
  Span span;
};

struct SplitRaw {
  Token keyword;
  std::vector<SplitBranch> branches;
  Span span;
};

struct SinkRaw {
  Token keyword;
  Call target;
  Span span;
};

// `partition by KEYS`, `rebalance` or `rescale` (keys empty): which instance a record goes on at.
struct PartitionRaw {
  Token keyword;
  std::vector<FieldItem> keys;
  Span span;
};

struct StageRaw : x3::variant<FilterRaw, MapRaw, FlatMapRaw, AggregateRaw, JoinRaw, SplitRaw, SinkRaw, PartitionRaw> {
  using base_type::base_type;
  using base_type::operator=;
};

struct OriginRaw {
  boost::optional<Token> merge;
  std::vector<Token> names;  // one name, or the merged ones
  Span span;
};

// `@parallel(N)` in front of a stage.
struct ParallelRaw {
  Token keyword;  // `@parallel`
  Token count;
  Span span;
};

struct AnnotatedStageRaw {
  boost::optional<ParallelRaw> parallel;
  StageRaw stage;
  Span span;
};

struct FlowRaw {
  OriginRaw origin;
  std::vector<AnnotatedStageRaw> stages;
  Span span;
};

// ------------------------------------------------------------------------------ declarations

struct TypeText {  // the type as written, decoded when lowering
  std::string text;
  Span span;
};

struct SchemaFieldRaw {
  Token name;
  TypeText type;
};

struct SchemaRaw {
  Token keyword;
  Token name;
  std::vector<SchemaFieldRaw> fields;
  Span span;
};

struct ParamRaw {
  Token keyword;
  Token name;
  TypeText type;
  boost::optional<Chain> default_value;
  Span span;
};

struct WatermarkRaw {
  Token mode;  // `ascending` or `lag`
  boost::optional<Chain> lag;
};

struct TimeRaw {
  Token keyword;
  Token what;  // a field name, `ingestion` or `processing`
  boost::optional<WatermarkRaw> watermark;
  boost::optional<Chain> idle;
  Span span;
};

struct OnErrorRaw {
  Token keyword;
  Token policy;  // `fail`, `skip`, or `-> name` as one token
  Span span;
};

struct SourceRaw {
  Token keyword;  // `source` or `table`
  Token name;
  Token schema;
  Call connector;
  boost::optional<TimeRaw> time;
  boost::optional<OnErrorRaw> on_error;
  Span span;
};

struct FnParamRaw {
  Token name;
  TypeText type;
};

struct FnRaw {
  Token keyword;
  Token name;
  std::vector<FnParamRaw> params;
  boost::optional<TypeText> result;
  Chain body;
  Span span;
};

struct LetRaw {
  Token keyword;
  Token name;
  FlowRaw flow;
  Span span;
};

// import std.nexmark
struct ImportRaw {
  Token keyword;
  Token module;  // the dotted name, as written
  Span span;
};

struct ItemRaw : x3::variant<ImportRaw, SchemaRaw, ParamRaw, SourceRaw, FnRaw, LetRaw, FlowRaw> {
  using base_type::base_type;
  using base_type::operator=;
};

}  // namespace flow::syntax::raw
