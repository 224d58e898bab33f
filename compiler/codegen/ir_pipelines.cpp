// Pipelines to IR: one function per pipeline. A source pipeline loops over a batch, decodes
// each row's cells into typed registers for exactly the schema's fields it reads, then runs
// the fused stages; the breaker at its end writes to a sink or updates an aggregate's row in
// the runtime's hash table with inline accumulator code.
#include <llvm/IR/Intrinsics.h>

#include "flow/abi.h"
#include "ir_builder.h"

namespace flow::codegen {

using TK = sema::Type::Kind;
using sema::Aggregator;

// keys (value [, null flag]) then accumulators: count -> i64; count_distinct -> set pointer;
// sum/min/max/first/last -> value, "has a value" flag; avg -> f64 sum, i64 count.
AggregateLayout IrBuilder::row_layout(const sema::Stage& stage) {
  AggregateLayout layout;
  std::vector<llvm::Type*> slots;
  for (const auto& key : stage.keys) {
    if (key.value.type.kind == TK::List) throw CodegenError("lists cannot be aggregate keys");
    layout.key_slots.push_back(static_cast<unsigned>(slots.size()));
    slots.push_back(memory_type(key.value.type));
    if (key.value.type.nullable) slots.push_back(i8);
  }
  for (const auto& binding : stage.aggregates) {
    layout.binding_slots.push_back(static_cast<unsigned>(slots.size()));
    switch (binding.aggregator) {
      case Aggregator::Count:
      case Aggregator::CountNonNull: slots.push_back(i64); break;
      case Aggregator::CountDistinct: slots.push_back(ptr); break;
      case Aggregator::Avg: slots.push_back(f64); slots.push_back(i64); break;
      default:
        slots.push_back(memory_type(binding.arg->type));
        slots.push_back(i8);
        break;
    }
  }
  if (slots.empty()) slots.push_back(i64);  // a row needs a size
  layout.type = llvm::StructType::create(context, slots, "aggregate_row");
  return layout;
}

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

llvm::Function* IrBuilder::build_pipeline(const plan::Pipeline& p) {
  auto* type = llvm::FunctionType::get(i32, {ptr, ptr}, false);
  auto* f = llvm::Function::Create(type, llvm::Function::InternalLinkage, "pipeline_" + std::to_string(p.id), module);
  begin_function(f);
  llvm::Value* input = f->getArg(1);

  // Handles used by the breaker, fetched once per call.
  sink_handles_.assign(plan.sinks.size(), nullptr);
  aggregate_handles_.assign(plan.aggregates.size(), nullptr);
  if (p.sink >= 0)
    sink_handles_[p.sink] = b.CreateCall(runtime("flow_ctx_sink", ptr, {ptr, i32}), {ctx, b.getInt32(p.sink)});
  if (p.updates_aggregate >= 0) {
    aggregate_handles_[p.updates_aggregate] =
        b.CreateCall(runtime("flow_ctx_agg", ptr, {ptr, i32}), {ctx, b.getInt32(p.updates_aggregate)});
    key_buffer_ = b.CreateCall(runtime("flow_ctx_key_buf", ptr, {ptr}), {ctx});
  }

  if (p.entry == plan::Entry::SourceBatch) {
    // for (row = 0; row < batch->num_rows; ++row) { decode; stages; }
    auto* batch_type = llvm::StructType::get(context, {ptr, i64, i32, i32});
    llvm::Value* cells = b.CreateLoad(ptr, b.CreateStructGEP(batch_type, input, 0), "cells");
    llvm::Value* rows = b.CreateLoad(i64, b.CreateStructGEP(batch_type, input, 1), "rows");
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
    std::vector<Value> record = decode_row(p, input, cells, row, next);
    generate_stages(p, 0, record, {}, next);
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
  } else {
    record = load_aggregate_row(p.aggregate, input);
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

void IrBuilder::generate_stages(const plan::Pipeline& p, size_t index, const std::vector<Value>& record,
                                const std::vector<Value>& locals, llvm::BasicBlock* next) {
  Environment env{&record, &locals};
  if (index == p.stages.size()) {
    if (p.sink >= 0) generate_sink(p.sink, record);
    if (p.updates_aggregate >= 0) generate_aggregate_update(p.updates_aggregate, record, env);
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
      auto* entry = b.GetInsertBlock();
      auto* header = block("flatmap.header");
      auto* body = block("flatmap.body");
      auto* latch = block("flatmap.next");
      b.CreateBr(header);
      b.SetInsertPoint(header);
      auto* i = b.CreatePHI(i64, 2, "element");
      i->addIncoming(b.getInt64(0), entry);
      b.CreateCondBr(b.CreateICmpSLT(i, length), body, next);
      b.SetInsertPoint(body);
      llvm::Type* mt = memory_type(element_type);
      llvm::Value* element = from_memory(b.CreateLoad(mt, b.CreateGEP(mt, data, i)), element_type);
      std::vector<Value> inner_locals{Value{element, element_type.nullable ? static_cast<llvm::Value*>(b.getFalse()) : nullptr}};
      Environment inner{&record, &inner_locals};
      std::vector<Value> output;
      for (const auto& a : stage.assignments) output.push_back(coerce_null(eval(a.value, inner), a.value, a.value.type));
      generate_stages(p, index + 1, output, {}, latch);
      b.SetInsertPoint(latch);
      llvm::Value* following = b.CreateAdd(i, b.getInt64(1));
      i->addIncoming(following, latch);
      b.CreateBr(header);
      return;
    }
    default: break;
  }
  throw CodegenError("unexpected stage inside a pipeline");
}

// ------------------------------------------------------------------------------- sinks

void IrBuilder::write_non_null(llvm::Value* sink, const sema::Type& t, llvm::Value* v) {
  auto out = [&](const char* name, llvm::Type* type, llvm::Value* x) {
    b.CreateCall(runtime(name, b.getVoidTy(), {ptr, type}), {sink, x});
  };
  switch (t.kind) {
    case TK::Bool: out("flow_out_bool", i32, b.CreateZExt(v, i32)); return;
    case TK::I64: out("flow_out_i64", i64, v); return;
    case TK::F64: out("flow_out_f64", f64, v); return;
    case TK::Timestamp: out("flow_out_timestamp", i64, v); return;
    case TK::Duration: out("flow_out_duration", i64, v); return;
    case TK::String:
      b.CreateCall(runtime("flow_out_str", b.getVoidTy(), {ptr, ptr, i64}),
                   {sink, b.CreateExtractValue(v, 0), b.CreateExtractValue(v, 1)});
      return;
    case TK::List: {
      const sema::Type& element_type = *t.element;
      b.CreateCall(runtime("flow_out_list_begin", b.getVoidTy(), {ptr}), {sink});
      llvm::Value* data = b.CreateExtractValue(v, 0);
      llvm::Value* length = b.CreateExtractValue(v, 1);
      auto* entry = b.GetInsertBlock();
      auto* header = block("list.header");
      auto* body = block("list.body");
      auto* done = block("list.done");
      b.CreateBr(header);
      b.SetInsertPoint(header);
      auto* i = b.CreatePHI(i64, 2);
      i->addIncoming(b.getInt64(0), entry);
      b.CreateCondBr(b.CreateICmpSLT(i, length), body, done);
      b.SetInsertPoint(body);
      llvm::Type* mt = memory_type(element_type);
      llvm::Value* element = from_memory(b.CreateLoad(mt, b.CreateGEP(mt, data, i)), element_type);
      write_non_null(sink, element_type, element);
      llvm::Value* following = b.CreateAdd(i, b.getInt64(1));
      i->addIncoming(following, b.GetInsertBlock());
      b.CreateBr(header);
      b.SetInsertPoint(done);
      b.CreateCall(runtime("flow_out_list_end", b.getVoidTy(), {ptr}), {sink});
      return;
    }
    default: throw CodegenError("this type cannot be written to a sink yet");
  }
}

void IrBuilder::write_value(llvm::Value* sink, const sema::Type& t, const Value& v) {
  if (!v.is_null) {
    write_non_null(sink, t, v.v);
    return;
  }
  auto* null_block = block("out.null");
  auto* value_block = block("out.value");
  auto* done = block("out.done");
  b.CreateCondBr(v.is_null, null_block, value_block);
  b.SetInsertPoint(null_block);
  b.CreateCall(runtime("flow_out_null", b.getVoidTy(), {ptr}), {sink});
  b.CreateBr(done);
  b.SetInsertPoint(value_block);
  write_non_null(sink, t, v.v);
  b.CreateBr(done);
  b.SetInsertPoint(done);
}

void IrBuilder::generate_sink(int sink, const std::vector<Value>& record) {
  const sema::Stage& stage = *plan.sinks[sink].stage;
  llvm::Value* handle = sink_handles_[sink];
  if (stage.sink_kind != sema::Stage::SinkKind::Null)
    for (size_t i = 0; i < record.size(); ++i) write_value(handle, stage.input->fields[i].type, record[i]);
  check_status(b.CreateCall(runtime("flow_out_end", i32, {ptr}), {handle}));
}

// ------------------------------------------------------------------------------- aggregates

// Keys made only of non-null fixed-width values (plan::fixed_key_width) are encoded inline,
// into a stack buffer, in the runtime's memcomparable format (flow_key_* in
// runtime/agg/key_buffer.cpp); other keys go through the flow_key_* calls.
llvm::Value* IrBuilder::upsert_fixed_width_key(const sema::Stage& stage, llvm::Value* table, const std::vector<Value>& keys,
                                               llvm::Value* is_new_slot) {
  uint64_t width = plan::fixed_key_width(stage);
  llvm::Value* buffer = entry_alloca(llvm::ArrayType::get(i8, width), "key");
  uint64_t at = 0;
  const uint64_t sign = uint64_t{1} << 63;
  for (size_t i = 0; i < keys.size(); ++i) {
    const sema::Type& t = stage.keys[i].value.type;
    llvm::Value* place = b.CreateConstGEP1_64(i8, buffer, at);
    if (t.kind == TK::Bool) {
      b.CreateStore(b.CreateZExt(keys[i].v, i8), place);
      at += 1;
      continue;
    }
    llvm::Value* bits;
    if (t.kind == TK::F64) {
      // -0.0 and 0.0 are one key, and so are all NaNs; negative numbers sort first.
      llvm::Value* v = keys[i].v;
      v = b.CreateSelect(b.CreateFCmpOEQ(v, llvm::ConstantFP::get(f64, 0.0)), llvm::ConstantFP::get(f64, 0.0), v);
      v = b.CreateSelect(b.CreateFCmpUNO(v, v), llvm::ConstantFP::getNaN(f64), v);
      bits = b.CreateBitCast(v, i64);
      llvm::Value* negative = b.CreateICmpSLT(bits, b.getInt64(0));
      bits = b.CreateSelect(negative, b.CreateNot(bits), b.CreateOr(bits, b.getInt64(sign)));
    } else {
      bits = b.CreateXor(keys[i].v, b.getInt64(sign));
    }
    b.CreateStore(b.CreateUnaryIntrinsic(llvm::Intrinsic::bswap, bits), place);
    at += 8;
  }
  return b.CreateCall(runtime("flow_agg_upsert_key", ptr, {ptr, ptr, i64, ptr}),
                      {table, buffer, b.getInt64(static_cast<int64_t>(width)), is_new_slot});
}

llvm::Value* IrBuilder::upsert_encoded_key(const sema::Stage& stage, llvm::Value* table, const std::vector<Value>& keys,
                                           llvm::Value* is_new_slot) {
  llvm::Value* key = key_buffer_;
  b.CreateCall(runtime("flow_key_reset", b.getVoidTy(), {ptr}), {key});
  for (size_t i = 0; i < keys.size(); ++i) {
    const sema::Type& t = stage.keys[i].value.type;
    const Value& v = keys[i];
    auto encode = [&]() {
      if (t.kind == TK::String) {
        b.CreateCall(runtime("flow_key_str", b.getVoidTy(), {ptr, ptr, i64}), {key, string_data(v), string_length(v)});
      } else if (t.kind == TK::F64) {
        b.CreateCall(runtime("flow_key_f64", b.getVoidTy(), {ptr, f64}), {key, v.v});
      } else if (t.kind == TK::Bool) {
        b.CreateCall(runtime("flow_key_bool", b.getVoidTy(), {ptr, i32}), {key, b.CreateZExt(v.v, i32)});
      } else {
        b.CreateCall(runtime("flow_key_i64", b.getVoidTy(), {ptr, i64}), {key, v.v});
      }
    };
    if (!t.nullable) {
      encode();
      continue;
    }
    llvm::Value* null = v.is_null ? v.is_null : b.getFalse();
    auto* null_block = block("key.null");
    auto* value_block = block("key.value");
    auto* done = block("key.done");
    b.CreateCondBr(null, null_block, value_block);
    b.SetInsertPoint(null_block);
    b.CreateCall(runtime("flow_key_null", b.getVoidTy(), {ptr}), {key});
    b.CreateBr(done);
    b.SetInsertPoint(value_block);
    b.CreateCall(runtime("flow_key_present", b.getVoidTy(), {ptr}), {key});
    encode();
    b.CreateBr(done);
    b.SetInsertPoint(done);
  }
  return b.CreateCall(runtime("flow_agg_upsert", ptr, {ptr, ptr, ptr}), {table, key, is_new_slot});
}

void IrBuilder::generate_aggregate_update(int aggregate, const std::vector<Value>& record, const Environment& env) {
  const sema::Stage& stage = *plan.aggregates[aggregate].stage;
  const AggregateLayout& layout = aggregate_layouts[aggregate];
  llvm::Value* table = aggregate_handles_[aggregate];
  std::vector<Value> keys;
  for (const auto& k : stage.keys) keys.push_back(coerce_null(eval(k.value, env), k.value, k.value.type));
  llvm::Value* is_new_slot = entry_alloca(i32, "is_new");
  llvm::Value* row = plan::fixed_key_width(stage) > 0 ? upsert_fixed_width_key(stage, table, keys, is_new_slot)
                                                 : upsert_encoded_key(stage, table, keys, is_new_slot);
  llvm::StructType* row_type = layout.type;
  auto slot = [&](unsigned index) { return b.CreateStructGEP(row_type, row, index); };
  auto copy_string = [&](llvm::Value* s) {
    llvm::Value* out = entry_alloca(str_type, "copy");
    b.CreateCall(runtime("flow_agg_copy_str", b.getVoidTy(), {ptr, ptr, i64, ptr}),
                 {table, b.CreateExtractValue(s, 0), b.CreateExtractValue(s, 1), out});
    return b.CreateLoad(str_type, out);
  };

  // A new row: store the key values (strings copied into the table) and create sets.
  auto* init = block("row.init");
  auto* update = block("row.update");
  b.CreateCondBr(b.CreateICmpNE(b.CreateLoad(i32, is_new_slot), b.getInt32(0)), init, update);
  b.SetInsertPoint(init);
  for (size_t i = 0; i < stage.keys.size(); ++i) {
    const sema::Type& t = stage.keys[i].value.type;
    llvm::Value* v = t.kind == TK::String ? copy_string(keys[i].v) : to_memory(keys[i].v, t);
    b.CreateStore(v, slot(layout.key_slots[i]));
    if (t.nullable)
      b.CreateStore(b.CreateZExt(keys[i].is_null ? keys[i].is_null : b.getFalse(), i8), slot(layout.key_slots[i] + 1));
  }
  for (size_t i = 0; i < stage.aggregates.size(); ++i)
    if (stage.aggregates[i].aggregator == Aggregator::CountDistinct)
      b.CreateStore(b.CreateCall(runtime("flow_distinct_new", ptr, {ptr}), {table}), slot(layout.binding_slots[i]));
  b.CreateBr(update);
  b.SetInsertPoint(update);

  for (size_t i = 0; i < stage.aggregates.size(); ++i) {
    const sema::AggregateBinding& binding = stage.aggregates[i];
    unsigned first = layout.binding_slots[i];
    if (binding.aggregator == Aggregator::Count) {
      llvm::Value* count = slot(first);
      b.CreateStore(b.CreateAdd(b.CreateLoad(i64, count), b.getInt64(1)), count);
      continue;
    }
    const sema::Type& t = binding.arg->type;
    Value v = coerce_null(eval(*binding.arg, env), *binding.arg, t);
    // Null inputs are ignored by every aggregator but count().
    auto* apply = block("acc.apply");
    auto* done = block("acc.done");
    if (v.is_null) {
      b.CreateCondBr(v.is_null, done, apply);
    } else {
      b.CreateBr(apply);
    }
    b.SetInsertPoint(apply);
    switch (binding.aggregator) {
      case Aggregator::CountNonNull: {
        llvm::Value* count = slot(first);
        b.CreateStore(b.CreateAdd(b.CreateLoad(i64, count), b.getInt64(1)), count);
        break;
      }
      case Aggregator::Avg: {
        llvm::Value* x = t.kind == TK::F64 ? v.v : b.CreateSIToFP(v.v, f64);
        b.CreateStore(b.CreateFAdd(b.CreateLoad(f64, slot(first)), x), slot(first));
        b.CreateStore(b.CreateAdd(b.CreateLoad(i64, slot(first + 1)), b.getInt64(1)), slot(first + 1));
        break;
      }
      case Aggregator::CountDistinct: {
        llvm::Value* set = b.CreateLoad(ptr, slot(first));
        if (t.kind == TK::String) {
          b.CreateCall(runtime("flow_distinct_add_str", b.getVoidTy(), {ptr, ptr, i64}), {set, string_data(v), string_length(v)});
        } else {
          llvm::Value* bits = t.kind == TK::F64 ? b.CreateBitCast(v.v, i64) : t.kind == TK::Bool ? b.CreateZExt(v.v, i64) : v.v;
          b.CreateCall(runtime("flow_distinct_add_i64", b.getVoidTy(), {ptr, i64}), {set, bits});
        }
        break;
      }
      case Aggregator::Sum: {
        llvm::Value* sum = slot(first);
        llvm::Value* old = b.CreateLoad(memory_type(t), sum);
        b.CreateStore(t.kind == TK::F64 ? b.CreateFAdd(old, v.v) : b.CreateAdd(old, v.v), sum);
        b.CreateStore(b.getInt8(1), slot(first + 1));
        break;
      }
      default: {  // min, max, first, last: replace the kept value when the rule says so
        llvm::Value* has = b.CreateICmpNE(b.CreateLoad(i8, slot(first + 1)), b.getInt8(0));
        llvm::Value* replace = nullptr;
        if (binding.aggregator == Aggregator::First) {
          replace = b.CreateNot(has);
        } else if (binding.aggregator == Aggregator::Last) {
          replace = b.getTrue();
        } else {
          Value old{from_memory(b.CreateLoad(memory_type(t), slot(first)), t), nullptr};
          Value better = compare(binding.aggregator == Aggregator::Min ? sema::BinaryOp::Lt : sema::BinaryOp::Gt, t,
                                 Value{v.v, nullptr}, old);
          replace = b.CreateOr(b.CreateNot(has), better.v);
        }
        auto* store = block("acc.store");
        b.CreateCondBr(replace, store, done);
        b.SetInsertPoint(store);
        llvm::Value* kept = t.kind == TK::String ? copy_string(v.v) : to_memory(v.v, t);
        b.CreateStore(kept, slot(first));
        b.CreateStore(b.getInt8(1), slot(first + 1));
        break;
      }
    }
    b.CreateBr(done);
    b.SetInsertPoint(done);
  }
}

// The aggregate's output record from one row: keys, then each binding's final value.
std::vector<Value> IrBuilder::load_aggregate_row(int aggregate, llvm::Value* row) {
  const sema::Stage& stage = *plan.aggregates[aggregate].stage;
  const AggregateLayout& layout = aggregate_layouts[aggregate];
  auto slot = [&](unsigned index) { return b.CreateStructGEP(layout.type, row, index); };
  std::vector<Value> record;
  for (size_t i = 0; i < stage.keys.size(); ++i) {
    const sema::Type& t = stage.keys[i].value.type;
    Value v{from_memory(b.CreateLoad(memory_type(t), slot(layout.key_slots[i])), t), nullptr};
    if (t.nullable) v.is_null = b.CreateICmpNE(b.CreateLoad(i8, slot(layout.key_slots[i] + 1)), b.getInt8(0));
    record.push_back(v);
  }
  for (size_t i = 0; i < stage.aggregates.size(); ++i) {
    const sema::AggregateBinding& binding = stage.aggregates[i];
    unsigned first = layout.binding_slots[i];
    switch (binding.aggregator) {
      case Aggregator::Count:
      case Aggregator::CountNonNull: record.push_back(Value{b.CreateLoad(i64, slot(first)), nullptr}); break;
      case Aggregator::CountDistinct: {
        llvm::Value* set = b.CreateLoad(ptr, slot(first));
        record.push_back(Value{b.CreateCall(runtime("flow_distinct_count", i64, {ptr}), {set}), nullptr});
        break;
      }
      case Aggregator::Avg: {
        llvm::Value* count = b.CreateLoad(i64, slot(first + 1));
        llvm::Value* mean = b.CreateFDiv(b.CreateLoad(f64, slot(first)), b.CreateSIToFP(count, f64));
        llvm::Value* none = b.CreateICmpEQ(count, b.getInt64(0));
        record.push_back(Value{b.CreateSelect(none, llvm::ConstantFP::get(f64, 0.0), mean),
                               binding.type.nullable ? none : nullptr});
        break;
      }
      default: {
        const sema::Type& t = binding.arg->type;
        llvm::Value* v = from_memory(b.CreateLoad(memory_type(t), slot(first)), t);
        llvm::Value* none = b.CreateICmpEQ(b.CreateLoad(i8, slot(first + 1)), b.getInt8(0));
        if (binding.type.kind == TK::F64 && t.kind == TK::I64) v = b.CreateSIToFP(v, f64);
        record.push_back(Value{v, binding.type.nullable ? none : nullptr});
        break;
      }
    }
  }
  return record;
}

}  // namespace flow::codegen
