// Windowed aggregates to IR: the record's key is encoded inline and handed with its event time
// to flow_window_upsert, which picks the state row (slice, window or session) or says the
// record is late — unless its time falls in the slice the operator has published as open,
// whose row generated code finds itself; the accumulators are then updated inline exactly as
// for an unwindowed aggregate. Late records go straight into the late stream's pipeline. The
// merge function lets the runtime combine slices and merge sessions without knowing the row
// layout.
#include "ir_builder.h"

#include <array>

namespace flow::codegen {

using TK = sema::Type::Kind;
using sema::Aggregator;

// A record in memory: each field in its memory type, followed by an i8 null flag if nullable.
llvm::StructType* IrBuilder::record_struct(const sema::RecordType& record) {
  std::vector<llvm::Type*> slots;
  for (const auto& f : record.fields) {
    slots.push_back(memory_type(f.type));
    if (f.type.nullable) slots.push_back(i8);
  }
  if (slots.empty()) slots.push_back(i8);
  return llvm::StructType::get(context, slots);
}

void IrBuilder::store_record(llvm::Value* at, const sema::RecordType& type, const std::vector<Value>& record,
                             llvm::Value* owner) {
  llvm::StructType* layout = record_struct(type);
  unsigned slot = 0;
  for (size_t i = 0; i < type.fields.size(); ++i) {
    const sema::Type& t = type.fields[i].type;
    llvm::Value* v = to_memory(record[i].v, t);
    if (owner && t.kind == TK::String) {
      llvm::Value* out = entry_alloca(str_type, "kept");
      b.CreateCall(runtime("flow_state_copy_str", b.getVoidTy(), {ptr, ptr, i64, ptr}),
                   {owner, b.CreateExtractValue(v, 0), b.CreateExtractValue(v, 1), out});
      v = b.CreateLoad(str_type, out);
    }
    b.CreateStore(v, b.CreateStructGEP(layout, at, slot++));
    if (t.nullable)
      b.CreateStore(b.CreateZExt(record[i].is_null ? record[i].is_null : b.getFalse(), i8), b.CreateStructGEP(layout, at, slot++));
  }
}

std::vector<Value> IrBuilder::load_record(llvm::Value* at, const sema::RecordType& type) {
  llvm::StructType* layout = record_struct(type);
  std::vector<Value> record;
  unsigned slot = 0;
  for (const auto& f : type.fields) {
    Value v{from_memory(b.CreateLoad(memory_type(f.type), b.CreateStructGEP(layout, at, slot++)), f.type), nullptr};
    if (f.type.nullable) v.is_null = b.CreateICmpNE(b.CreateLoad(i8, b.CreateStructGEP(layout, at, slot++)), b.getInt8(0));
    record.push_back(v);
  }
  return record;
}

void IrBuilder::generate_window_update(int aggregate, const std::vector<Value>& record, const Environment& env) {
  const plan::AggregateOperator& op = plan.aggregates[aggregate];
  const sema::Stage& stage = *op.stage;
  llvm::Value* window = aggregate_handles_[aggregate];
  std::vector<Value> keys;
  for (const auto& k : stage.keys) keys.push_back(coerce_null(eval(k.value, env), k.value, k.value.type));
  auto [data, length] = encode_key(key_types(stage), keys);
  // flow_window_hit { state, seq, is_new, refire }
  auto* hit_type = llvm::StructType::get(context, {ptr, i64, i32, i32});
  llvm::Value* hit = entry_alloca(hit_type, "hit");
  // `aggregate local`: into this instance's partial rows, merged at the key's instance later.
  const char* upsert = combinable(aggregate) ? "flow_window_upsert_local" : "flow_window_upsert";
  auto* placed = block("window.placed");
  auto* late = block("window.late");
  auto* after = block("window.after");
  // Where the record is placed: row, state, seq, is_new, refire, from each way to `placed`.
  std::vector<std::pair<llvm::BasicBlock*, std::array<llvm::Value*, 5>>> ways;
  if (!combinable(aggregate)) {
    // A record of the open slice is placed here: never late, never a refiring.
    auto* open_type = llvm::StructType::get(context, {i64, i64, ptr, i64, i64});  // flow_window_open_slice
    llvm::Value* open = window_open_[aggregate];
    auto field = [&](unsigned i) { return b.CreateStructGEP(open_type, open, i); };
    llvm::Value* offset = b.CreateSub(event_time, b.CreateLoad(i64, field(0)));
    auto* in_open = block("window.open");
    auto* by_runtime = block("window.runtime");
    b.CreateCondBr(b.CreateICmpULT(offset, b.CreateLoad(i64, field(1))), in_open, by_runtime);
    b.SetInsertPoint(in_open);
    llvm::Value* rows = b.CreateLoad(ptr, field(2));
    llvm::Value* is_new_slot = b.CreateStructGEP(hit_type, hit, 2);
    llvm::Value* row = b.CreateCall(runtime("flow_agg_upsert_key", ptr, {ptr, ptr, i64, ptr}), {rows, data, length, is_new_slot});
    llvm::Value* seq = b.CreateAdd(b.CreateLoad(i64, field(3)), b.getInt64(1));
    b.CreateStore(seq, field(3));
    b.CreateStore(b.CreateAdd(b.CreateLoad(i64, field(4)), b.getInt64(1)), field(4));
    llvm::Value* is_new = b.CreateICmpNE(b.CreateLoad(i32, is_new_slot), b.getInt32(0));
    ways.push_back({b.GetInsertBlock(), {row, rows, seq, is_new, b.getFalse()}});
    b.CreateBr(placed);
    b.SetInsertPoint(by_runtime);
  }
  llvm::Value* row = b.CreateCall(runtime(upsert, ptr, {ptr, ptr, i64, i64, ptr}), {window, data, length, event_time, hit});
  auto* by_runtime_placed = block("window.runtime.placed");
  b.CreateCondBr(b.CreateIsNull(row), late, by_runtime_placed);
  b.SetInsertPoint(by_runtime_placed);
  ways.push_back({by_runtime_placed,
                  {row, b.CreateLoad(ptr, b.CreateStructGEP(hit_type, hit, 0)), b.CreateLoad(i64, b.CreateStructGEP(hit_type, hit, 1)),
                   b.CreateICmpNE(b.CreateLoad(i32, b.CreateStructGEP(hit_type, hit, 2)), b.getInt32(0)),
                   b.CreateICmpNE(b.CreateLoad(i32, b.CreateStructGEP(hit_type, hit, 3)), b.getInt32(0))}});
  b.CreateBr(placed);

  b.SetInsertPoint(late);
  if (op.late_pipeline >= 0) {
    llvm::Value* stored = entry_alloca(record_struct(*stage.input), "late.record");
    store_record(stored, *stage.input, record);
    check_status(b.CreateCall(pipeline_functions[op.late_pipeline], {ctx, stored, event_time}));
  }
  b.CreateBr(after);

  b.SetInsertPoint(placed);
  std::array<llvm::Value*, 5> got{};
  const std::array<llvm::Type*, 5> types{ptr, ptr, i64, i1, i1};
  for (std::size_t k = 0; k < got.size(); ++k) {
    auto* phi = b.CreatePHI(types[k], static_cast<unsigned>(ways.size()));
    for (const auto& [from, values] : ways) phi->addIncoming(values[k], from);
    got[k] = phi;
  }
  auto [placed_row, state, seq, is_new, fired] = got;
  init_new_row(aggregate, placed_row, state, keys, is_new);
  update_accumulators(aggregate, placed_row, state, position_or(seq), env);
  auto* refire = block("window.refire");
  b.CreateCondBr(fired, refire, after);
  b.SetInsertPoint(refire);
  check_status(b.CreateCall(runtime("flow_window_refire", i32, {ptr}), {window}));
  b.CreateBr(after);
  b.SetInsertPoint(after);
}

// void merge_N(ctx, state, into, from): folds row `from` into row `into` (see flow_merge_fn).
llvm::Function* IrBuilder::build_merge_function(int aggregate) {
  const sema::Stage& stage = *plan.aggregates[aggregate].stage;
  const AggregateLayout& layout = aggregate_layouts[aggregate];
  auto* type = llvm::FunctionType::get(b.getVoidTy(), {ptr, ptr, ptr, ptr}, false);
  auto* f = llvm::Function::Create(type, llvm::Function::InternalLinkage, "merge_" + std::to_string(aggregate), module);
  function = f;
  ctx = f->getArg(0);
  fail_block = nullptr;
  b.SetInsertPoint(llvm::BasicBlock::Create(context, "entry", f));
  llvm::Value* state = f->getArg(1);
  llvm::Value* into = f->getArg(2);
  llvm::Value* from = f->getArg(3);
  auto at = [&](llvm::Value* row, unsigned index) { return b.CreateStructGEP(layout.type, row, index); };
  auto load = [&](llvm::Type* t, llvm::Value* row, unsigned index) { return b.CreateLoad(t, at(row, index)); };
  auto keep = [&](const sema::Type& t, llvm::Value* v) { return t.kind == TK::String ? copy_string_into(state, v) : v; };

  // Keys: `into` may be a fresh zero-filled row.
  for (size_t i = 0; i < stage.keys.size(); ++i) {
    const sema::Type& t = stage.keys[i].value.type;
    unsigned k = layout.key_slots[i];
    b.CreateStore(keep(t, load(memory_type(t), from, k)), at(into, k));
    if (t.nullable) b.CreateStore(load(i8, from, k + 1), at(into, k + 1));
  }
  for (size_t i = 0; i < stage.aggregates.size(); ++i) {
    const sema::AggregateBinding& binding = stage.aggregates[i];
    unsigned first = layout.binding_slots[i];
    switch (binding.aggregator) {
      case Aggregator::Count:
      case Aggregator::CountNonNull:
        b.CreateStore(b.CreateAdd(load(i64, into, first), load(i64, from, first)), at(into, first));
        continue;
      case Aggregator::Avg:
        b.CreateStore(b.CreateFAdd(load(f64, into, first), load(f64, from, first)), at(into, first));
        b.CreateStore(b.CreateAdd(load(i64, into, first + 1), load(i64, from, first + 1)), at(into, first + 1));
        continue;
      case Aggregator::CountDistinct: {
        auto* create = block("set.create");
        auto* add = block("set.add");
        b.CreateCondBr(b.CreateIsNull(load(ptr, into, first)), create, add);
        b.SetInsertPoint(create);
        b.CreateStore(b.CreateCall(runtime("flow_distinct_new", ptr, {ptr}), {state}), at(into, first));
        b.CreateBr(add);
        b.SetInsertPoint(add);
        b.CreateCall(runtime("flow_distinct_merge", b.getVoidTy(), {ptr, ptr}), {load(ptr, into, first), load(ptr, from, first)});
        continue;
      }
      case Aggregator::Sum: {
        const sema::Type& t = binding.arg->type;
        llvm::Value* a = load(memory_type(t), into, first);
        llvm::Value* c = load(memory_type(t), from, first);
        b.CreateStore(t.kind == TK::F64 ? b.CreateFAdd(a, c) : b.CreateAdd(a, c), at(into, first));
        b.CreateStore(b.CreateOr(load(i8, into, first + 1), load(i8, from, first + 1)), at(into, first + 1));
        continue;
      }
      default: break;
    }
    // min, max, first, last, arg_max, arg_min: take `from`'s kept value when the rule says so.
    const sema::Type& t = binding.arg->type;
    llvm::Value* from_has = b.CreateICmpNE(load(i8, from, first + 1), b.getInt8(0));
    llvm::Value* into_has = b.CreateICmpNE(load(i8, into, first + 1), b.getInt8(0));
    auto* compare_block = block("merge.compare");
    auto* take = block("merge.take");
    auto* done = block("merge.done");
    b.CreateCondBr(from_has, compare_block, done);
    b.SetInsertPoint(compare_block);
    llvm::Value* better = nullptr;
    switch (binding.aggregator) {
      case Aggregator::Min:
      case Aggregator::Max: {
        Value a{from_memory(load(memory_type(t), from, first), t), nullptr};
        Value c{from_memory(load(memory_type(t), into, first), t), nullptr};
        better = compare(binding.aggregator == Aggregator::Min ? sema::BinaryOp::Lt : sema::BinaryOp::Gt, t, a, c).v;
        break;
      }
      case Aggregator::First:
      case Aggregator::Last: {
        Value a{from_memory(load(memory_type(t), from, first), t), nullptr};
        Value c{from_memory(load(memory_type(t), into, first), t), nullptr};
        better = precedes(aggregate, load(i64, from, first + 2), load(i64, into, first + 2), t, a, c,
                          binding.aggregator == Aggregator::Last);
        break;
      }
      default: {  // arg_max, arg_min: the better `by`, the earlier record on a tie
        const sema::Type& bt = binding.by->type;
        Value a{from_memory(load(memory_type(bt), from, first + 2), bt), nullptr};
        Value c{from_memory(load(memory_type(bt), into, first + 2), bt), nullptr};
        llvm::Value* strictly = compare(binding.aggregator == Aggregator::ArgMax ? sema::BinaryOp::Gt : sema::BinaryOp::Lt, bt, a, c).v;
        llvm::Value* tie = compare(sema::BinaryOp::Eq, bt, a, c).v;
        auto value = [&](llvm::Value* row) {
          llvm::Value* null = b.CreateICmpNE(load(i8, row, first + 4), b.getInt8(0));
          return Value{from_memory(load(memory_type(t), row, first), t), t.nullable ? null : nullptr};
        };
        llvm::Value* earlier = precedes(aggregate, load(i64, from, first + 3), load(i64, into, first + 3), t, value(from),
                                        value(into), false);
        better = b.CreateOr(strictly, b.CreateAnd(tie, earlier));
        break;
      }
    }
    b.CreateCondBr(b.CreateOr(b.CreateNot(into_has), better), take, done);
    b.SetInsertPoint(take);
    b.CreateStore(keep(t, load(memory_type(t), from, first)), at(into, first));
    b.CreateStore(b.getInt8(1), at(into, first + 1));
    if (binding.aggregator == Aggregator::First || binding.aggregator == Aggregator::Last) {
      b.CreateStore(load(i64, from, first + 2), at(into, first + 2));
    } else if (binding.aggregator == Aggregator::ArgMax || binding.aggregator == Aggregator::ArgMin) {
      const sema::Type& bt = binding.by->type;
      b.CreateStore(keep(bt, load(memory_type(bt), from, first + 2)), at(into, first + 2));
      b.CreateStore(load(i64, from, first + 3), at(into, first + 3));
      b.CreateStore(load(i8, from, first + 4), at(into, first + 4));
    }
    b.CreateBr(done);
    b.SetInsertPoint(done);
  }
  b.CreateRetVoid();
  return f;
}

}  // namespace flow::codegen
