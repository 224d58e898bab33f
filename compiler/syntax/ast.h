// The syntax tree of a .flow program as written: every node keeps the span of its text so
// that later stages can point at it. No names are resolved and no types are known here.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "diagnostic.h"

namespace flow::ast {

// An identifier with its place.
struct Name {
  std::string text;
  Span span;
};

// A type as written: `i64`, `string?`, `[string]`, `[i64?]?`.
struct TypeRef {
  Span span;
  std::string name;                  // "bool", "i64", ..., or "" for a list
  std::shared_ptr<TypeRef> element;  // the element type of a list
  bool nullable = false;
};

enum class UnaryOp { Not, Negate };
enum class BinaryOp { Coalesce, Or, And, Eq, Ne, Lt, Le, Gt, Ge, Add, Sub, Mul, Div, Mod };

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

// One expression node. `kind` says which members are meaningful:
//   Int/Float/String/Bool/Null/Duration literals: int_value (also the duration in ms),
//     float_value, text (string literal after unescaping), bool_value;
//   Name: text;  Field (`a.b`): operands[0] is `a`, text is `b`, name_span its place;
//   Unary: unary_op, operands[0];  Binary: binary_op, operands[0..1];
//   In (`x in (a, b)`): operands[0] is x, the rest the candidates;
//   If: operands = condition, then, else;
//   Call (`f(a, b = c)`): text is the function name at name_span, operands the arguments,
//     arg_names[i] the name of a named argument or "" (same size as operands).
struct Expr {
  enum class Kind { Int, Float, String, Bool, Null, Duration, Name, Field, Unary, Binary, In, If, Call };
  Kind kind = Kind::Null;
  Span span;
  int64_t int_value = 0;
  double float_value = 0;
  bool bool_value = false;
  std::string text;
  Span name_span;
  UnaryOp unary_op = UnaryOp::Not;
  BinaryOp binary_op = BinaryOp::Add;
  std::vector<ExprPtr> operands;
  std::vector<std::string> arg_names;
};

// --------------------------------------------------------------------------- stages

// `name = EXPR`, or the shorthand `name` (value is then null and means "the field `name`").
struct FieldBinding {
  Name name;
  ExprPtr value;
  Span span;
};

struct FilterStage {
  ExprPtr predicate;
};

// map { ..., name = EXPR, other }
struct MapStage {
  bool keep_all = false;  // `...` present
  Span keep_all_span;
  std::vector<FieldBinding> fields;
};

// flatmap x in LIST { ..., word = x }
struct FlatMapStage {
  Name variable;
  ExprPtr list;
  bool keep_all = false;
  Span keep_all_span;
  std::vector<FieldBinding> fields;
};

struct WindowSpec {  // tumbling(10s), sliding(10s, every = 2s), session(gap = 30m), ...
  Name kind;
  std::vector<ExprPtr> args;
  std::vector<std::string> arg_names;
  Span span;
};

struct LateClause {  // late 30s -> name | late 30s drop
  ExprPtr lateness;
  std::optional<Name> stream;  // absent means drop
  Span span;
};

struct EmitClause {  // emit final | emit early every 1s
  bool final = false;
  ExprPtr every;
  Span span;
};

// aggregate [local] [by KEYS] [over WINDOW [late ...]] [emit ...] { name = AGG(...), ... }
// The bindings' values are calls of aggregate functions (checked by sema).
struct AggregateStage {
  bool local = false;
  Span local_span;
  std::vector<FieldBinding> keys;  // `by auction` (shorthand) or `by campaign = c.campaign_id`
  std::optional<WindowSpec> window;
  std::optional<LateClause> late;
  std::optional<EmitClause> emit;
  std::vector<FieldBinding> bindings;
};

// [left] join [table] STREAM as ALIAS on EXPR (within LO .. HI | over WINDOW)?
struct JoinStage {
  bool left = false;
  bool table = false;
  Name stream;
  Name alias;
  ExprPtr condition;
  ExprPtr within_low, within_high;
  std::optional<WindowSpec> window;
};

struct SplitStage {
  struct Branch {
    ExprPtr condition;  // null for `else`
    Name target;
    Span span;
  };
  std::vector<Branch> branches;
};

// sink stdout() | sink file(PATH, format = csv) | sink null()
struct SinkStage {
  Name kind;
  std::vector<ExprPtr> args;
  std::vector<std::string> arg_names;
};

// partition by KEYS | rebalance | rescale: which parallel instance runs the stages after it.
struct PartitionStage {
  enum class Mode { ByKeys, Rebalance, Rescale };
  Mode mode = Mode::ByKeys;
  std::vector<FieldBinding> keys;  // ByKeys: `by k` (shorthand) or `by user = lower(name)`
};

struct Stage {
  enum class Kind { Filter, Map, FlatMap, Aggregate, Join, Split, Sink, Partition };
  Kind kind = Kind::Filter;
  Span span;          // the whole stage, from its keyword
  Span keyword_span;  // just the keyword (`filter`, `aggregate`, ...)
  FilterStage filter;
  MapStage map;
  FlatMapStage flatmap;
  AggregateStage aggregate;
  JoinStage join;
  SplitStage split;
  SinkStage sink;
  PartitionStage partition;
  std::optional<int64_t> parallel;  // `@parallel(N)` in front of it
  Span parallel_span;
};

// The start of a flow: a stream name, or merge(a, b, ...).
struct FlowOrigin {
  Span span;
  Name name;                 // when not a merge
  bool merge = false;
  std::vector<Name> merged;  // when a merge
};

struct Flow {
  FlowOrigin origin;
  std::vector<Stage> stages;
  Span span;
};

// --------------------------------------------------------------------------- declarations

struct SchemaField {
  Name name;
  TypeRef type;
};

struct SchemaDecl {
  Name name;
  std::vector<SchemaField> fields;
  Span span;
};

struct ParamDecl {
  Name name;
  TypeRef type;
  ExprPtr default_value;  // may be null: then --param is required
  Span span;
};

// The `time ...` clause of a source (parsed now, supported by a later issue).
struct TimeClause {
  enum class Kind { EventLag, EventAscending, Ingestion, Processing };
  Kind kind = Kind::EventLag;
  std::optional<Name> field;
  ExprPtr lag;
  ExprPtr idle;
  Span span;
};

struct OnErrorClause {
  enum class Kind { Fail, Skip, DeadLetter };
  Kind kind = Kind::Fail;
  std::optional<Name> stream;  // for DeadLetter
  Span span;
};

// source NAME: SCHEMA = CONNECTOR(args) [time ...] [on error ...]
// table  NAME: SCHEMA = CONNECTOR(args)
struct SourceDecl {
  bool is_table = false;
  Name name;
  Name schema;
  Name connector;  // `file`
  std::vector<ExprPtr> args;
  std::vector<std::string> arg_names;
  Span args_span;
  std::optional<TimeClause> time;
  std::optional<OnErrorClause> on_error;
  Span span;
};

struct FnParam {
  Name name;
  TypeRef type;
};

// fn NAME(p: T, ...) -> T = EXPR
struct FnDecl {
  Name name;
  std::vector<FnParam> params;
  std::optional<TypeRef> result;
  ExprPtr body;
  Span span;
};

// let NAME = FLOW (without a sink)
struct LetDecl {
  Name name;
  Flow flow;
  Span span;
};

// import std.nexmark: declares the module's schemas and lets sources use its generators.
struct ImportDecl {
  Name module;
  Span span;
};

struct Program {
  std::vector<ImportDecl> imports;
  std::vector<SchemaDecl> schemas;
  std::vector<ParamDecl> params;
  std::vector<SourceDecl> sources;  // sources and tables, in order
  std::vector<FnDecl> functions;
  std::vector<LetDecl> lets;
  std::vector<Flow> flows;  // top-level flows, in order
};

}  // namespace flow::ast
