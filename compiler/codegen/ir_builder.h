// Internal to compiler/codegen: the state shared while one job's LLVM module is built, and
// the value representation used by the expression, pipeline and setup generators.
#pragma once

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "compiler/plan/plan.h"

namespace flow::codegen {

// A value of a .flow type in registers. `is_null` is an i1, or nullptr when the value can
// never be null. Invariant: a null value's `v` is still a harmless value of its type (zero,
// or an empty string), so it may be passed to runtime functions without a branch.
struct Value {
  llvm::Value* v = nullptr;
  llvm::Value* is_null = nullptr;
};

// Where each part of an aggregate's row lives: the struct field index of each key (its null
// flag, if nullable, follows it) and of each binding's first accumulator slot.
struct AggregateLayout {
  llvm::StructType* type = nullptr;
  std::vector<unsigned> key_slots;
  std::vector<unsigned> binding_slots;
};

// A failure to generate code: a plan the generator cannot handle. Caught at the top of the
// stage and turned into an error message (never thrown through LLVM frames).
struct CodegenError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The environment an expression is evaluated in.
struct Environment {
  const std::vector<Value>* record = nullptr;
  const std::vector<Value>* locals = nullptr;
};

class IrBuilder {
 public:
  IrBuilder(llvm::LLVMContext& context, llvm::Module& module, const plan::PhysicalPlan& plan,
            const SourceFile& file);

  // Builds every pipeline function and flow_job_setup.
  void build();

  // ---- used by the generators (ir_*.cpp)
  llvm::LLVMContext& context;
  llvm::Module& module;
  const plan::PhysicalPlan& plan;
  const SourceFile& file;
  llvm::IRBuilder<> b;

  llvm::Type* i1;
  llvm::Type* i8;
  llvm::Type* i32;
  llvm::Type* i64;
  llvm::Type* f64;
  llvm::PointerType* ptr;
  llvm::StructType* str_type;   // flow_str { ptr, i64 }
  llvm::StructType* list_type;  // flow_list { ptr, i64 }
  llvm::StructType* cell_type;  // flow_cell { ptr, i32, i32 }

  llvm::Type* register_type(const sema::Type& t);  // in registers (bool = i1)
  llvm::Type* memory_type(const sema::Type& t);    // in memory (bool = i8)
  llvm::FunctionCallee runtime(const std::string& name, llvm::Type* result, std::vector<llvm::Type*> params);
  llvm::Value* string_constant(const std::string& text);  // a pointer to NUL-terminated bytes
  Value make_string(llvm::Value* data, llvm::Value* length);
  llvm::Value* string_data(const Value& s) { return b.CreateExtractValue(s.v, 0); }
  llvm::Value* string_length(const Value& s) { return b.CreateExtractValue(s.v, 1); }
  llvm::Value* null_or(llvm::Value* a, llvm::Value* c);  // OR of null flags (nullptr = never)
  llvm::Value* zero_of(const sema::Type& t) { return llvm::Constant::getNullValue(register_type(t)); }
  static int32_t type_code(const sema::Type& t);  // FLOW_T_* of abi.h
  llvm::Value* to_memory(llvm::Value* v, const sema::Type& t);    // i1 -> i8 for bools
  llvm::Value* from_memory(llvm::Value* v, const sema::Type& t);  // i8 -> i1 for bools
  llvm::AllocaInst* entry_alloca(llvm::Type* t, const char* name);
  llvm::BasicBlock* block(const char* name);

  // ---- the function being generated
  llvm::Function* function = nullptr;
  llvm::Value* ctx = nullptr;
  llvm::BasicBlock* fail_block = nullptr;  // returns 1: the runtime has recorded the failure
  void begin_function(llvm::Function* f);
  void check_status(llvm::Value* status);  // branch to fail_block unless status == 0

  // ---- expressions (ir_expressions.cpp)
  Value eval(const sema::Expr& e, const Environment& env);
  Value coerce_null(const Value& v, const sema::Expr& e, const sema::Type& target);

  // ---- pipelines (ir_pipelines.cpp)
  llvm::Function* declare_pipeline(const plan::Pipeline& p);
  llvm::Function* build_pipeline(const plan::Pipeline& p);
  llvm::Function* build_path_function(const sema::Expr& path, const std::string& name);
  std::vector<llvm::Function*> pipeline_functions;
  std::vector<llvm::Function*> merge_functions;  // per aggregate, windowed ones only
  // Routes (flow_job_route): the pipelines ending in a keyed operator, whose records go to the
  // instance owning their key when the job runs in parallel; per pipeline its route or -1.
  std::vector<int> route_of_pipeline;
  std::vector<const plan::Pipeline*> routes;
  std::vector<llvm::Function*> route_functions;  // per route: its apply function
  const sema::RecordType& route_record(const plan::Pipeline& p) const;
  const plan::PartitionOperator& partition_of(const plan::Pipeline& p) const {
    return plan.partitions[static_cast<std::size_t>(p.feeds_partition)];
  }
  // Whether the pipeline ends in a partitioning stage that may send records to another instance.
  bool crosses_instances(const plan::Pipeline& p) const {
    return p.feeds_partition >= 0 && partition_of(p).stage->moves_records();
  }
  void register_time_inputs(llvm::Value* builder, const char* function, const std::vector<plan::TimeInput>& inputs);
  void send_record(const plan::Pipeline& p, llvm::Value* stored, llvm::Value* time);
  llvm::Value* position_or(llvm::Value* arrival);
  llvm::Value* handed_position(const plan::Pipeline& p);
  bool combinable(int aggregate) const;
  // The event time of the records of the pipeline being generated (i64 ms), or nullptr.
  llvm::Value* event_time = nullptr;
  // Their positions in their source's file (i64), when the pipeline carries them
  // (plan::Pipeline::carries_position), or nullptr.
  llvm::Value* record_position = nullptr;
  std::vector<AggregateLayout> aggregate_layouts;

 private:
  Value eval_binary(const sema::Expr& e, const Environment& env);
  Value eval_logic(const sema::Expr& e, const Environment& env);
  Value eval_if(const sema::Expr& e, const Environment& env);
  Value eval_coalesce(const sema::Expr& e, const Environment& env);
  Value eval_in(const sema::Expr& e, const Environment& env);
  Value eval_call(const sema::Expr& e, const Environment& env);
  Value eval_cast(const sema::Expr& e, const std::vector<Value>& args);
  Value eval_param(const sema::Expr& e);
  Value eval_constant(const sema::Expr& e);
  Value compare(sema::BinaryOp op, const sema::Type& t, const Value& a, const Value& c);
  Value divide(const sema::Expr& e, const Value& a, const Value& c);
  Value merge(llvm::BasicBlock* a_block, const Value& a, llvm::BasicBlock* c_block, const Value& c, llvm::Type* type);
  llvm::Value* call_string_out(const std::string& name, std::vector<llvm::Type*> params, std::vector<llvm::Value*> args);

  // pipelines
  void fetch_handles(const plan::Pipeline& p);
  bool has_event_time(const plan::Pipeline& p) const;
  llvm::Function* build_route_apply(const plan::Pipeline& p);
  void generate_partition(const plan::Pipeline& p, const std::vector<Value>& record, const Environment& env,
                          llvm::BasicBlock* next);
  void generate_route_check(const plan::Pipeline& p, const std::vector<Value>& record, const Environment& env,
                            llvm::BasicBlock* next);
  void generate_stream_feed(const sema::Stage& stage, const std::vector<Value>& record, const Environment& env,
                            llvm::BasicBlock* next);
  void generate_stages(const plan::Pipeline& p, size_t index, const std::vector<Value>& record,
                       const std::vector<Value>& locals, llvm::BasicBlock* next);
  void generate_sink(int sink, const std::vector<Value>& record);
  // for (i = 0; i < length; ++i) body(element i, latch): `body` must end in a branch to
  // `latch`; the loop leaves through `exit`.
  void for_each_element(llvm::Value* data, llvm::Value* length, const sema::Type& element_type, llvm::BasicBlock* exit,
                        const std::function<void(llvm::Value*, llvm::BasicBlock*)>& body);
  void write_value(llvm::Value* sink, const sema::Type& t, const Value& v);
  void write_non_null(llvm::Value* sink, const sema::Type& t, llvm::Value* v);
  void generate_aggregate_update(int aggregate, const std::vector<Value>& record, const Environment& env);
  static std::vector<sema::Type> key_types(const sema::Stage& stage);
  std::pair<llvm::Value*, llvm::Value*> encode_key(const std::vector<sema::Type>& types, const std::vector<Value>& keys);
  void encode_key_with_calls(const std::vector<sema::Type>& types, const std::vector<Value>& keys);
  llvm::Value* copy_string_into(llvm::Value* table, llvm::Value* s);
  void init_new_row(int aggregate, llvm::Value* row, llvm::Value* table, const std::vector<Value>& keys, llvm::Value* is_new);
  void update_accumulators(int aggregate, llvm::Value* row, llvm::Value* table, llvm::Value* seq, const Environment& env);
  llvm::Value* precedes_by_value(const sema::Type& t, const Value& a, const Value& c, bool greatest_first);
  llvm::Value* precedes(int aggregate, llvm::Value* seq_a, llvm::Value* seq_c, const sema::Type& t, const Value& a,
                        const Value& c, bool latest_first);
  std::vector<Value> load_aggregate_row(int aggregate, llvm::Value* row, llvm::Value* window_start = nullptr,
                                        llvm::Value* window_end = nullptr);
  // windows (ir_windows.cpp)
  void generate_window_update(int aggregate, const std::vector<Value>& record, const Environment& env);
  llvm::Function* build_merge_function(int aggregate);
  llvm::StructType* record_struct(const sema::RecordType& record);
  // `owner`: a flow_state_owner that the record's strings are copied into (else they are kept).
  void store_record(llvm::Value* at, const sema::RecordType& type, const std::vector<Value>& record,
                    llvm::Value* owner = nullptr);
  std::vector<Value> load_record(llvm::Value* at, const sema::RecordType& type);
  Value typed_cell(llvm::Value* cell, const sema::Type& t);
  std::vector<Value> decode_row(const plan::Pipeline& p, llvm::Value* batch, llvm::Value* cells,
                                llvm::Value* row, llvm::BasicBlock* next);
  AggregateLayout row_layout(const sema::Stage& stage);
  void build_setup();
  void register_state_slots(llvm::Value* builder, int32_t target, int index, llvm::StructType* type);
  llvm::Function* unused_source_consumer();

  // joins (ir_joins.cpp)
  void generate_lookup_join(const plan::Pipeline& p, size_t index, const sema::Stage& stage, const Environment& env,
                            llvm::BasicBlock* next);
  void generate_lookup_fill(const plan::Pipeline& p, const std::vector<Value>& record, const Environment& env,
                            llvm::BasicBlock* next);
  void generate_join_insert(const plan::Pipeline& p, const std::vector<Value>& record, const Environment& env,
                            llvm::BasicBlock* next);
  // The key values of one side; branches to `has_null` when a part is null or NaN (it never matches).
  std::vector<Value> join_key_values(const std::vector<sema::Expr>& keys, const Environment& env, llvm::BasicBlock* has_null);
  // left fields then right fields; `right_missing` (i1, or nullptr) makes the right ones null.
  std::vector<Value> joined_record(const sema::Join& join, const std::vector<Value>& left, const std::vector<Value>& right,
                                   llvm::Value* right_missing);
  std::vector<Value> load_join_pair(const sema::Join& join, llvm::Value* left, llvm::Value* right);
  llvm::Function* build_join_condition(int join);
  std::vector<llvm::Function*> join_conditions_;  // per CheckedProgram::joins, or nullptr
  std::vector<llvm::Value*> join_handles_;        // per CheckedProgram::joins, valid in the current function
  std::vector<llvm::Value*> lookup_dense_;        // the same: a lookup table's flow_lookup_dense, or nullptr
  // A lookup's records (first, count) through its dense index, calling flow_lookup_find when
  // the key is not in it; `data` holds the 8-byte encoded key.
  std::pair<llvm::Value*, llvm::Value*> find_in_lookup(int join, llvm::Value* data, llvm::Value* length);

  std::map<std::string, llvm::Value*> strings_;
  std::vector<llvm::Value*> sink_handles_;  // per sink, valid inside the current function
  std::vector<llvm::Value*> aggregate_handles_;
  std::vector<llvm::Value*> window_open_;  // per aggregate: a window's flow_window_open_slice, or nullptr
  llvm::Value* key_buffer_ = nullptr;  // flow_ctx_key_buf, fetched once per call
  llvm::Value* exchange_ = nullptr;    // flow_ctx_exchange in a route's pipeline, fetched once per call
  bool applying_route_ = false;        // generating a route's apply function: the record stays
};

}  // namespace flow::codegen
