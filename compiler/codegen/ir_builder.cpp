// IrBuilder basics: LLVM types of .flow values, runtime declarations, helpers, and
// flow_job_setup, the function that describes the job to the runtime (abi.h).
#include "ir_builder.h"

#include <llvm/IR/Verifier.h>

#include "flow/abi.h"

namespace flow::codegen {

IrBuilder::IrBuilder(llvm::LLVMContext& c, llvm::Module& m, const plan::PhysicalPlan& p, const SourceFile& f)
    : context(c), module(m), plan(p), file(f), b(c) {
  i1 = b.getInt1Ty();
  i8 = b.getInt8Ty();
  i32 = b.getInt32Ty();
  i64 = b.getInt64Ty();
  f64 = b.getDoubleTy();
  ptr = b.getPtrTy();
  str_type = llvm::StructType::create(c, {ptr, i64}, "flow_str");
  list_type = llvm::StructType::create(c, {ptr, i64}, "flow_list");
  cell_type = llvm::StructType::create(c, {ptr, i32, i32}, "flow_cell");
}

llvm::Type* IrBuilder::register_type(const sema::Type& t) {
  using K = sema::Type::Kind;
  switch (t.kind) {
    case K::Bool: return i1;
    case K::I64:
    case K::Timestamp:
    case K::Duration:
    case K::Null: return i64;
    case K::F64: return f64;
    case K::String: return str_type;
    case K::List: return list_type;
    case K::Record: break;
  }
  throw CodegenError("records as values are not supported yet");
}

llvm::Type* IrBuilder::memory_type(const sema::Type& t) {
  return t.kind == sema::Type::Kind::Bool ? i8 : register_type(t);
}

llvm::Value* IrBuilder::to_memory(llvm::Value* v, const sema::Type& t) {
  return t.kind == sema::Type::Kind::Bool ? b.CreateZExt(v, i8) : v;
}

llvm::Value* IrBuilder::from_memory(llvm::Value* v, const sema::Type& t) {
  return t.kind == sema::Type::Kind::Bool ? b.CreateICmpNE(v, b.getInt8(0)) : v;
}

llvm::FunctionCallee IrBuilder::runtime(const std::string& name, llvm::Type* result, std::vector<llvm::Type*> params) {
  return module.getOrInsertFunction(name, llvm::FunctionType::get(result, params, false));
}

llvm::Value* IrBuilder::string_constant(const std::string& text) {
  auto it = strings_.find(text);
  if (it != strings_.end()) return it->second;
  auto* global = b.CreateGlobalString(text, "str", 0, &module);
  strings_[text] = global;
  return global;
}

Value IrBuilder::make_string(llvm::Value* data, llvm::Value* length) {
  llvm::Value* s = llvm::UndefValue::get(str_type);
  s = b.CreateInsertValue(s, data, 0);
  s = b.CreateInsertValue(s, length, 1);
  return Value{s, nullptr};
}

llvm::Value* IrBuilder::null_or(llvm::Value* a, llvm::Value* c) {
  if (!a) return c;
  if (!c) return a;
  return b.CreateOr(a, c);
}

llvm::AllocaInst* IrBuilder::entry_alloca(llvm::Type* t, const char* name) {
  llvm::IRBuilder<> entry(&function->getEntryBlock(), function->getEntryBlock().begin());
  return entry.CreateAlloca(t, nullptr, name);
}

llvm::BasicBlock* IrBuilder::block(const char* name) { return llvm::BasicBlock::Create(context, name, function); }

void IrBuilder::begin_function(llvm::Function* f) {
  function = f;
  ctx = f->getArg(0);
  auto* entry = llvm::BasicBlock::Create(context, "entry", f);
  fail_block = llvm::BasicBlock::Create(context, "fail", f);
  b.SetInsertPoint(fail_block);
  b.CreateRet(b.getInt32(1));
  b.SetInsertPoint(entry);
}

void IrBuilder::check_status(llvm::Value* status) {
  auto* ok = block("ok");
  b.CreateCondBr(b.CreateICmpEQ(status, b.getInt32(0)), ok, fail_block);
  b.SetInsertPoint(ok);
}

int32_t IrBuilder::type_code(const sema::Type& t) {
  using K = sema::Type::Kind;
  switch (t.kind) {
    case K::Bool: return FLOW_T_BOOL;
    case K::I64: return FLOW_T_I64;
    case K::F64: return FLOW_T_F64;
    case K::String: return FLOW_T_STRING;
    case K::Timestamp: return FLOW_T_TIMESTAMP;
    case K::Duration: return FLOW_T_DURATION;
    case K::List: return FLOW_T_LIST;
    default: return FLOW_T_STRING;
  }
}

// A source that no flow reads is still opened and read (sema warns), into this.
llvm::Function* IrBuilder::unused_source_consumer() {
  if (auto* existing = module.getFunction("discard_batch")) return existing;
  auto* type = llvm::FunctionType::get(i32, {ptr, ptr}, false);
  auto* f = llvm::Function::Create(type, llvm::Function::InternalLinkage, "discard_batch", module);
  llvm::IRBuilder<> body(llvm::BasicBlock::Create(context, "entry", f));
  body.CreateRet(body.getInt32(0));
  return f;
}

// The inputs of the last window, join or partitioning stage registered (`function`).
void IrBuilder::register_time_inputs(llvm::Value* builder, const char* function, const std::vector<plan::TimeInput>& inputs) {
  for (const plan::TimeInput& input : inputs)
    b.CreateCall(runtime(function, b.getVoidTy(), {ptr, i32, i32, i32, i32}),
                 {builder, b.getInt32(input.source), b.getInt32(input.window), b.getInt32(input.join), b.getInt32(input.partition)});
}

void IrBuilder::build() {
  for (const auto& a : plan.aggregates) aggregate_layouts.push_back(row_layout(*a.stage));
  pipeline_functions.resize(plan.pipelines.size());
  route_of_pipeline.assign(plan.pipelines.size(), -1);
  for (const auto& p : plan.pipelines) {
    pipeline_functions[p.id] = declare_pipeline(p);
    if (p.sink < 0 && ((p.updates_aggregate >= 0 && !combinable(p.updates_aggregate)) || p.inserts_join >= 0 ||
                       crosses_instances(p))) {
      route_of_pipeline[p.id] = static_cast<int>(routes.size());
      routes.push_back(&p);
    }
  }
  for (const auto& p : plan.pipelines) build_pipeline(p);
  // A partitioning stage's record is applied at the instance it goes to by the pipeline after it.
  for (const plan::Pipeline* p : routes)
    route_functions.push_back(p->feeds_partition >= 0 ? pipeline_functions[partition_of(*p).to_pipeline] : build_route_apply(*p));
  join_conditions_.assign(plan.joins.size(), nullptr);
  for (size_t j = 0; j < plan.joins.size(); ++j)
    if (!plan.joins[j].lookup() && plan.joins[j].join->residual) join_conditions_[j] = build_join_condition(static_cast<int>(j));
  merge_functions.assign(plan.aggregates.size(), nullptr);
  for (size_t i = 0; i < plan.aggregates.size(); ++i)
    if (plan.aggregates[i].windowed() || plan.aggregates[i].salt || combinable(static_cast<int>(i)))
      merge_functions[i] = build_merge_function(static_cast<int>(i));
  build_setup();
  std::string problems;
  llvm::raw_string_ostream os(problems);
  if (llvm::verifyModule(module, &os)) throw CodegenError("invalid IR generated: " + os.str());
}

bool IrBuilder::combinable(int aggregate) const {
  return plan::combinable(plan.aggregates[static_cast<std::size_t>(aggregate)]);
}

// Tells the runtime where rows of `type` hold strings and count_distinct sets (abi.h,
// flow_job_state_slot), so that checkpoints can follow them.
void IrBuilder::register_state_slots(llvm::Value* builder, int32_t target, int index, llvm::StructType* type) {
  const llvm::StructLayout* offsets = module.getDataLayout().getStructLayout(type);
  for (unsigned i = 0; i < type->getNumElements(); ++i) {
    llvm::Type* element = type->getElementType(i);
    int32_t kind = element == str_type ? FLOW_SLOT_STRING : element == ptr ? FLOW_SLOT_SET : 0;
    if (target == FLOW_STATE_ROUTE && element == list_type) kind = FLOW_SLOT_LIST;
    if (kind == 0) continue;
    b.CreateCall(runtime("flow_job_state_slot", b.getVoidTy(), {ptr, i32, i32, i32, i64}),
                 {builder, b.getInt32(target), b.getInt32(index), b.getInt32(kind),
                  b.getInt64(static_cast<int64_t>(offsets->getElementOffset(i)))});
  }
}

// flow_job_setup(b): program name, params, sources with their fields, sinks with their
// columns, aggregates (abi.h, "job description").
void IrBuilder::build_setup() {
  const auto& program = *plan.program;
  std::vector<llvm::Function*> source_paths, sink_paths;
  for (size_t i = 0; i < program.sources.size(); ++i)
    source_paths.push_back(build_path_function(program.sources[i].path, "source_path_" + std::to_string(i)));
  for (size_t i = 0; i < plan.sinks.size(); ++i) {
    const auto& stage = *plan.sinks[i].stage;
    sink_paths.push_back(stage.sink_path ? build_path_function(*stage.sink_path, "sink_path_" + std::to_string(i)) : nullptr);
  }

  auto* type = llvm::FunctionType::get(b.getVoidTy(), {ptr}, false);
  auto* setup = llvm::Function::Create(type, llvm::Function::ExternalLinkage, "flow_job_setup", module);
  auto* entry = llvm::BasicBlock::Create(context, "entry", setup);
  b.SetInsertPoint(entry);
  llvm::Value* builder = setup->getArg(0);
  auto* null_ptr = llvm::ConstantPointerNull::get(ptr);

  b.CreateCall(runtime("flow_job_program", b.getVoidTy(), {ptr, ptr}), {builder, string_constant(file.name())});
  for (const auto& param : program.params) {
    llvm::Value* default_text = param.default_text ? string_constant(*param.default_text) : null_ptr;
    b.CreateCall(runtime("flow_job_param", b.getVoidTy(), {ptr, ptr, i32, ptr}),
                 {builder, string_constant(param.name), b.getInt32(type_code(param.type)), default_text});
  }
  for (size_t i = 0; i < program.sources.size(); ++i) {
    const auto& source = program.sources[i];
    int32_t format = source.format == sema::SourceFormat::Csv     ? FLOW_FORMAT_CSV
                     : source.format == sema::SourceFormat::Jsonl ? FLOW_FORMAT_JSONL
                     : source.format == sema::SourceFormat::Text  ? FLOW_FORMAT_TEXT
                                                                  : FLOW_FORMAT_GENERATED;
    int32_t on_error = source.on_error == sema::OnError::Fail   ? FLOW_ON_ERROR_FAIL
                       : source.on_error == sema::OnError::Skip ? FLOW_ON_ERROR_SKIP
                                                                : FLOW_ON_ERROR_DEAD_LETTER;
    int consume = plan.source_pipeline[i];
    int dead = plan.dead_letter_pipeline[i];
    b.CreateCall(runtime("flow_job_source", b.getVoidTy(), {ptr, ptr, i32, i32, ptr, ptr, ptr}),
                 {builder, string_constant(source.name), b.getInt32(format), b.getInt32(on_error), source_paths[i],
                  consume >= 0 ? static_cast<llvm::Value*>(pipeline_functions[consume]) : unused_source_consumer(),
                  dead >= 0 ? static_cast<llvm::Value*>(pipeline_functions[dead]) : null_ptr});
    for (size_t f = 0; f < source.schema->fields.size(); ++f) {
      const auto& field = source.schema->fields[f];
      b.CreateCall(runtime("flow_job_source_field", b.getVoidTy(), {ptr, ptr, i32, i32, i32}),
                   {builder, string_constant(field.name), b.getInt32(type_code(field.type)),
                    b.getInt32(field.type.nullable ? 1 : 0), b.getInt32(plan.fields_used[i][f] ? 1 : 0)});
    }
    if (source.time.kind != sema::EventTime::Kind::None) {
      int32_t kind = source.time.kind == sema::EventTime::Kind::Field       ? FLOW_TIME_FIELD
                     : source.time.kind == sema::EventTime::Kind::Ingestion ? FLOW_TIME_INGESTION
                                                                            : FLOW_TIME_PROCESSING;
      b.CreateCall(runtime("flow_job_source_time", b.getVoidTy(), {ptr, i32, i64, i64}),
                   {builder, b.getInt32(kind), b.getInt64(source.time.lag_ms), b.getInt64(source.time.idle_ms)});
    }
  }
  for (size_t i = 0; i < plan.sinks.size(); ++i) {
    const auto& stage = *plan.sinks[i].stage;
    int32_t kind = stage.sink_kind == sema::Stage::SinkKind::Stdout ? FLOW_SINK_STDOUT
                   : stage.sink_kind == sema::Stage::SinkKind::File ? FLOW_SINK_FILE
                                                                    : FLOW_SINK_NULL;
    int32_t format = stage.sink_format == sema::Stage::Format::Csv ? FLOW_FORMAT_CSV : FLOW_FORMAT_JSONL;
    b.CreateCall(runtime("flow_job_sink", b.getVoidTy(), {ptr, i32, i32, ptr}),
                 {builder, b.getInt32(kind), b.getInt32(format),
                  sink_paths[i] ? static_cast<llvm::Value*>(sink_paths[i]) : null_ptr});
    for (const auto& field : stage.input->fields)
      b.CreateCall(runtime("flow_job_sink_field", b.getVoidTy(), {ptr, ptr}), {builder, string_constant(field.name)});
  }
  const auto& layout = module.getDataLayout();
  // Unwindowed aggregates and windows are each registered in the order of their runtime index.
  for (size_t i = 0; i < plan.aggregates.size(); ++i) {
    const auto& a = plan.aggregates[i];
    uint64_t size = layout.getTypeAllocSize(aggregate_layouts[i].type);
    if (!a.windowed()) {
      llvm::Value* merge = merge_functions[i] ? static_cast<llvm::Value*>(merge_functions[i]) : null_ptr;
      b.CreateCall(runtime("flow_job_aggregate", b.getVoidTy(), {ptr, i32, i64, ptr, ptr}),
                   {builder, b.getInt32(a.source), b.getInt64(size), pipeline_functions[a.emit_pipeline], merge});
      register_state_slots(builder, FLOW_STATE_AGGREGATE, a.table, aggregate_layouts[i].type);
      continue;
    }
    const sema::WindowSpec& w = *a.stage->window;
    using K = sema::WindowSpec::Kind;
    int32_t kind = w.kind == K::Tumbling  ? FLOW_WINDOW_TUMBLING
                   : w.kind == K::Sliding ? FLOW_WINDOW_SLIDING
                   : w.kind == K::Session ? FLOW_WINDOW_SESSION
                                          : FLOW_WINDOW_CUMULATING;
    int64_t size_ms = w.kind == K::Session ? w.gap_ms : w.size_ms;
    int64_t slide_ms = w.kind == K::Sliding ? w.slide_ms : w.kind == K::Cumulating ? w.step_ms : 0;
    int32_t flags = (w.emit_final ? FLOW_WINDOW_EMIT_FINAL : 0) | (a.late_pipeline >= 0 ? FLOW_WINDOW_LATE_STREAM : 0);
    auto where = file.position(a.stage->span.begin);
    b.CreateCall(runtime("flow_job_window", b.getVoidTy(), {ptr, ptr, i32, i64, i64, i64, i32, i64, i64, ptr, ptr}),
                 {builder, string_constant(std::to_string(where.line) + ":" + std::to_string(where.column)), b.getInt32(kind),
                  b.getInt64(size_ms), b.getInt64(slide_ms), b.getInt64(w.lateness_ms), b.getInt32(flags),
                  b.getInt64(w.emit_early_every_ms), b.getInt64(static_cast<int64_t>(size)), merge_functions[i],
                  pipeline_functions[a.emit_pipeline]});
    register_time_inputs(builder, "flow_job_window_input", a.input_time);
    register_state_slots(builder, FLOW_STATE_WINDOW, a.window, aggregate_layouts[i].type);
  }
  // Stream joins, then lookups, each in the order of their runtime index.
  for (const plan::JoinOperator& op : plan.joins) {
    if (op.lookup()) continue;
    const sema::Join& j = *op.join;
    int32_t kind = j.kind == sema::Join::Kind::Interval ? FLOW_JOIN_INTERVAL : FLOW_JOIN_WINDOW;
    bool sliding = j.window && j.window->kind == sema::WindowSpec::Kind::Sliding;
    int64_t size_ms = j.window ? j.window->size_ms : 0;
    auto where = file.position(j.span.begin);
    llvm::Value* condition = join_conditions_[static_cast<std::size_t>(&op - plan.joins.data())];
    b.CreateCall(runtime("flow_job_join", b.getVoidTy(), {ptr, ptr, i32, i32, i64, i64, i32, i64, i64, i64, i64, ptr, ptr}),
                 {builder, string_constant(std::to_string(where.line) + ":" + std::to_string(where.column)), b.getInt32(kind),
                  b.getInt32(j.left_outer ? FLOW_JOIN_LEFT_OUTER : 0), b.getInt64(j.lower_ms), b.getInt64(j.upper_ms),
                  b.getInt32(sliding ? FLOW_WINDOW_SLIDING : FLOW_WINDOW_TUMBLING), b.getInt64(size_ms),
                  b.getInt64(sliding ? j.window->slide_ms : size_ms),
                  b.getInt64(static_cast<int64_t>(layout.getTypeAllocSize(record_struct(*j.left)))),
                  b.getInt64(static_cast<int64_t>(layout.getTypeAllocSize(record_struct(*j.right)))),
                  condition ? condition : static_cast<llvm::Value*>(null_ptr), pipeline_functions[op.output_pipeline]});
    register_time_inputs(builder, "flow_job_join_input", op.input_time);
    register_state_slots(builder, FLOW_STATE_JOIN_LEFT, op.runtime, record_struct(*j.left));
    register_state_slots(builder, FLOW_STATE_JOIN_RIGHT, op.runtime, record_struct(*j.right));
  }
  for (const plan::JoinOperator& op : plan.joins) {
    if (!op.lookup()) continue;
    b.CreateCall(runtime("flow_job_lookup", b.getVoidTy(), {ptr, i32, i64}),
                 {builder, b.getInt32(op.join->table),
                  b.getInt64(static_cast<int64_t>(layout.getTypeAllocSize(record_struct(*op.join->right))))});
    register_state_slots(builder, FLOW_STATE_LOOKUP, op.runtime, record_struct(*op.join->right));
  }
  for (const plan::PartitionOperator& x : plan.partitions) {
    if (!x.has_time()) continue;
    b.CreateCall(runtime("flow_job_partition", b.getVoidTy(), {ptr}), {builder});
    register_time_inputs(builder, "flow_job_partition_input", x.input_time);
  }
  b.CreateCall(runtime("flow_job_partition_hops", b.getVoidTy(), {ptr, i32}), {builder, b.getInt32(plan.partition_hops())});
  auto stage_parallelism = [&](const Span& span, int parallelism) {
    auto where = file.position(span.begin);
    b.CreateCall(runtime("flow_job_stage_parallelism", b.getVoidTy(), {ptr, ptr, i32}),
                 {builder, string_constant(std::to_string(where.line) + ":" + std::to_string(where.column)),
                  b.getInt32(parallelism)});
  };
  for (const plan::PartitionOperator& x : plan.partitions)
    if (x.stage->parallelism > 0) stage_parallelism(x.stage->parallelism_span, x.stage->parallelism);
  // Keyed operators with `@parallel(P)`: their keys' owners are among the first P instances.
  for (const plan::AggregateOperator& a : plan.aggregates) {
    if (a.stage->parallelism <= 0) continue;
    stage_parallelism(a.stage->parallelism_span, a.stage->parallelism);
    b.CreateCall(runtime("flow_job_operator_parallelism", b.getVoidTy(), {ptr, i32, i32, i32}),
                 {builder, b.getInt32(a.windowed() ? FLOW_NODE_WINDOW : FLOW_NODE_AGGREGATE),
                  b.getInt32(a.windowed() ? a.window : a.table), b.getInt32(a.stage->parallelism)});
  }
  for (const plan::JoinOperator& op : plan.joins) {
    if (op.lookup() || op.join->parallelism <= 0) continue;
    stage_parallelism(op.join->parallelism_span, op.join->parallelism);
    b.CreateCall(runtime("flow_job_operator_parallelism", b.getVoidTy(), {ptr, i32, i32, i32}),
                 {builder, b.getInt32(FLOW_NODE_JOIN), b.getInt32(op.runtime), b.getInt32(op.join->parallelism)});
  }
  for (std::size_t r = 0; r < routes.size(); ++r) {
    llvm::StructType* record = record_struct(route_record(*routes[r]));
    b.CreateCall(runtime("flow_job_route", b.getVoidTy(), {ptr, i64, ptr}),
                 {builder, b.getInt64(static_cast<int64_t>(layout.getTypeAllocSize(record))), route_functions[r]});
    register_state_slots(builder, FLOW_STATE_ROUTE, static_cast<int>(r), record);
  }
  auto node_kind = [](plan::GraphNode::Kind kind) {
    using K = plan::GraphNode::Kind;
    switch (kind) {
      case K::Source: return FLOW_NODE_SOURCE;
      case K::Aggregate: return FLOW_NODE_AGGREGATE;
      case K::Window: return FLOW_NODE_WINDOW;
      case K::Join: return FLOW_NODE_JOIN;
      case K::Lookup: return FLOW_NODE_LOOKUP;
      case K::Sink: return FLOW_NODE_SINK;
    }
    return FLOW_NODE_SOURCE;
  };
  for (const plan::GraphEdge& e : plan::dataflow_edges(plan))
    b.CreateCall(runtime("flow_job_edge", b.getVoidTy(), {ptr, i32, i32, i32, i32}),
                 {builder, b.getInt32(node_kind(e.from.kind)), b.getInt32(e.from.index), b.getInt32(node_kind(e.to.kind)),
                  b.getInt32(e.to.index)});
  b.CreateRetVoid();
}

}  // namespace flow::codegen
