// Joins to IR. A lookup join is fused into its pipeline: the key is encoded inline, the
// table's records for it are walked in a loop and each match runs the rest of the pipeline
// (a left join runs it once more with null alias fields when nothing matched). A stream join
// ends the pipelines of both inputs: each stores its record (strings copied into the join's
// state) and asks the runtime to pair it; the joined pairs come back through the join's output
// pipeline, and the residual condition is a function the runtime calls per candidate pair.
#include "ir_builder.h"

namespace flow::codegen {

std::vector<Value> IrBuilder::join_key_values(const std::vector<sema::Expr>& keys, const Environment& env,
                                              llvm::BasicBlock* has_null) {
  std::vector<Value> values;
  llvm::Value* any_null = nullptr;
  for (const sema::Expr& k : keys) {
    Value v = eval(k, env);
    any_null = null_or(any_null, v.is_null);
    // NaN equals nothing, itself included (the key encoding would make all NaNs one key).
    if (k.type.kind == sema::Type::Kind::F64) any_null = null_or(any_null, b.CreateFCmpUNO(v.v, v.v));
    values.push_back(Value{v.v, nullptr});
  }
  if (any_null) {
    auto* present = block("key.present");
    b.CreateCondBr(any_null, has_null, present);
    b.SetInsertPoint(present);
  }
  return values;
}

std::vector<Value> IrBuilder::joined_record(const sema::Join& join, const std::vector<Value>& left,
                                            const std::vector<Value>& right, llvm::Value* right_missing) {
  std::vector<Value> out = left;
  for (size_t i = 0; i < right.size(); ++i) {
    Value v = right[i];
    const sema::Type& t = join.output->fields[left.size() + i].type;
    v.is_null = null_or(v.is_null, right_missing);
    if (t.nullable && !v.is_null) v.is_null = b.getFalse();
    out.push_back(v);
  }
  return out;
}

// The joined record of the stored `left` and `right` (null for an unmatched left record).
std::vector<Value> IrBuilder::load_join_pair(const sema::Join& join, llvm::Value* left, llvm::Value* right) {
  std::vector<Value> left_values = load_record(left, *join.left);
  if (!join.left_outer) return joined_record(join, left_values, load_record(right, *join.right), nullptr);
  llvm::StructType* layout = record_struct(*join.right);
  llvm::Value* zero = entry_alloca(layout, "no.match");
  b.CreateStore(llvm::Constant::getNullValue(layout), zero);
  llvm::Value* missing = b.CreateIsNull(right);
  return joined_record(join, left_values, load_record(b.CreateSelect(missing, zero, right), *join.right), missing);
}

// int32 condition(ctx, left, right): 1 when the residual holds, 0 when not (null is not);
// a failure (division by zero) is recorded in ctx and returns 0.
llvm::Function* IrBuilder::build_join_condition(int join) {
  const sema::Join& j = *plan.joins[static_cast<std::size_t>(join)].join;
  auto* type = llvm::FunctionType::get(i32, {ptr, ptr, ptr}, false);
  auto* f = llvm::Function::Create(type, llvm::Function::InternalLinkage, "join_condition_" + std::to_string(join), module);
  begin_function(f);
  fail_block->getTerminator()->eraseFromParent();
  b.SetInsertPoint(fail_block);
  b.CreateRet(b.getInt32(0));
  b.SetInsertPoint(&f->getEntryBlock());
  event_time = nullptr;
  std::vector<Value> record = load_join_pair(j, f->getArg(1), f->getArg(2));
  std::vector<Value> none;
  Value holds = eval(*j.residual, Environment{&record, &none});
  llvm::Value* yes = holds.is_null ? b.CreateAnd(holds.v, b.CreateNot(holds.is_null)) : holds.v;
  b.CreateRet(b.CreateZExt(yes, i32));
  return f;
}

std::pair<llvm::Value*, llvm::Value*> IrBuilder::find_in_lookup(int join, llvm::Value* data, llvm::Value* length) {
  llvm::Value* table = join_handles_[static_cast<std::size_t>(join)];
  llvm::Value* count_slot = entry_alloca(i64, "matches");
  auto call_find = [&] {
    llvm::Value* first = b.CreateCall(runtime("flow_lookup_find", ptr, {ptr, ptr, i64, ptr}), {table, data, length, count_slot});
    return std::pair{first, static_cast<llvm::Value*>(b.CreateLoad(i64, count_slot))};
  };
  auto* fixed = llvm::dyn_cast<llvm::ConstantInt>(length);
  llvm::Value* dense = lookup_dense_[static_cast<std::size_t>(join)];
  if (!dense || !fixed || fixed->getZExtValue() != 8) return call_find();
  // flow_lookup_dense { low, span, entries }, flow_lookup_entry { first, count } (abi.h)
  auto* dense_type = llvm::StructType::get(context, {i64, i64, ptr});
  auto* entry_type = llvm::StructType::get(context, {ptr, i64});
  llvm::Value* key = b.CreateUnaryIntrinsic(llvm::Intrinsic::bswap, b.CreateLoad(i64, data));
  llvm::Value* at = b.CreateSub(key, b.CreateLoad(i64, b.CreateStructGEP(dense_type, dense, 0)));
  llvm::Value* inside = b.CreateICmpULT(at, b.CreateLoad(i64, b.CreateStructGEP(dense_type, dense, 1)));
  auto* indexed = block("lookup.dense");
  auto* called = block("lookup.call");
  auto* found = block("lookup.found");
  b.CreateCondBr(inside, indexed, called);
  b.SetInsertPoint(indexed);
  llvm::Value* entry = b.CreateGEP(entry_type, b.CreateLoad(ptr, b.CreateStructGEP(dense_type, dense, 2)), at);
  llvm::Value* dense_first = b.CreateLoad(ptr, b.CreateStructGEP(entry_type, entry, 0));
  llvm::Value* dense_count = b.CreateLoad(i64, b.CreateStructGEP(entry_type, entry, 1));
  b.CreateBr(found);
  b.SetInsertPoint(called);
  auto [called_first, called_count] = call_find();
  llvm::BasicBlock* called_end = b.GetInsertBlock();
  b.CreateBr(found);
  b.SetInsertPoint(found);
  auto* first = b.CreatePHI(ptr, 2, "first");
  first->addIncoming(dense_first, indexed);
  first->addIncoming(called_first, called_end);
  auto* count = b.CreatePHI(i64, 2, "count");
  count->addIncoming(dense_count, indexed);
  count->addIncoming(called_count, called_end);
  return {first, count};
}

void IrBuilder::generate_lookup_join(const plan::Pipeline& p, size_t index, const sema::Stage& stage, const Environment& env,
                                     llvm::BasicBlock* next) {
  const sema::Join& j = plan.program->joins[static_cast<std::size_t>(stage.join)];
  const std::vector<Value>& left = *env.record;
  auto* unmatched = block("lookup.unmatched");
  std::vector<Value> keys = join_key_values(j.left_keys, env, unmatched);
  auto [data, length] = encode_key(plan::join_key_types(j), keys);
  auto [first, count] = find_in_lookup(stage.join, data, length);
  llvm::Value* matched = nullptr;
  if (j.left_outer) {
    matched = entry_alloca(i1, "matched");
    b.CreateStore(b.getFalse(), matched);
  }
  // for (i = 0, record = first; i < count; ++i, record = next(record))
  auto* entry = b.GetInsertBlock();
  auto* header = block("lookup.header");
  auto* body = block("lookup.body");
  auto* latch = block("lookup.next");
  auto* done = block("lookup.done");
  b.CreateBr(header);
  b.SetInsertPoint(header);
  auto* i = b.CreatePHI(i64, 2, "match");
  auto* record = b.CreatePHI(ptr, 2, "record");
  i->addIncoming(b.getInt64(0), entry);
  record->addIncoming(first, entry);
  b.CreateCondBr(b.CreateICmpSLT(i, count), body, done);
  b.SetInsertPoint(body);
  std::vector<Value> joined = joined_record(j, left, load_record(record, *j.right), nullptr);
  if (j.residual) {
    std::vector<Value> none;
    Value holds = eval(*j.residual, Environment{&joined, &none});
    llvm::Value* yes = holds.is_null ? b.CreateAnd(holds.v, b.CreateNot(holds.is_null)) : holds.v;
    auto* pass = block("lookup.pass");
    b.CreateCondBr(yes, pass, latch);
    b.SetInsertPoint(pass);
  }
  if (matched) b.CreateStore(b.getTrue(), matched);
  generate_stages(p, index + 1, joined, {}, latch);
  b.SetInsertPoint(latch);
  i->addIncoming(b.CreateAdd(i, b.getInt64(1)), latch);
  record->addIncoming(b.CreateLoad(ptr, b.CreateConstGEP1_64(i8, record, -8)), latch);
  b.CreateBr(header);
  b.SetInsertPoint(done);
  if (matched) b.CreateCondBr(b.CreateLoad(i1, matched), next, unmatched);
  else b.CreateBr(next);
  // A left join keeps a record that matched nothing (or had a null key part), alias fields null.
  b.SetInsertPoint(unmatched);
  if (!j.left_outer) {
    b.CreateBr(next);
    return;
  }
  std::vector<Value> nothing;
  for (const auto& f : j.right->fields) nothing.push_back(Value{zero_of(f.type), nullptr});
  generate_stages(p, index + 1, joined_record(j, left, nothing, b.getTrue()), {}, next);
}

void IrBuilder::generate_lookup_fill(const plan::Pipeline& p, const std::vector<Value>& record, const Environment& env,
                                     llvm::BasicBlock* next) {
  for (int join : p.fills_lookups) {
    const sema::Join& j = plan.program->joins[static_cast<std::size_t>(join)];
    auto* after = block("fill.after");
    std::vector<Value> keys = join_key_values(j.right_keys, env, after);  // a null key part never matches
    auto [data, length] = encode_key(plan::join_key_types(j), keys);
    llvm::Value* owner = entry_alloca(ptr, "owner");
    llvm::Value* room = b.CreateCall(runtime("flow_lookup_insert", ptr, {ptr, ptr, i64, ptr}),
                                     {join_handles_[static_cast<std::size_t>(join)], data, length, owner});
    store_record(room, *j.right, record, b.CreateLoad(ptr, owner));
    b.CreateBr(after);
    b.SetInsertPoint(after);
  }
  b.CreateBr(next);
}

void IrBuilder::generate_join_insert(const plan::Pipeline& p, const std::vector<Value>& record, const Environment& env,
                                     llvm::BasicBlock* next) {
  const sema::Join& j = plan.program->joins[static_cast<std::size_t>(p.inserts_join)];
  llvm::Value* join = join_handles_[static_cast<std::size_t>(p.inserts_join)];
  bool left = p.join_side == 0;
  const sema::RecordType& type = left ? *j.left : *j.right;
  if (!event_time) throw CodegenError("a joined record without event time");
  auto* null_key = block("join.null_key");
  std::vector<Value> keys = join_key_values(left ? j.left_keys : j.right_keys, env, null_key);
  auto [data, length] = encode_key(plan::join_key_types(j), keys);
  llvm::Value* owner = entry_alloca(ptr, "owner");
  llvm::Value* room = b.CreateCall(runtime("flow_join_insert", ptr, {ptr, i32, ptr, i64, i64, ptr}),
                                   {join, b.getInt32(p.join_side), data, length, event_time, owner});
  auto* stored = block("join.store");
  b.CreateCondBr(b.CreateIsNull(room), next, stored);  // late: counted by the join
  b.SetInsertPoint(stored);
  store_record(room, type, record, b.CreateLoad(ptr, owner));
  check_status(b.CreateCall(runtime("flow_join_match", i32, {ptr}), {join}));
  b.CreateBr(next);
  // A record with a null key part pairs with nothing; a left join still emits a left one.
  b.SetInsertPoint(null_key);
  if (left && j.left_outer) {
    llvm::Value* copy = entry_alloca(record_struct(type), "unpaired");
    store_record(copy, type, record);
    check_status(b.CreateCall(runtime("flow_join_unmatched", i32, {ptr, ptr, i64}), {join, copy, event_time}));
  }
  b.CreateBr(next);
}

}  // namespace flow::codegen
