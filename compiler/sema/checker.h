// Internal to compiler/sema: the checker that walks the AST once, collecting diagnostics and
// building the CheckedProgram. Expressions are in check_expressions.cpp, calls of built-ins
// and user functions in check_calls.cpp, declarations and flows in check_program.cpp.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "sema.h"

namespace flow::sema {

// Diagnostic codes (catalogue: dsl-spec/errors.md).
namespace code {
inline const char* const kUnknownType = "E0201";
inline const char* const kUnknownStream = "E0202";
inline const char* const kUnknownSchema = "E0203";
inline const char* const kDuplicate = "E0204";
inline const char* const kUnknownFunction = "E0205";
inline const char* const kUnknownModule = "E0206";
inline const char* const kUnknownName = "E0210";
inline const char* const kUnknownField = "E0213";
inline const char* const kTypeMismatch = "E0301";
inline const char* const kArity = "E0302";
inline const char* const kArgumentType = "E0303";
inline const char* const kNotBool = "E0304";
inline const char* const kBadDefault = "E0305";
inline const char* const kNotConstant = "E0306";
inline const char* const kRecursion = "E0307";
inline const char* const kNoSink = "E0401";
inline const char* const kAfterSink = "E0402";
inline const char* const kBadFormat = "E0403";
inline const char* const kTextSchema = "E0404";
inline const char* const kBadAggregate = "E0405";
inline const char* const kDuplicateField = "E0406";
inline const char* const kBadSink = "E0407";
inline const char* const kBadConnector = "E0408";
inline const char* const kUnused = "W0401";
inline const char* const kNoLateClause = "W0402";
inline const char* const kNoEventTime = "E0409";
inline const char* const kBadWindow = "E0410";
inline const char* const kBadSplit = "E0411";
inline const char* const kBadJoin = "E0412";
inline const char* const kBadPartition = "E0413";
inline const char* const kNotSupported = "E0501";
}  // namespace code

// What names mean where an expression is checked.
struct Scope {
  const RecordType* record = nullptr;           // fields of the current record (may be null)
  const std::string* local_name = nullptr;      // a flatmap variable
  Type local_type;
  const std::map<std::string, Expr>* fn_arguments = nullptr;  // inside an inlined fn body
};

class Checker {
 public:
  Checker(const ast::Program& program, const SourceFile& file, Diagnostics& diagnostics)
      : ast_(program), file_(file), diagnostics_(diagnostics) {}
  CheckedProgram run();

  // ---- expressions (check_expressions.cpp)
  Expr check(const ast::Expr& e, const Scope& scope);
  Expr check_bool(const ast::Expr& e, const Scope& scope, const char* what);
  static bool is_poison(const Type& t) { return t.kind == Type::Kind::Record && !t.record; }
  static Expr poison(Span span);
  // Converts `e` to `target` where the language allows it implicitly (i64 -> f64, null -> T?).
  bool convert(Expr& e, const Type& target);
  std::optional<Type> unify(Expr& a, Expr& b);  // a common type for both, converting them

  // ---- calls (check_calls.cpp)
  Expr check_call(const ast::Expr& e, const Scope& scope);

  // ---- types
  std::optional<Type> resolve_type(const ast::TypeRef& t);

  Diagnostics& diagnostics() { return diagnostics_; }

 private:
  Expr check_name(const ast::Expr& e, const Scope& scope);
  Expr check_alias_field(const ast::Expr& e, const Scope& scope);
  Expr check_binary(const ast::Expr& e, const Scope& scope);
  Expr check_arithmetic(const ast::Expr& e, Expr a, Expr b);
  Expr check_comparison(const ast::Expr& e, Expr a, Expr b);
  Expr check_user_fn(const ast::Expr& e, const ast::FnDecl& fn, std::vector<Expr> args);

  // ---- declarations and flows (check_program.cpp)
  void declare_imports();
  void declare_schemas();
  bool check_generator(const ast::SourceDecl& s, const struct ModuleDef& module, const struct GeneratorDef& generator,
                       Source& source);
  void declare_params();
  void declare_sources();
  void declare_functions_and_lets();
  void check_flows();
  // A flow to check: the program's flows, and the flows that feed streams (a name read by
  // several flows, each input of a merge).
  struct FlowJob {
    const ast::FlowOrigin* origin = nullptr;  // where it starts, unless `start` is set
    std::string start;                        // a name it starts at
    Span start_span;
    std::vector<const ast::Stage*> stages;
    int emit_to = -1;         // the stream it feeds instead of ending in a sink
    std::string producer_of;  // the shared name it produces: not read as that stream itself
    Span span;
  };
  struct Resolved {
    enum class State { Ready, Wait, Failed };
    State state = State::Failed;
    Origin origin;
    RecordPtr record;
    bool has_time = true;
    std::string name;                       // the name it starts at, once lets are followed
    std::vector<const ast::Stage*> front;   // stages of the lets followed
    std::vector<std::string> lets;          // the lets followed
  };
  void collect_streams();
  bool claim_stream_name(const ast::Name& name);
  int new_stream(const std::string& name, Span span, int producers);
  void plan_flow_jobs();
  Resolved resolve_origin(const FlowJob& job, bool report);
  void check_job(const FlowJob& job, Resolved r);
  void finish_job(const FlowJob& job, const std::vector<const ast::Stage*>& stages);
  void feed_stream(int index, const RecordPtr& record, bool has_time, Span span);
  // joins (check_joins.cpp)
  void plan_join_inputs(std::map<std::string, int>& reads);
  void add_join_input_jobs();
  bool joins_ready(const FlowJob& job, const Resolved& r, bool report);
  bool check_join(const ast::Stage& s, RecordPtr& record, Stage& out, bool& has_time);
  bool check_join_condition(const ast::JoinStage& j, Join& join);
  bool check_split(const ast::SplitStage& split, const Scope& scope, const RecordPtr& record, bool has_time, Stage& out);
  void check_flow(const FlowJob& job, std::vector<const ast::Stage*> stages, Origin origin, RecordPtr record,
                  bool has_time);
  bool check_stage(const ast::Stage& s, RecordPtr& record, Flow& out, bool& ended, bool& has_time);
  RecordPtr check_fields(const std::vector<ast::FieldBinding>& fields, bool keep_all, Span keep_all_span,
                         const RecordType& input,
                         const Scope& scope, std::vector<Assignment>& out);
  void check_aggregate(const ast::AggregateStage& a, const ast::Stage& s, RecordPtr& record, Stage& out);
  bool check_sink(const ast::SinkStage& s, Stage& out);
  bool check_partition(const ast::Stage& s, const Scope& scope, const RecordPtr& record, Stage& out);
  bool check_parallel_annotation(const ast::Stage& s, const RecordPtr& record, Flow& out);
  bool refuse_lists_across_instances(const RecordType& record, Span span);
  bool check_path_argument(const ast::Expr& e, Expr& out);
  std::optional<int64_t> constant_duration(const ast::Expr& e, const char* what, bool allow_negative = false);
  EventTime check_time_clause(const ast::TimeClause& clause, const RecordType& schema);
  std::optional<WindowSpec> check_window(const ast::AggregateStage& a);
  std::optional<WindowSpec> check_window_spec(const ast::WindowSpec& w);
  void not_supported(Span span, const std::string& what);

  const ast::Program& ast_;
  const SourceFile& file_;
  Diagnostics& diagnostics_;
  CheckedProgram program_;
  std::map<std::string, RecordPtr> schemas_;
  std::map<std::string, std::string> imported_schemas_;  // schema name -> the module that declared it
  std::vector<const struct ModuleDef*> imports_;
  std::map<std::string, int> params_;
  std::map<std::string, int> sources_;
  std::map<std::string, int> tables_;                    // `table` declarations (also in program_.sources)
  std::map<std::string, int> dead_letters_;
  std::map<std::string, const ast::FnDecl*> functions_;
  std::map<std::string, const ast::LetDecl*> lets_;
  std::set<std::string> used_streams_;
  std::map<std::string, int> shared_streams_;             // names that are streams: read twice, split outputs
  std::map<const ast::FlowOrigin*, int> merge_streams_;  // each merge(...) written
  std::vector<int> streams_checked_;                     // per stream: flows feeding it done
  std::vector<FlowJob> jobs_;
  std::set<std::string> joined_tables_;
  std::vector<const ast::JoinStage*> stream_joins_;           // every non-table join, in program order
  std::map<const ast::JoinStage*, int> join_inputs_;          // its right input: a stream fed by one job
  std::map<std::string, int> let_uses_;
  // Late streams: where each is declared, and, once the declaring window is checked, its
  // records (the window's input) and the source of that flow.
  struct LateStream {
    RecordPtr record;
    int source = -1;
  };
  std::map<std::string, Span> late_stream_spans_;
  std::map<std::string, LateStream> late_streams_;
  int current_origin_source_ = -1;  // the source (or failing source) of the flow being checked
  std::vector<std::string> inlining_;  // fns being inlined, to catch recursion
};

std::vector<std::string> keys_of(const std::map<std::string, int>& m);

}  // namespace flow::sema
