// Aggregates to IR: the row layout the compiler chooses, the key (encoded inline when it is
// fixed-width, by flow_key_* calls otherwise), the inline accumulator updates against the
// runtime's table, and the output record built from a row when it is emitted.
#include <llvm/IR/Intrinsics.h>

#include "ir_builder.h"

namespace flow::codegen {

using TK = sema::Type::Kind;
using sema::Aggregator;

// keys (value [, null flag]) then accumulators: count -> i64; count_distinct -> set pointer;
// sum/min/max -> value, "has a value" flag; first/last -> value, flag, arrival number;
// arg_max/arg_min -> value, flag, by, arrival number, value-is-null flag; avg -> f64 sum, i64
// count. Arrival numbers (flow_window_hit.seq) let windows merge rows in arrival order.
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
      case Aggregator::First:
      case Aggregator::Last:
        slots.push_back(memory_type(binding.arg->type));
        slots.push_back(i8);
        slots.push_back(i64);
        break;
      case Aggregator::ArgMax:
      case Aggregator::ArgMin:
        slots.push_back(memory_type(binding.arg->type));
        slots.push_back(i8);
        slots.push_back(memory_type(binding.by->type));
        slots.push_back(i64);
        slots.push_back(i8);
        break;
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


// Keys made only of non-null fixed-width values (plan::fixed_key_width) are encoded inline,
// into a stack buffer, in the runtime's memcomparable format (flow_key_* in
// runtime/agg/key_buffer.cpp); other keys go through the flow_key_* calls. Returns the bytes
// and their length.
std::vector<sema::Type> IrBuilder::key_types(const sema::Stage& stage) {
  std::vector<sema::Type> types;
  for (const auto& k : stage.keys) types.push_back(k.value.type);
  return types;
}

std::pair<llvm::Value*, llvm::Value*> IrBuilder::encode_key(const std::vector<sema::Type>& types, const std::vector<Value>& keys) {
  uint64_t width = plan::fixed_key_width(types);
  if (width == 0 && !keys.empty()) {
    encode_key_with_calls(types, keys);
    llvm::Value* length = entry_alloca(i64, "key.length");
    llvm::Value* data = b.CreateCall(runtime("flow_key_data", ptr, {ptr, ptr}), {key_buffer_, length});
    return {data, b.CreateLoad(i64, length)};
  }
  llvm::Value* buffer = entry_alloca(llvm::ArrayType::get(i8, width == 0 ? 1 : width), "key");
  uint64_t at = 0;
  const uint64_t sign = uint64_t{1} << 63;
  for (size_t i = 0; i < keys.size(); ++i) {
    const sema::Type& t = types[i];
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
  return {buffer, b.getInt64(static_cast<int64_t>(width))};
}

void IrBuilder::encode_key_with_calls(const std::vector<sema::Type>& types, const std::vector<Value>& keys) {
  llvm::Value* key = key_buffer_;
  b.CreateCall(runtime("flow_key_reset", b.getVoidTy(), {ptr}), {key});
  for (size_t i = 0; i < keys.size(); ++i) {
    const sema::Type& t = types[i];
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
}

llvm::Value* IrBuilder::copy_string_into(llvm::Value* table, llvm::Value* s) {
  llvm::Value* out = entry_alloca(str_type, "copy");
  b.CreateCall(runtime("flow_agg_copy_str", b.getVoidTy(), {ptr, ptr, i64, ptr}),
               {table, b.CreateExtractValue(s, 0), b.CreateExtractValue(s, 1), out});
  return b.CreateLoad(str_type, out);
}

void IrBuilder::generate_aggregate_update(int aggregate, const std::vector<Value>& record, const Environment& env) {
  const sema::Stage& stage = *plan.aggregates[aggregate].stage;
  llvm::Value* table = aggregate_handles_[aggregate];
  std::vector<Value> keys;
  for (const auto& k : stage.keys) keys.push_back(coerce_null(eval(k.value, env), k.value, k.value.type));
  llvm::Value* is_new_slot = entry_alloca(i32, "is_new");
  llvm::Value* row;
  if (plan::fixed_key_width(stage) > 0) {
    auto [data, length] = encode_key(key_types(stage), keys);
    row = b.CreateCall(runtime("flow_agg_upsert_key", ptr, {ptr, ptr, i64, ptr}), {table, data, length, is_new_slot});
  } else {
    encode_key_with_calls(key_types(stage), keys);
    row = b.CreateCall(runtime("flow_agg_upsert", ptr, {ptr, ptr, ptr}), {table, key_buffer_, is_new_slot});
  }
  init_new_row(aggregate, row, table, keys, b.CreateICmpNE(b.CreateLoad(i32, is_new_slot), b.getInt32(0)));
  update_accumulators(aggregate, row, table, position_or(b.getInt64(0)), env);
}

// A record's order for first, last and arg_*: its position in its file when the aggregate is
// ordered by position, else `arrival` (its arrival number).
llvm::Value* IrBuilder::position_or(llvm::Value* arrival) {
  return record_position ? record_position : arrival;
}

// A new row: store the key values (strings copied into the table) and create sets.
void IrBuilder::init_new_row(int aggregate, llvm::Value* row, llvm::Value* table, const std::vector<Value>& keys,
                             llvm::Value* is_new) {
  const sema::Stage& stage = *plan.aggregates[aggregate].stage;
  const AggregateLayout& layout = aggregate_layouts[aggregate];
  auto slot = [&](unsigned index) { return b.CreateStructGEP(layout.type, row, index); };
  auto* init = block("row.init");
  auto* update = block("row.update");
  b.CreateCondBr(is_new, init, update);
  b.SetInsertPoint(init);
  for (size_t i = 0; i < stage.keys.size(); ++i) {
    const sema::Type& t = stage.keys[i].value.type;
    llvm::Value* v = t.kind == TK::String ? copy_string_into(table, keys[i].v) : to_memory(keys[i].v, t);
    b.CreateStore(v, slot(layout.key_slots[i]));
    if (t.nullable)
      b.CreateStore(b.CreateZExt(keys[i].is_null ? keys[i].is_null : b.getFalse(), i8), slot(layout.key_slots[i] + 1));
  }
  for (size_t i = 0; i < stage.aggregates.size(); ++i)
    if (stage.aggregates[i].aggregator == Aggregator::CountDistinct)
      b.CreateStore(b.CreateCall(runtime("flow_distinct_new", ptr, {ptr}), {table}), slot(layout.binding_slots[i]));
  b.CreateBr(update);
  b.SetInsertPoint(update);
}

// Whether value `a` goes before `c` when two records of one position tie (plan::
// AggregateOperator::ties_by_value): the least value first (the greatest with
// `greatest_first`), null before any value, f64 in the total order of IEEE 754 (so a NaN
// ties with nothing but itself).
llvm::Value* IrBuilder::precedes_by_value(const sema::Type& t, const Value& a, const Value& c, bool greatest_first) {
  const Value& low = greatest_first ? c : a;
  const Value& high = greatest_first ? a : c;
  llvm::Value* less;
  if (t.kind == TK::F64) {
    auto ordered_bits = [&](llvm::Value* x) {
      llvm::Value* bits = b.CreateBitCast(x, i64);
      return b.CreateXor(bits, b.CreateLShr(b.CreateAShr(bits, 63), 1));
    };
    less = b.CreateICmpSLT(ordered_bits(low.v), ordered_bits(high.v));
  } else {
    less = compare(sema::BinaryOp::Lt, t, Value{low.v, nullptr}, Value{high.v, nullptr}).v;
  }
  if (!low.is_null && !high.is_null) return less;
  llvm::Value* low_null = low.is_null ? low.is_null : b.getFalse();
  llvm::Value* high_null = high.is_null ? high.is_null : b.getFalse();
  // (a null's value slot holds anything: it is never compared)
  return b.CreateOr(b.CreateAnd(low_null, b.CreateNot(high_null)),
                    b.CreateAnd(b.CreateNot(b.CreateOr(low_null, high_null)), less));
}

// Whether the record at position `seq_a` with value `a` goes before the one at `seq_c` with
// `c` for aggregate `aggregate` ordered by position: the earlier position (the later with
// `latest_first`), and on a tie of positions, with ties_by_value, the value's order.
llvm::Value* IrBuilder::precedes(int aggregate, llvm::Value* seq_a, llvm::Value* seq_c, const sema::Type& t,
                                 const Value& a, const Value& c, bool latest_first) {
  llvm::Value* before = latest_first ? b.CreateICmpSGT(seq_a, seq_c) : b.CreateICmpSLT(seq_a, seq_c);
  if (!plan.aggregates[aggregate].ties_by_value) return before;
  llvm::Value* tie = b.CreateICmpEQ(seq_a, seq_c);
  return b.CreateOr(before, b.CreateAnd(tie, precedes_by_value(t, a, c, latest_first)));
}

// The inline accumulator updates for one record; `seq` is its arrival number (0 when rows are
// never merged), or its position in its file for an aggregate ordered by position: then a
// record replaces the first (last) value only if it comes earlier (later) in the file, and
// an arg_* tie goes to the earlier record, whatever the order the records arrive in.
void IrBuilder::update_accumulators(int aggregate, llvm::Value* row, llvm::Value* table, llvm::Value* seq,
                                    const Environment& env) {
  const sema::Stage& stage = *plan.aggregates[aggregate].stage;
  const bool ordered = plan.aggregates[aggregate].ordered_by_position;
  const AggregateLayout& layout = aggregate_layouts[aggregate];
  llvm::StructType* row_type = layout.type;
  auto slot = [&](unsigned index) { return b.CreateStructGEP(row_type, row, index); };
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
    auto* apply = block("acc.apply");
    auto* done = block("acc.done");
    if (binding.aggregator == Aggregator::ArgMax || binding.aggregator == Aggregator::ArgMin) {
      // Records whose `by` is null are ignored; a null value is kept as null.
      const sema::Type& bt = binding.by->type;
      Value by = coerce_null(eval(*binding.by, env), *binding.by, bt);
      if (by.is_null) {
        b.CreateCondBr(by.is_null, done, apply);
      } else {
        b.CreateBr(apply);
      }
      b.SetInsertPoint(apply);
      llvm::Value* has = b.CreateICmpNE(b.CreateLoad(i8, slot(first + 1)), b.getInt8(0));
      Value kept{from_memory(b.CreateLoad(memory_type(bt), slot(first + 2)), bt), nullptr};
      Value better = compare(binding.aggregator == Aggregator::ArgMax ? sema::BinaryOp::Gt : sema::BinaryOp::Lt, bt,
                             Value{by.v, nullptr}, kept);
      llvm::Value* replace = b.CreateOr(b.CreateNot(has), better.v);
      if (ordered) {
        Value tie = compare(sema::BinaryOp::Eq, bt, Value{by.v, nullptr}, kept);
        llvm::Value* kept_null = b.CreateICmpNE(b.CreateLoad(i8, slot(first + 4)), b.getInt8(0));
        Value kept_value{from_memory(b.CreateLoad(memory_type(t), slot(first)), t), t.nullable ? kept_null : nullptr};
        llvm::Value* earlier = precedes(aggregate, seq, b.CreateLoad(i64, slot(first + 3)), t, v, kept_value, false);
        replace = b.CreateOr(replace, b.CreateAnd(b.CreateAnd(has, tie.v), earlier));
      }
      auto* store = block("acc.store");
      b.CreateCondBr(replace, store, done);
      b.SetInsertPoint(store);
      b.CreateStore(t.kind == TK::String ? copy_string_into(table, v.v) : to_memory(v.v, t), slot(first));
      b.CreateStore(b.getInt8(1), slot(first + 1));
      b.CreateStore(bt.kind == TK::String ? copy_string_into(table, by.v) : to_memory(by.v, bt), slot(first + 2));
      b.CreateStore(seq, slot(first + 3));
      b.CreateStore(b.CreateZExt(v.is_null ? v.is_null : b.getFalse(), i8), slot(first + 4));
      b.CreateBr(done);
      b.SetInsertPoint(done);
      continue;
    }
    // Null inputs are ignored by every other aggregator but count().
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
        bool is_last = binding.aggregator == Aggregator::Last;
        if (binding.aggregator == Aggregator::First || is_last) {
          replace = is_last ? b.getTrue() : b.CreateNot(has);
          if (ordered) {
            llvm::Value* kept_seq = b.CreateLoad(i64, slot(first + 2));
            Value kept{from_memory(b.CreateLoad(memory_type(t), slot(first)), t), nullptr};
            llvm::Value* later = plan.aggregates[aggregate].ties_by_value || !is_last
                                     ? precedes(aggregate, seq, kept_seq, t, Value{v.v, nullptr}, kept, is_last)
                                     // (records of one position, a flatmap's, come in order: the later one replaces)
                                     : b.CreateICmpSGE(seq, kept_seq);
            replace = b.CreateOr(b.CreateNot(has), later);
          }
        } else {
          Value old{from_memory(b.CreateLoad(memory_type(t), slot(first)), t), nullptr};
          Value better = compare(binding.aggregator == Aggregator::Min ? sema::BinaryOp::Lt : sema::BinaryOp::Gt, t,
                                 Value{v.v, nullptr}, old);
          replace = b.CreateOr(b.CreateNot(has), better.v);
        }
        auto* store = block("acc.store");
        b.CreateCondBr(replace, store, done);
        b.SetInsertPoint(store);
        llvm::Value* kept = t.kind == TK::String ? copy_string_into(table, v.v) : to_memory(v.v, t);
        b.CreateStore(kept, slot(first));
        b.CreateStore(b.getInt8(1), slot(first + 1));
        if (binding.aggregator == Aggregator::First || binding.aggregator == Aggregator::Last) b.CreateStore(seq, slot(first + 2));
        break;
      }
    }
    b.CreateBr(done);
    b.SetInsertPoint(done);
  }
}

// The aggregate's output record from one row: keys, then [window_start, window_end,] each
// binding's final value.
std::vector<Value> IrBuilder::load_aggregate_row(int aggregate, llvm::Value* row, llvm::Value* window_start,
                                                 llvm::Value* window_end) {
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
  if (window_start) {
    record.push_back(Value{window_start, nullptr});
    record.push_back(Value{window_end, nullptr});
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
      case Aggregator::ArgMax:
      case Aggregator::ArgMin: {
        const sema::Type& t = binding.arg->type;
        llvm::Value* v = from_memory(b.CreateLoad(memory_type(t), slot(first)), t);
        llvm::Value* none = b.CreateICmpEQ(b.CreateLoad(i8, slot(first + 1)), b.getInt8(0));
        none = b.CreateOr(none, b.CreateICmpNE(b.CreateLoad(i8, slot(first + 4)), b.getInt8(0)));
        record.push_back(Value{b.CreateSelect(none, zero_of(t), v), binding.type.nullable ? none : nullptr});
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
