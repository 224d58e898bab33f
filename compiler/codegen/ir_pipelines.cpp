// Pipelines to IR: one function per pipeline. A source pipeline loops over a batch, decodes
// each row's cells into typed registers for exactly the schema's fields it reads, then runs
// the fused stages; the breaker at its end writes to a sink (ir_sinks.cpp) or updates an
// aggregate's row (ir_aggregates.cpp).
#include "flow/abi.h"
#include "ir_builder.h"

namespace flow::codegen {

using TK = sema::Type::Kind;

llvm::Function* IrBuilder::build_path_function(const sema::Expr& path, const std::string& name) {
  auto* type = llvm::FunctionType::get(i32, {ptr, ptr}, false);
  auto* f = llvm::Function::Create(type, llvm::Function::InternalLinkage, name, module);
  begin_function(f);
  std::vector<Value> none;
  Value v = eval(path, Environment{&none, &none});
  b.CreateStore(v.v, f->getArg(1));
  b.CreateRet(b.getInt32(0));
  return f;
}

// Every pipeline function is declared first, so that one pipeline can call another (a window
// hands its late records to the late stream's pipeline). Signatures (abi.h):
//   source batches, aggregate rows, dead letters: int32 (ctx, input)   — flow_batch_fn / flow_row_fn
//   window results: int32 (ctx, row, window_start, window_end)        — flow_window_emit_fn
//   late records, stream records, partitioned records:
//                   int32 (ctx, record, event_time)                   — called by generated code, or flow_route_fn
//   joined records: int32 (ctx, left, right, event_time)              — flow_join_emit_fn
llvm::Function* IrBuilder::declare_pipeline(const plan::Pipeline& p) {
  std::vector<llvm::Type*> params{ptr, ptr};
  if (p.entry == plan::Entry::WindowEmit) params = {ptr, ptr, i64, i64};
  if (p.entry == plan::Entry::JoinOutput) params = {ptr, ptr, ptr, i64};
  if (p.entry == plan::Entry::LateRecords || p.entry == plan::Entry::StreamRecords || p.entry == plan::Entry::Partitioned)
    params = {ptr, ptr, i64};
  auto* type = llvm::FunctionType::get(i32, params, false);
  return llvm::Function::Create(type, llvm::Function::InternalLinkage, "pipeline_" + std::to_string(p.id), module);
}

// Handles used by the breaker, fetched once per call.
void IrBuilder::fetch_handles(const plan::Pipeline& p) {
  sink_handles_.assign(plan.sinks.size(), nullptr);
  aggregate_handles_.assign(plan.aggregates.size(), nullptr);
  window_open_.assign(plan.aggregates.size(), nullptr);
  if (p.sink >= 0)
    sink_handles_[p.sink] = b.CreateCall(runtime("flow_ctx_sink", ptr, {ptr, i32}), {ctx, b.getInt32(p.sink)});
  if (p.updates_aggregate >= 0) {
    const plan::AggregateOperator& op = plan.aggregates[p.updates_aggregate];
    aggregate_handles_[p.updates_aggregate] =
        op.windowed() ? b.CreateCall(runtime("flow_ctx_window", ptr, {ptr, i32}), {ctx, b.getInt32(op.window)})
                      : b.CreateCall(runtime("flow_ctx_agg", ptr, {ptr, i32}), {ctx, b.getInt32(op.table)});
    if (op.windowed())
      window_open_[p.updates_aggregate] =
          b.CreateCall(runtime("flow_window_open", ptr, {ptr}), {aggregate_handles_[p.updates_aggregate]});
    key_buffer_ = b.CreateCall(runtime("flow_ctx_key_buf", ptr, {ptr}), {ctx});
  }
  // Join operators and lookup tables this pipeline stores into or probes.
  join_handles_.assign(plan.joins.size(), nullptr);
  lookup_dense_.assign(plan.joins.size(), nullptr);
  auto join_handle = [&](int j) {
    const plan::JoinOperator& op = plan.joins[static_cast<std::size_t>(j)];
    llvm::Value* handle =
        b.CreateCall(runtime(op.lookup() ? "flow_ctx_lookup" : "flow_ctx_join", ptr, {ptr, i32}), {ctx, b.getInt32(op.runtime)});
    join_handles_[static_cast<std::size_t>(j)] = handle;
    if (op.lookup())
      lookup_dense_[static_cast<std::size_t>(j)] = b.CreateCall(runtime("flow_lookup_dense_index", ptr, {ptr}), {handle});
    key_buffer_ = b.CreateCall(runtime("flow_ctx_key_buf", ptr, {ptr}), {ctx});
  };
  if (p.inserts_join >= 0) join_handle(p.inserts_join);
  for (int j : p.fills_lookups) join_handle(j);
  for (const sema::Stage* s : p.stages)
    if (s->kind == sema::Stage::Kind::Join) join_handle(s->join);

  exchange_ = route_of_pipeline[p.id] >= 0 ? b.CreateCall(runtime("flow_ctx_exchange", ptr, {ptr}), {ctx}) : nullptr;
  if (crosses_instances(p) && partition_of(p).stage->partitioning == sema::Stage::Partitioning::ByKeys)
    key_buffer_ = b.CreateCall(runtime("flow_ctx_key_buf", ptr, {ptr}), {ctx});
}

llvm::Function* IrBuilder::build_pipeline(const plan::Pipeline& p) {
  llvm::Function* f = pipeline_functions[p.id];
  begin_function(f);
  llvm::Value* input = f->getArg(1);
  event_time = nullptr;
  record_position = nullptr;

  fetch_handles(p);

  if (p.entry == plan::Entry::SourceBatch) {
    // for (row = 0; row < batch->num_rows; ++row) { decode; stages; }
    auto* batch_type = llvm::StructType::get(context, {ptr, i64, i32, i32});
    llvm::Value* cells = b.CreateLoad(ptr, b.CreateStructGEP(batch_type, input, 0), "cells");
    llvm::Value* rows = b.CreateLoad(i64, b.CreateStructGEP(batch_type, input, 1), "rows");
    const sema::EventTime& source_time = plan.program->sources[p.source].time;
    llvm::Value* watermark_slot = source_time.kind == sema::EventTime::Kind::None
                                      ? nullptr
                                      : b.CreateCall(runtime("flow_source_watermark", ptr, {ptr, i32}), {ctx, b.getInt32(p.source)});
    auto* entry = b.GetInsertBlock();
    auto* header = block("row.header");
    auto* body = block("row.body");
    auto* next = block("row.next");
    auto* done = block("row.done");
    b.CreateBr(header);
    b.SetInsertPoint(header);
    auto* row = b.CreatePHI(i64, 2, "row");
    row->addIncoming(b.getInt64(0), entry);
    b.CreateCondBr(b.CreateICmpSLT(row, rows), body, done);
    b.SetInsertPoint(body);
    if (p.carries_position)
      record_position = b.CreateCall(runtime("flow_batch_position", i64, {ptr, ptr, i64}), {ctx, input, row});
    std::vector<Value> record = decode_row(p, input, cells, row, next);
    const sema::EventTime& time = plan.program->sources[p.source].time;
    if (time.kind == sema::EventTime::Kind::None) {
      generate_stages(p, 0, record, {}, next);
    } else {
      // Each record is judged against the watermark before it; then the watermark advances,
      // whether or not a filter dropped the record.
      event_time = time.kind == sema::EventTime::Kind::Field ? record[time.field].v
                                                             : b.CreateCall(runtime("flow_clock_ms", i64, {ptr}), {ctx});
      auto* advance = block("row.advance");
      auto* moves = block("row.watermark");
      generate_stages(p, 0, record, {}, advance);
      b.SetInsertPoint(advance);
      // Only a record that moves the watermark (t - lag > W) calls the runtime.
      llvm::Value* lag = b.getInt64(time.lag_ms);
      llvm::Value* low = b.CreateICmpSLT(event_time, b.CreateAdd(b.getInt64(INT64_MIN), lag));
      llvm::Value* w = b.CreateSelect(low, b.getInt64(INT64_MIN), b.CreateSub(event_time, lag));
      b.CreateCondBr(b.CreateICmpSGT(w, b.CreateLoad(i64, watermark_slot)), moves, next);
      b.SetInsertPoint(moves);
      check_status(b.CreateCall(runtime("flow_source_advance", i32, {ptr, i32, i64}), {ctx, b.getInt32(p.source), event_time}));
      b.CreateBr(next);
    }
    b.SetInsertPoint(next);
    llvm::Value* following = b.CreateAdd(row, b.getInt64(1));
    row->addIncoming(following, next);
    b.CreateBr(header);
    b.SetInsertPoint(done);
    b.CreateRet(b.getInt32(0));
    return f;
  }

  auto* done = block("done");
  std::vector<Value> record;
  if (p.entry == plan::Entry::DeadLetter) {
    for (unsigned i = 0; i < 4; ++i)
      record.push_back(Value{b.CreateLoad(str_type, b.CreateConstGEP1_64(str_type, input, i)), nullptr});
  } else if (p.entry == plan::Entry::WindowEmit) {
    // A window's result has event time window_end - 1ms, so windows can be chained.
    record = load_aggregate_row(p.aggregate, input, f->getArg(2), f->getArg(3));
    event_time = b.CreateSub(f->getArg(3), b.getInt64(1));
    if (p.carries_position) record_position = f->getArg(3);  // (the window's end orders its results)
  } else if (p.entry == plan::Entry::LateRecords) {
    record = load_record(input, *p.input);
    event_time = f->getArg(2);
  } else if (p.entry == plan::Entry::JoinOutput) {
    record = load_join_pair(plan.program->joins[static_cast<std::size_t>(p.join)], input, f->getArg(2));
    event_time = f->getArg(3);
    if (p.carries_position) record_position = event_time;
  } else if (p.entry == plan::Entry::StreamRecords) {
    record = load_record(input, *p.input);
    if (plan.program->streams[static_cast<std::size_t>(p.stream)].has_time) event_time = f->getArg(2);
    record_position = handed_position(p);
  } else if (p.entry == plan::Entry::Partitioned) {
    record = load_record(input, *p.input);
    if (!p.time.empty()) event_time = f->getArg(2);
    record_position = handed_position(p);
  } else {
    record = load_aggregate_row(p.aggregate, input);
    if (p.carries_position) record_position = b.getInt64(0);  // (an aggregate's rows all tie: by value)
  }
  generate_stages(p, 0, record, {}, done);
  b.SetInsertPoint(done);
  b.CreateRet(b.getInt32(0));
  return f;
}

// The typed values of one row; fields the program never reads stay zero. A cell that is not
// a value of its field's type goes to the source's on-error policy.
std::vector<Value> IrBuilder::decode_row(const plan::Pipeline& p, llvm::Value* batch, llvm::Value* cells,
                                         llvm::Value* row, llvm::BasicBlock* next) {
  const auto& schema = *plan.program->sources[p.source].schema;
  const auto& used = plan.fields_used[p.source];
  uint64_t width = schema.fields.size();
  llvm::Value* first_cell = b.CreateGEP(cell_type, cells, b.CreateMul(row, b.getInt64(width)));
  std::vector<Value> record;
  for (size_t i = 0; i < width; ++i) {
    const sema::Type& t = schema.fields[i].type;
    if (!used[i]) {
      record.push_back(Value{zero_of(t), t.nullable ? static_cast<llvm::Value*>(b.getFalse()) : nullptr});
      continue;
    }
    if (t.kind == TK::List) throw CodegenError("list fields cannot be read from input");
    llvm::Value* cell = b.CreateConstGEP1_64(cell_type, first_cell, i);
    if (plan.program->sources[p.source].format == sema::SourceFormat::Generated) {
      record.push_back(typed_cell(cell, t));
      continue;
    }
    llvm::Value* data = b.CreateLoad(ptr, b.CreateStructGEP(cell_type, cell, 0));
    llvm::Value* length = b.CreateSExt(b.CreateLoad(i32, b.CreateStructGEP(cell_type, cell, 1)), i64);
    llvm::Value* flags = b.CreateLoad(i32, b.CreateStructGEP(cell_type, cell, 2));
    auto flag = [&](int32_t bit) { return b.CreateICmpNE(b.CreateAnd(flags, b.getInt32(bit)), b.getInt32(0)); };
    llvm::Value* json_null = flag(FLOW_CELL_NULL);
    llvm::Value* nested = flag(FLOW_CELL_NESTED);
    // An empty unquoted field is null for `T?`, the empty string for `string`, bad otherwise.
    llvm::Value* empty = b.CreateAnd(b.CreateICmpEQ(length, b.getInt64(0)), b.CreateNot(flag(FLOW_CELL_QUOTED)));
    llvm::Value* is_null = t.nullable ? b.CreateOr(json_null, empty) : nullptr;

    auto* bad = block("cell.bad");
    auto* good = block("cell.good");
    llvm::Value* value = nullptr;
    if (t.kind == TK::String) {
      llvm::Value* invalid = b.CreateOr(nested, t.nullable ? static_cast<llvm::Value*>(b.getFalse()) : json_null);
      b.CreateCondBr(invalid, bad, good);
      b.SetInsertPoint(good);
      value = make_string(data, length).v;
    } else {
      const char* parser = t.kind == TK::F64         ? "flow_parse_f64"
                           : t.kind == TK::Bool      ? "flow_parse_bool"
                           : t.kind == TK::Timestamp ? "flow_parse_timestamp"
                           : t.kind == TK::Duration  ? "flow_parse_duration"
                                                     : "flow_parse_i64";
      llvm::Type* out_type = t.kind == TK::F64 ? f64 : t.kind == TK::Bool ? i8 : i64;
      llvm::Value* out = entry_alloca(out_type, "cell.value");
      b.CreateStore(llvm::Constant::getNullValue(out_type), out);
      auto* parse = block("cell.parse");
      auto* parsed = block("cell.parsed");
      if (is_null) {
        b.CreateCondBr(is_null, parsed, parse);
      } else {
        b.CreateBr(parse);
      }
      b.SetInsertPoint(parse);
      llvm::Value* ok = b.CreateCall(runtime(parser, i32, {ptr, i64, ptr}), {data, length, out});
      b.CreateCondBr(b.CreateICmpNE(ok, b.getInt32(0)), parsed, bad);
      b.SetInsertPoint(parsed);
      b.CreateBr(good);
      b.SetInsertPoint(good);
      value = b.CreateLoad(out_type, out);
      if (t.kind == TK::Bool) value = b.CreateICmpNE(value, b.getInt8(0));
    }
    auto* continue_block = b.GetInsertBlock();
    b.SetInsertPoint(bad);
    llvm::Value* status = b.CreateCall(runtime("flow_bad_field", i32, {ptr, ptr, i64, i32, i32}),
                                       {ctx, batch, row, b.getInt32(static_cast<int32_t>(i)), b.getInt32(type_code(t))});
    b.CreateCondBr(b.CreateICmpEQ(status, b.getInt32(0)), next, fail_block);
    b.SetInsertPoint(continue_block);
    if (is_null && t.kind == TK::String) value = b.CreateSelect(is_null, zero_of(t), value);
    record.push_back(Value{value, is_null});
  }
  return record;
}

// A generator's cell (FLOW_FORMAT_GENERATED): the value itself, nothing to parse.
Value IrBuilder::typed_cell(llvm::Value* cell, const sema::Type& t) {
  llvm::Value* data = b.CreateLoad(ptr, b.CreateStructGEP(cell_type, cell, 0));
  if (t.kind == TK::String) return make_string(data, b.CreateSExt(b.CreateLoad(i32, b.CreateStructGEP(cell_type, cell, 1)), i64));
  llvm::Value* bits = b.CreatePtrToInt(data, i64);
  if (t.kind == TK::F64) return Value{b.CreateBitCast(bits, f64), nullptr};
  if (t.kind == TK::Bool) return Value{b.CreateICmpNE(bits, b.getInt64(0)), nullptr};
  return Value{bits, nullptr};
}

void IrBuilder::for_each_element(llvm::Value* data, llvm::Value* length, const sema::Type& element_type,
                                 llvm::BasicBlock* exit,
                                 const std::function<void(llvm::Value*, llvm::BasicBlock*)>& body) {
  auto* entry = b.GetInsertBlock();
  auto* header = block("list.header");
  auto* loop = block("list.body");
  auto* latch = block("list.next");
  b.CreateBr(header);
  b.SetInsertPoint(header);
  auto* i = b.CreatePHI(i64, 2, "element");
  i->addIncoming(b.getInt64(0), entry);
  b.CreateCondBr(b.CreateICmpSLT(i, length), loop, exit);
  b.SetInsertPoint(loop);
  llvm::Type* mt = memory_type(element_type);
  body(from_memory(b.CreateLoad(mt, b.CreateGEP(mt, data, i)), element_type), latch);
  b.SetInsertPoint(latch);
  llvm::Value* following = b.CreateAdd(i, b.getInt64(1));
  i->addIncoming(following, latch);
  b.CreateBr(header);
}

void IrBuilder::generate_stages(const plan::Pipeline& p, size_t index, const std::vector<Value>& record,
                                const std::vector<Value>& locals, llvm::BasicBlock* next) {
  Environment env{&record, &locals};
  if (index == p.stages.size()) {
    if (p.feeds_partition >= 0) {
      generate_partition(p, record, env, next);
      return;
    }
    if (!applying_route_ && route_of_pipeline[p.id] >= 0) generate_route_check(p, record, env, next);
    if (p.feeds_streams) {
      generate_stream_feed(*p.feeds_streams, record, env, next);
      return;
    }
    if (p.inserts_join >= 0) {
      generate_join_insert(p, record, env, next);
      return;
    }
    if (!p.fills_lookups.empty()) {
      generate_lookup_fill(p, record, env, next);
      return;
    }
    if (p.sink >= 0) generate_sink(p.sink, record);
    if (p.updates_aggregate >= 0) {
      if (plan.aggregates[p.updates_aggregate].windowed()) generate_window_update(p.updates_aggregate, record, env);
      else generate_aggregate_update(p.updates_aggregate, record, env);
    }
    b.CreateBr(next);
    return;
  }
  const sema::Stage& stage = *p.stages[index];
  switch (stage.kind) {
    case sema::Stage::Kind::Filter: {
      Value keep = eval(*stage.predicate, env);
      llvm::Value* pass = keep.is_null ? b.CreateAnd(keep.v, b.CreateNot(keep.is_null)) : keep.v;
      auto* kept = block("filter.kept");
      b.CreateCondBr(pass, kept, next);
      b.SetInsertPoint(kept);
      generate_stages(p, index + 1, record, locals, next);
      return;
    }
    case sema::Stage::Kind::Map: {
      std::vector<Value> output;
      for (const auto& a : stage.assignments) output.push_back(coerce_null(eval(a.value, env), a.value, a.value.type));
      generate_stages(p, index + 1, output, {}, next);
      return;
    }
    case sema::Stage::Kind::FlatMap: {
      // for each element of the list: bind it as local 0, build the record, go on.
      Value list = eval(*stage.list, env);
      const sema::Type& element_type = *stage.list->type.element;
      llvm::Value* data = b.CreateExtractValue(list.v, 0);
      llvm::Value* length = b.CreateExtractValue(list.v, 1);
      if (list.is_null) length = b.CreateSelect(list.is_null, b.getInt64(0), length);
      for_each_element(data, length, element_type, next, [&](llvm::Value* element, llvm::BasicBlock* latch) {
        std::vector<Value> inner_locals{Value{element, element_type.nullable ? static_cast<llvm::Value*>(b.getFalse()) : nullptr}};
        Environment inner{&record, &inner_locals};
        std::vector<Value> output;
        for (const auto& a : stage.assignments) output.push_back(coerce_null(eval(a.value, inner), a.value, a.value.type));
        generate_stages(p, index + 1, output, {}, latch);
      });
      return;
    }
    case sema::Stage::Kind::Join:
      generate_lookup_join(p, index, stage, env, next);
      return;
    default: break;
  }
  throw CodegenError("unexpected stage inside a pipeline");
}

bool IrBuilder::has_event_time(const plan::Pipeline& p) const {
  switch (p.entry) {
    case plan::Entry::SourceBatch: return plan.program->sources[p.source].time.kind != sema::EventTime::Kind::None;
    case plan::Entry::WindowEmit:
    case plan::Entry::LateRecords:
    case plan::Entry::JoinOutput: return true;
    case plan::Entry::StreamRecords: return plan.program->streams[static_cast<std::size_t>(p.stream)].has_time;
    case plan::Entry::Partitioned: return !p.time.empty();
    default: return false;
  }
}

// The record a route carries: what its keyed operator or partitioning stage takes in.
const sema::RecordType& IrBuilder::route_record(const plan::Pipeline& p) const {
  if (p.feeds_partition >= 0) return *partition_of(p).stage->input;
  if (p.updates_aggregate >= 0) return *plan.aggregates[p.updates_aggregate].stage->input;
  const sema::Join& j = plan.program->joins[static_cast<std::size_t>(p.inserts_join)];
  return p.join_side == 0 ? *j.left : *j.right;
}

// Before a keyed operator, in parallel: a record whose key another instance owns is stored and
// sent there (its pipeline ends here); one this instance owns, or with a null join key (it
// pairs with nothing, so any instance may keep it), goes on to the operator.
void IrBuilder::generate_route_check(const plan::Pipeline& p, const std::vector<Value>& record, const Environment& env,
                                     llvm::BasicBlock* next) {
  auto* routing = block("route.key");
  auto* remote = block("route.send");
  auto* local = block("route.local");
  b.CreateCondBr(b.CreateIsNull(exchange_), local, routing);
  b.SetInsertPoint(routing);
  std::vector<Value> keys;
  std::vector<sema::Type> types;
  int parallelism = 0;  // the operator's `@parallel`
  if (p.updates_aggregate >= 0) {
    const plan::AggregateOperator& a = plan.aggregates[p.updates_aggregate];
    parallelism = a.stage->parallelism;
    for (const auto& k : a.stage->keys) keys.push_back(coerce_null(eval(k.value, env), k.value, k.value.type));
    types = key_types(*a.stage);
    if (a.salt) {  // the owner of (key, value) takes the record
      keys.push_back(coerce_null(eval(*a.salt, env), *a.salt, a.salt->type));
      types.push_back(a.salt->type);
    }
  } else {
    const sema::Join& j = plan.program->joins[static_cast<std::size_t>(p.inserts_join)];
    keys = join_key_values(p.join_side == 0 ? j.left_keys : j.right_keys, env, local);
    types = plan::join_key_types(j);
    parallelism = j.parallelism;
  }
  auto [data, length] = encode_key(types, keys);
  llvm::Value* owns = b.CreateCall(runtime("flow_exchange_owns", i32, {ptr, ptr, i64, i32}),
                                   {exchange_, data, length, b.getInt32(parallelism)});
  b.CreateCondBr(b.CreateICmpNE(owns, b.getInt32(0)), local, remote);
  b.SetInsertPoint(remote);
  const sema::RecordType& type = route_record(p);
  if (type.fields.size() != record.size()) throw CodegenError("a route's record does not match its operator's input");
  llvm::Value* stored = entry_alloca(record_struct(type), "route.record");
  store_record(stored, type, record);
  send_record(p, stored, event_time ? event_time : b.getInt64(0));
  b.CreateBr(next);
  b.SetInsertPoint(local);
}

// The position of a record handed to pipeline `p` by a stream, a partitioning stage or a route
// (flow_ctx_position), if `p` carries positions; else nullptr.
llvm::Value* IrBuilder::handed_position(const plan::Pipeline& p) {
  return p.carries_position ? b.CreateCall(runtime("flow_ctx_position", i64, {ptr}), {ctx}) : nullptr;
}

// Hands a stored record to the exchange for the owner it last chose, with its position when
// the pipeline carries one.
void IrBuilder::send_record(const plan::Pipeline& p, llvm::Value* stored, llvm::Value* time) {
  llvm::Value* route = b.getInt32(route_of_pipeline[p.id]);
  if (record_position)
    b.CreateCall(runtime("flow_exchange_send_at", b.getVoidTy(), {ptr, i32, ptr, i64, i64}),
                 {exchange_, route, stored, time, record_position});
  else
    b.CreateCall(runtime("flow_exchange_send", b.getVoidTy(), {ptr, i32, ptr, i64}), {exchange_, route, stored, time});
}

// The end of a pipeline cut by `partition by`, `rebalance` or `rescale`: the record goes on in
// the next pipeline, here or (in parallel) at the instance owning its key or next in turn.
void IrBuilder::generate_partition(const plan::Pipeline& p, const std::vector<Value>& record, const Environment& env,
                                   llvm::BasicBlock* next) {
  const plan::PartitionOperator& x = partition_of(p);
  llvm::Value* stored = entry_alloca(record_struct(*x.stage->input), "partition.record");
  store_record(stored, *x.stage->input, record);
  llvm::Value* time = event_time ? event_time : b.getInt64(0);
  // The keys are computed at every parallelism, so that one that fails (a division by zero)
  // fails at 1 as well.
  std::vector<Value> keys;
  for (const auto& k : x.stage->keys) keys.push_back(coerce_null(eval(k.value, env), k.value, k.value.type));
  auto* local = block("partition.local");
  if (crosses_instances(p)) {
    auto* choose = block("partition.choose");
    auto* remote = block("partition.send");
    b.CreateCondBr(b.CreateIsNull(exchange_), local, choose);
    b.SetInsertPoint(choose);
    llvm::Value* stays = nullptr;
    llvm::Value* parallelism = b.getInt32(x.stage->parallelism);
    using P = sema::Stage::Partitioning;
    if (x.stage->partitioning == P::ByKeys) {
      auto [data, length] = encode_key(key_types(*x.stage), keys);
      stays = b.CreateCall(runtime("flow_exchange_owns", i32, {ptr, ptr, i64, i32}), {exchange_, data, length, parallelism});
    } else if (x.stage->partitioning == P::Rebalance) {
      stays = b.CreateCall(runtime("flow_exchange_deal", i32, {ptr, i32, i32}),
                           {exchange_, b.getInt32(p.feeds_partition), parallelism});
    } else {
      stays = b.CreateCall(runtime("flow_exchange_rescale", i32, {ptr, i32}), {exchange_, parallelism});
    }
    b.CreateCondBr(b.CreateICmpNE(stays, b.getInt32(0)), local, remote);
    b.SetInsertPoint(remote);
    send_record(p, stored, time);
    b.CreateBr(next);
  } else {
    b.CreateBr(local);
  }
  b.SetInsertPoint(local);
  if (record_position) b.CreateCall(runtime("flow_ctx_set_position", b.getVoidTy(), {ptr, i64}), {ctx, record_position});
  check_status(b.CreateCall(pipeline_functions[x.to_pipeline], {ctx, stored, time}));
  b.CreateBr(next);
}

// int32 route_N(ctx, record, event_time): a routed record arriving at the instance that owns
// its key goes into the keyed operator that ends pipeline N.
llvm::Function* IrBuilder::build_route_apply(const plan::Pipeline& p) {
  auto* type = llvm::FunctionType::get(i32, {ptr, ptr, i64}, false);
  auto* f = llvm::Function::Create(type, llvm::Function::InternalLinkage, "route_" + std::to_string(p.id), module);
  begin_function(f);
  event_time = has_event_time(p) ? f->getArg(2) : nullptr;
  fetch_handles(p);
  record_position = handed_position(p);
  std::vector<Value> record = load_record(f->getArg(1), route_record(p));
  auto* done = block("done");
  applying_route_ = true;
  generate_stages(p, p.stages.size(), record, {}, done);
  applying_route_ = false;
  b.SetInsertPoint(done);
  b.CreateRet(b.getInt32(0));
  return f;
}

// The end of a flow that feeds streams: the record is stored once and handed, with its event
// time, to every pipeline reading the stream (Emit) or the stream of the first branch whose
// condition holds (Split; a null condition does not hold, a record no branch takes is dropped).
void IrBuilder::generate_stream_feed(const sema::Stage& stage, const std::vector<Value>& record, const Environment& env,
                                     llvm::BasicBlock* next) {
  llvm::Value* stored = entry_alloca(record_struct(*stage.input), "stream.record");
  store_record(stored, *stage.input, record);
  llvm::Value* time = event_time ? event_time : b.getInt64(0);
  auto feed = [&](int stream) {
    for (int reader : plan.stream_readers[static_cast<std::size_t>(stream)]) {
      // (each reader may pass it on, so it is set again for the next)
      if (record_position) b.CreateCall(runtime("flow_ctx_set_position", b.getVoidTy(), {ptr, i64}), {ctx, record_position});
      check_status(b.CreateCall(pipeline_functions[reader], {ctx, stored, time}));
    }
  };
  if (stage.kind == sema::Stage::Kind::Emit) {
    feed(stage.stream);
    b.CreateBr(next);
    return;
  }
  for (const sema::SplitBranch& branch : stage.branches) {
    if (!branch.when) {
      feed(branch.stream);
      b.CreateBr(next);
      return;
    }
    Value when = eval(*branch.when, env);
    llvm::Value* holds = when.is_null ? b.CreateAnd(when.v, b.CreateNot(when.is_null)) : when.v;
    auto* taken = block("split.taken");
    auto* other = block("split.other");
    b.CreateCondBr(holds, taken, other);
    b.SetInsertPoint(taken);
    feed(branch.stream);
    b.CreateBr(next);
    b.SetInsertPoint(other);
  }
  b.CreateBr(next);
}

}  // namespace flow::codegen
