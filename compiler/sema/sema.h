// The sema stage: ast::Program -> CheckedProgram. Resolves names, checks types, inlines `fn`
// calls and `let` streams, expands `...` and shorthand fields, and rejects what the language
// does not allow (or does not support yet) with located diagnostics.
// Public header of compiler/sema: the typed program defined here is all that later stages see.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "compiler/syntax/syntax.h"

namespace flow::sema {

// ------------------------------------------------------------------------------- types

struct RecordType;

struct Type {
  enum class Kind { Bool, I64, F64, String, Timestamp, Duration, List, Record, Null };
  Kind kind = Kind::Null;  // Null is only the type of the literal `null`
  bool nullable = false;
  std::shared_ptr<const Type> element;        // List
  std::shared_ptr<const RecordType> record;   // Record: only as the poison type of a failed check

  static Type scalar(Kind k, bool nullable = false) { return Type{k, nullable, nullptr, nullptr}; }
  static Type list_of(Type element, bool nullable = false);
  Type as_nullable(bool n = true) const { Type t = *this; t.nullable = n; return t; }
  bool is_numeric() const { return kind == Kind::I64 || kind == Kind::F64; }
  bool operator==(const Type& o) const;  // structural, nullability included
  bool same_base(const Type& o) const;   // structural, nullability ignored at the top
};

std::string to_string(const Type& t);  // "i64", "string?", "[string]"

struct FieldDef {
  std::string name;
  Type type;
};

struct RecordType {
  std::string name;  // the schema name, or "" for a record built by a stage
  std::vector<FieldDef> fields;
  int index_of(const std::string& field) const;  // -1 if absent
  // The same field names and types, in the same order.
  bool same_fields(const RecordType& other) const;
};
using RecordPtr = std::shared_ptr<const RecordType>;

std::string to_string(const RecordType& r);  // "{ auction: i64, note: string? }"

// ------------------------------------------------------------------------------- expressions

enum class Builtin {
  Lower, Upper, Len, Substr, SplitWords, Contains, StartsWith, Abs, Floor, Ceil, Round, Sqrt,
  Hash, Now, Year, Hour, DateTrunc, FormatTime,
  ToI64, ToF64, ToString, ToTimestamp, ToDuration  // the casts i64(x), f64(x), ...
};

enum class UnaryOp { Not, Negate };
enum class BinaryOp { Or, And, Eq, Ne, Lt, Le, Gt, Ge, Add, Sub, Mul, Div, Mod };

using Constant = std::variant<std::monostate /*null*/, bool, int64_t, double, std::string>;

// A typed expression. Function calls are already inlined (their arguments substituted), and
// every implicit conversion is explicit (Widen), so codegen needs no type rules of its own.
//   Const:    constant (int64_t also holds timestamps and durations in ms)
//   Field:    index = field of the current input record
//   Param:    index = position in CheckedProgram::params
//   Local:    index = a flatmap variable (0 for the innermost, only one exists today)
//   Widen:    args[0] is i64, the result f64 (nullability kept)
//   Unary, Binary: op on args. Arithmetic and comparisons have operands of the same base
//             type after widening. Eq/Ne on strings compare bytes. A null operand makes the
//             result null, except for `and`/`or`, which use SQL's three-valued logic.
//   IsNull:   args[0] == null (bool, never null); `x != null` is Not(IsNull(x))
//   Coalesce: args[0] ?? args[1]
//   In:       args[0] in (args[1..])
//   If:       if args[0] then args[1] else args[2] (a null condition takes the else branch)
//   Call:     builtin applied to args
struct Expr {
  enum class Kind { Const, Field, Param, Local, Widen, Unary, Binary, IsNull, Coalesce, In, If, Call };
  Kind kind = Kind::Const;
  Type type;
  Span span;  // in the source (for the division-by-zero message: its line:col)
  Constant constant;
  int index = -1;
  UnaryOp unary_op = UnaryOp::Not;
  BinaryOp binary_op = BinaryOp::Add;
  Builtin builtin = Builtin::Lower;
  std::vector<Expr> args;
};

// ------------------------------------------------------------------------------- streams

// `name = value` in map, flatmap and aggregate keys; output field `name` gets `value`.
struct Assignment {
  std::string name;
  Expr value;
};

enum class Aggregator { Count, CountNonNull, Sum, Min, Max, Avg, First, Last, CountDistinct, ArgMax, ArgMin };

// One binding of an aggregate: `name = AGG(arg)`.
//  Count: no arg, i64.  CountNonNull, CountDistinct: any scalar arg, i64.
//  Sum: i64 or f64 (same type, nullable only if every input was null: then null).
//  Min, Max: any ordered scalar (not list), result type of arg made nullable only when the arg
//    is nullable.  Avg: numeric -> f64.  First, Last: any scalar, the arg's type.
//  ArgMax, ArgMin: `arg` (any scalar) of the record with the largest / smallest `by` (an
//    ordered scalar); the earliest such record on ties; records whose `by` is null are
//    ignored; nullable when either is.
//  Null inputs are ignored by every aggregator except Count().
//  Every aggregator can be merged (windows combine slices, sessions merge): first, last and
//  arg_* keep their record's order (its arrival number, or its position in its source's file:
//  plan::AggregateOperator::ordered_by_position) to merge in that order.
struct AggregateBinding {
  std::string name;
  Aggregator aggregator = Aggregator::Count;
  std::optional<Expr> arg;
  std::optional<Expr> by;  // ArgMax, ArgMin
  Type type;  // the output type
  Span span;
};

// Where a stream's event time comes from (language.md "Time").
struct EventTime {
  enum class Kind { None, Field, Ingestion, Processing };
  Kind kind = Kind::None;
  int field = -1;          // Field: the timestamp field of the schema
  int64_t lag_ms = 0;      // Field: watermark = largest timestamp - lag (`ascending`: 0)
  int64_t idle_ms = -1;    // `idle D`, or -1
};

// A window of a windowed aggregate (language.md section 4). Durations in milliseconds.
struct WindowSpec {
  enum class Kind { Tumbling, Sliding, Session, Cumulating };
  Kind kind = Kind::Tumbling;
  int64_t size_ms = 0;   // tumbling, sliding, cumulating (its maximum size)
  int64_t slide_ms = 0;  // sliding: every
  int64_t gap_ms = 0;    // session
  int64_t step_ms = 0;   // cumulating
  int64_t lateness_ms = 0;       // `late D`; 0 without a late clause
  std::string late_stream;       // `late D -> NAME`, or "" (dropped)
  bool emit_final = false;       // `emit final`
  int64_t emit_early_every_ms = -1;  // `emit early every D`, or -1
};

struct SplitBranch {
  std::optional<Expr> when;  // bool or bool? (null is false); none for `else`
  int stream = -1;           // CheckedProgram::streams
};

struct Stage {
  enum class Kind { Filter, Map, FlatMap, Aggregate, Join, Sink, Emit, Split, Partition };
  Kind kind = Kind::Filter;
  Span span;
  RecordPtr input;   // the record type flowing in
  RecordPtr output;  // the record type flowing out (null after a sink)

  // Filter
  std::optional<Expr> predicate;  // bool or bool?; null drops the record
  // Map: one assignment per output field, in output order (`...` already expanded).
  // FlatMap: `list` is evaluated once per input record; for each element the assignments are
  //   evaluated with Local 0 = the element.
  std::vector<Assignment> assignments;
  std::optional<Expr> list;
  // Aggregate (unwindowed, bounded input): keys then bindings; output = key fields then
  // binding fields.
  std::vector<Assignment> keys;
  std::vector<AggregateBinding> aggregates;
  std::optional<WindowSpec> window;  // windowed: output = keys, window_start, window_end, bindings
  bool local = false;                // `aggregate local`: pre-aggregated where read (parallel)
  // Sink
  enum class SinkKind { Stdout, File, Null };
  enum class Format { Csv, Jsonl };
  SinkKind sink_kind = SinkKind::Stdout;
  Format sink_format = Format::Csv;
  std::optional<Expr> sink_path;  // File: a string expression of params and constants
  // Emit: ends a flow that feeds the stream `stream` (CheckedProgram::streams).
  int stream = -1;
  // Split: ends a flow; a record goes to the stream of the first branch whose condition holds.
  std::vector<SplitBranch> branches;
  // Join: CheckedProgram::joins; output = the input's fields, then the joined side's as `alias.field`.
  int join = -1;
  // Partition: which parallel instance the stages after it run on, the record unchanged
  // (output = input): the owner of `keys`' key group (ByKeys), the next instance in turn
  // (Rebalance), or the same one (Rescale), among the stage's instances (`parallelism`; for
  // Rescale, instance i beyond them goes to i % parallelism).
  enum class Partitioning { ByKeys, Rebalance, Rescale };
  Partitioning partitioning = Partitioning::ByKeys;
  // `@parallel(N)`: the stages from here on run on at most N instances (at most the job's
  // parallelism), 0 for all of them. A stateless stage, a split or a sink with the annotation
  // is checked as a `rescale` carrying it, then the stage; an aggregate keeps its keys' state
  // on the first N instances (a stream join: Join::parallelism).
  int parallelism = 0;
  Span parallelism_span;  // `@parallel(N)`, where it was written
  // Partition: whether it may send a record to another instance (a plain `rescale` never does).
  bool moves_records() const { return partitioning != Partitioning::Rescale || parallelism > 0; }
};

// A join stage (language.md section 4). The joined side's fields are appended to the left
// record as fields named `ALIAS.FIELD` (nullable for a left join), which is what `p.method`
// names. The condition is split into key pairs (equalities between an expression of the left
// record and one of the right) and a residual predicate over the joined record.
struct Join {
  enum class Kind { Interval, Window, Lookup };
  Kind kind = Kind::Interval;
  bool left_outer = false;   // `left join`: unmatched left records are kept, alias fields null
  std::string alias;
  RecordPtr left;            // the record flowing into the join stage
  RecordPtr right;           // the table's schema or the joined stream's record
  RecordPtr output;
  // Key parts, pairwise of one non-null base type (a null part never matches): left_keys over
  // `left`, right_keys over `right`.
  std::vector<Expr> left_keys;
  std::vector<Expr> right_keys;
  std::optional<Expr> residual;  // over `output`; null counts as false
  int64_t lower_ms = 0, upper_ms = 0;  // Interval: right time in [left time + lower, left time + upper]
  std::optional<WindowSpec> window;    // Window: tumbling or sliding
  int table = -1;            // Lookup: the table (CheckedProgram::sources)
  int right_stream = -1;     // Interval, Window: the stream of right records (Stream::join == this)
  Span span;                 // the whole stage
  Span keyword_span;
  int parallelism = 0;       // Interval, Window: `@parallel(N)` (see Stage::parallelism), 0 for all
  Span parallelism_span;
};

enum class SourceFormat { Csv, Jsonl, Text, Generated };
enum class OnError { Fail, Skip, DeadLetter };

struct Source {
  std::string name;
  RecordPtr schema;
  SourceFormat format = SourceFormat::Csv;
  // A string expression of params and constants: the file's path, or for a generator
  // (Generated, a module's built-in source) its name, schema and arguments:
  // "nexmark Bid events=1000 seed=0 rate=10000".
  Expr path;
  OnError on_error = OnError::Fail;
  std::string dead_letter;  // the stream name, for DeadLetter
  EventTime time;
  bool is_table = false;  // `table`: read to the end before any stream starts; no event time
  Span span;
};

// Where a flow's records come from.
struct Origin {
  enum class Kind { Source, DeadLetter, Late, Stream };
  Kind kind = Kind::Source;
  // Index in CheckedProgram::sources: for DeadLetter the failing source, for Late the source
  // of the flow whose window sends its late records here; -1 for Stream.
  int source = -1;
  std::string stream;  // Late: the name given by `late D -> NAME`
  int stream_index = -1;  // Stream: CheckedProgram::streams
};

// A stream between flows: a name read by several flows (fan-out), a `merge`, or an output of
// `split`. Flows ending in an Emit or Split stage feed it; flows whose origin is the stream
// read it, each getting every record.
struct Stream {
  std::string name;        // the let, source or split output; `merge(a, b)` for a merge
  RecordPtr record;        // null when a flow feeding it failed to check
  bool has_time = true;    // every flow feeding it carries event time
  int producers = 0;       // flows feeding it
  int consumers = 0;       // flows reading it
  int join = -1;           // the right input of this join (CheckedProgram::joins), read by no flow
  Span span;
};

// A chain of stages from an origin to a sink, an Emit or a Split. A `let` read by one flow is
// inlined (its stages go in front of the flow's own); one read by several is a Stream. A flow
// comes after the flows that feed its origin.
struct Flow {
  Origin origin;
  std::vector<Stage> stages;  // the last one is a Sink, Emit or Split
  Span span;
};

struct Param {
  std::string name;
  Type type;  // scalar, not nullable
  std::optional<std::string> default_text;  // the default written as --param text
  Span span;
};

struct CheckedProgram {
  std::vector<Param> params;
  std::vector<Source> sources;
  std::vector<Flow> flows;
  std::vector<Stream> streams;
  std::vector<Join> joins;
};

// The dead-letter record: { source: string, position: string, raw: string, error: string }.
RecordPtr dead_letter_record();

// Type-checks `program`. All errors found are added to `diagnostics` (warnings too); returns
// the checked program only when there were no errors.
std::optional<CheckedProgram> check_program(const ast::Program& program, const SourceFile& file,
                                            Diagnostics& diagnostics);

}  // namespace flow::sema
