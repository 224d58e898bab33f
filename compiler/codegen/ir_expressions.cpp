// Expressions to IR: every sema::Expr becomes inline code on registers; string, time and
// other library work calls the runtime through abi.h. Null handling follows sema.h: nulls
// propagate, `and`/`or` use three-valued logic, `if`, `??`, `and` and `or` evaluate lazily.
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/MDBuilder.h>

#include "ir_builder.h"

namespace flow::codegen {

using K = sema::Expr::Kind;
using TK = sema::Type::Kind;

Value IrBuilder::coerce_null(const Value& v, const sema::Expr& e, const sema::Type& target) {
  if (e.type.kind == TK::Null) return Value{zero_of(target), b.getTrue()};
  return v;
}

Value IrBuilder::eval(const sema::Expr& e, const Environment& env) {
  switch (e.kind) {
    case K::Const: return eval_constant(e);
    case K::Field: return env.record->at(e.index);
    case K::Local: return env.locals->at(e.index);
    case K::Param: return eval_param(e);
    case K::Widen: {
      Value a = eval(e.args[0], env);
      if (e.args[0].type.kind == TK::Null) return Value{llvm::ConstantFP::get(f64, 0.0), b.getTrue()};
      return Value{b.CreateSIToFP(a.v, f64), a.is_null};
    }
    case K::Unary: {
      Value a = eval(e.args[0], env);
      if (e.unary_op == sema::UnaryOp::Not) return Value{b.CreateNot(a.v), a.is_null};
      if (e.type.kind == TK::F64) return Value{b.CreateFNeg(a.v), a.is_null};
      return Value{b.CreateSub(b.getInt64(0), a.v), a.is_null};
    }
    case K::Binary:
      if (e.binary_op == sema::BinaryOp::And || e.binary_op == sema::BinaryOp::Or) return eval_logic(e, env);
      return eval_binary(e, env);
    case K::IsNull: {
      Value a = eval(e.args[0], env);
      return Value{a.is_null ? a.is_null : b.getFalse(), nullptr};
    }
    case K::Coalesce: return eval_coalesce(e, env);
    case K::In: return eval_in(e, env);
    case K::If: return eval_if(e, env);
    case K::Call: return eval_call(e, env);
  }
  throw CodegenError("unknown expression kind");
}

Value IrBuilder::eval_constant(const sema::Expr& e) {
  const auto& c = e.constant;
  if (std::holds_alternative<std::monostate>(c)) {
    sema::Type t = e.type.kind == TK::Null ? sema::Type::scalar(TK::I64) : e.type;
    return Value{zero_of(t), b.getTrue()};
  }
  if (auto* v = std::get_if<bool>(&c)) return Value{b.getInt1(*v), nullptr};
  if (auto* v = std::get_if<int64_t>(&c)) return Value{b.getInt64(*v), nullptr};
  if (auto* v = std::get_if<double>(&c)) return Value{llvm::ConstantFP::get(f64, *v), nullptr};
  const std::string& s = std::get<std::string>(c);
  return make_string(string_constant(s), b.getInt64(static_cast<int64_t>(s.size())));
}

Value IrBuilder::eval_param(const sema::Expr& e) {
  const sema::Param& param = plan.program->params.at(e.index);
  llvm::Value* index = b.getInt32(e.index);
  switch (param.type.kind) {
    case TK::F64: return Value{b.CreateCall(runtime("flow_param_f64", f64, {ptr, i32}), {ctx, index}), nullptr};
    case TK::String: {
      llvm::Value* out = entry_alloca(str_type, "param");
      b.CreateCall(runtime("flow_param_str", b.getVoidTy(), {ptr, i32, ptr}), {ctx, index, out});
      return Value{b.CreateLoad(str_type, out), nullptr};
    }
    case TK::Bool: {
      llvm::Value* v = b.CreateCall(runtime("flow_param_i64", i64, {ptr, i32}), {ctx, index});
      return Value{b.CreateICmpNE(v, b.getInt64(0)), nullptr};
    }
    default: return Value{b.CreateCall(runtime("flow_param_i64", i64, {ptr, i32}), {ctx, index}), nullptr};
  }
}

// Two incoming values of the same .flow type joined after a branch.
Value IrBuilder::merge(llvm::BasicBlock* a_block, const Value& a, llvm::BasicBlock* c_block, const Value& c, llvm::Type* type) {
  auto* v = b.CreatePHI(type, 2);
  v->addIncoming(a.v, a_block);
  v->addIncoming(c.v, c_block);
  if (!a.is_null && !c.is_null) return Value{v, nullptr};
  auto* n = b.CreatePHI(i1, 2);
  n->addIncoming(a.is_null ? a.is_null : b.getFalse(), a_block);
  n->addIncoming(c.is_null ? c.is_null : b.getFalse(), c_block);
  return Value{v, n};
}

Value IrBuilder::eval_if(const sema::Expr& e, const Environment& env) {
  Value condition = eval(e.args[0], env);
  llvm::Value* taken = condition.is_null ? b.CreateAnd(condition.v, b.CreateNot(condition.is_null)) : condition.v;
  auto* then_block = block("if.then");
  auto* else_block = block("if.else");
  auto* done = block("if.done");
  b.CreateCondBr(taken, then_block, else_block);
  b.SetInsertPoint(then_block);
  Value a = coerce_null(eval(e.args[1], env), e.args[1], e.type);
  auto* a_end = b.GetInsertBlock();
  b.CreateBr(done);
  b.SetInsertPoint(else_block);
  Value c = coerce_null(eval(e.args[2], env), e.args[2], e.type);
  auto* c_end = b.GetInsertBlock();
  b.CreateBr(done);
  b.SetInsertPoint(done);
  return merge(a_end, a, c_end, c, register_type(e.type));
}

Value IrBuilder::eval_coalesce(const sema::Expr& e, const Environment& env) {
  Value a = eval(e.args[0], env);
  if (!a.is_null) return a;
  auto* start = b.GetInsertBlock();
  auto* fallback = block("coalesce.fallback");
  auto* done = block("coalesce.done");
  b.CreateCondBr(a.is_null, fallback, done);
  b.SetInsertPoint(fallback);
  Value c = coerce_null(eval(e.args[1], env), e.args[1], e.type);
  auto* c_end = b.GetInsertBlock();
  b.CreateBr(done);
  b.SetInsertPoint(done);
  Value a_kept{a.v, nullptr};
  if (e.args[0].type.kind == TK::Null) a_kept.v = zero_of(e.type);
  return merge(start, a_kept, c_end, c, register_type(e.type));
}

// SQL's three-valued `and`/`or`, short-circuiting on a definite false (and) or true (or).
Value IrBuilder::eval_logic(const sema::Expr& e, const Environment& env) {
  bool is_and = e.binary_op == sema::BinaryOp::And;
  Value a = eval(e.args[0], env);
  llvm::Value* a_known = a.is_null ? b.CreateNot(a.is_null) : b.getTrue();
  llvm::Value* a_decides = b.CreateAnd(a_known, is_and ? b.CreateNot(a.v) : a.v);
  auto* start = b.GetInsertBlock();
  auto* rhs = block(is_and ? "and.rhs" : "or.rhs");
  auto* done = block(is_and ? "and.done" : "or.done");
  b.CreateCondBr(a_decides, done, rhs);
  b.SetInsertPoint(rhs);
  Value c = eval(e.args[1], env);
  llvm::Value* c_known = c.is_null ? b.CreateNot(c.is_null) : b.getTrue();
  llvm::Value* c_decides = b.CreateAnd(c_known, is_and ? b.CreateNot(c.v) : c.v);
  // Not decided by either side: null if either is null, else the identity (true for and).
  llvm::Value* result_null = b.CreateAnd(b.CreateNot(c_decides), null_or(a.is_null ? a.is_null : b.getFalse(), c.is_null));
  llvm::Value* result = is_and ? b.CreateNot(c_decides) : c_decides;
  auto* rhs_end = b.GetInsertBlock();
  b.CreateBr(done);
  b.SetInsertPoint(done);
  Value decided{b.getInt1(!is_and), b.getFalse()};
  return merge(start, decided, rhs_end, Value{result, result_null}, i1);
}

Value IrBuilder::compare(sema::BinaryOp op, const sema::Type& t, const Value& a, const Value& c) {
  using B = sema::BinaryOp;
  llvm::Value* null = null_or(a.is_null, c.is_null);
  if (t.kind == TK::String) {
    llvm::Value* result;
    if (op == B::Eq || op == B::Ne) {
      // Inline: lengths first, then memcmp, which LLVM turns into a few loads when one side
      // is a constant.
      llvm::Value* same_length = b.CreateICmpEQ(string_length(a), string_length(c));
      auto* start = b.GetInsertBlock();
      auto* bytes = block("streq.bytes");
      auto* done = block("streq.done");
      b.CreateCondBr(same_length, bytes, done);
      b.SetInsertPoint(bytes);
      llvm::Value* order = b.CreateCall(runtime("memcmp", i32, {ptr, ptr, i64}),
                                        {string_data(a), string_data(c), string_length(a)});
      llvm::Value* same_bytes = b.CreateICmpEQ(order, b.getInt32(0));
      b.CreateBr(done);
      b.SetInsertPoint(done);
      auto* equal = b.CreatePHI(i1, 2);
      equal->addIncoming(b.getFalse(), start);
      equal->addIncoming(same_bytes, bytes);
      result = op == B::Eq ? static_cast<llvm::Value*>(equal) : b.CreateNot(equal);
    } else {
      llvm::Value* order = b.CreateCall(runtime("flow_str_compare", i32, {ptr, i64, ptr, i64}),
                                        {string_data(a), string_length(a), string_data(c), string_length(c)});
      llvm::Value* zero = b.getInt32(0);
      result = op == B::Lt ? b.CreateICmpSLT(order, zero)
               : op == B::Le ? b.CreateICmpSLE(order, zero)
               : op == B::Gt ? b.CreateICmpSGT(order, zero)
                             : b.CreateICmpSGE(order, zero);
    }
    return Value{result, null};
  }
  if (t.kind == TK::F64) {
    llvm::CmpInst::Predicate p = op == B::Eq   ? llvm::CmpInst::FCMP_OEQ
                                 : op == B::Ne ? llvm::CmpInst::FCMP_UNE
                                 : op == B::Lt ? llvm::CmpInst::FCMP_OLT
                                 : op == B::Le ? llvm::CmpInst::FCMP_OLE
                                 : op == B::Gt ? llvm::CmpInst::FCMP_OGT
                                               : llvm::CmpInst::FCMP_OGE;
    return Value{b.CreateFCmp(p, a.v, c.v), null};
  }
  bool is_bool = t.kind == TK::Bool;
  llvm::CmpInst::Predicate p = op == B::Eq   ? llvm::CmpInst::ICMP_EQ
                               : op == B::Ne ? llvm::CmpInst::ICMP_NE
                               : op == B::Lt ? (is_bool ? llvm::CmpInst::ICMP_ULT : llvm::CmpInst::ICMP_SLT)
                               : op == B::Le ? (is_bool ? llvm::CmpInst::ICMP_ULE : llvm::CmpInst::ICMP_SLE)
                               : op == B::Gt ? (is_bool ? llvm::CmpInst::ICMP_UGT : llvm::CmpInst::ICMP_SGT)
                                             : (is_bool ? llvm::CmpInst::ICMP_UGE : llvm::CmpInst::ICMP_SGE);
  return Value{b.CreateICmp(p, a.v, c.v), null};
}

// i64 `/` and `%`: truncating like C++; a zero divisor stops the job naming the expression;
// INT64_MIN / -1 wraps instead of trapping.
Value IrBuilder::divide(const sema::Expr& e, const Value& a, const Value& c) {
  bool is_div = e.binary_op == sema::BinaryOp::Div;
  llvm::Value* null = null_or(a.is_null, c.is_null);
  if (e.type.kind == TK::F64) return Value{is_div ? b.CreateFDiv(a.v, c.v) : b.CreateFRem(a.v, c.v), null};
  llvm::Value* zero = b.CreateICmpEQ(c.v, b.getInt64(0));
  if (null) zero = b.CreateAnd(zero, b.CreateNot(null));
  auto* fails = block("div.zero");
  auto* ok = block("div.ok");
  b.CreateCondBr(zero, fails, ok, llvm::MDBuilder(context).createBranchWeights(1, 1 << 20));
  b.SetInsertPoint(fails);
  auto position = file.position(e.span.begin);
  b.CreateCall(runtime("flow_fail_division_by_zero", i32, {ptr, i32, i32}),
               {ctx, b.getInt32(position.line), b.getInt32(position.column)});
  b.CreateBr(fail_block);
  b.SetInsertPoint(ok);
  llvm::Value* minus_one = b.CreateICmpEQ(c.v, b.getInt64(-1));
  llvm::Value* safe_divisor = b.CreateSelect(b.CreateOr(minus_one, b.CreateICmpEQ(c.v, b.getInt64(0))), b.getInt64(1), c.v);
  llvm::Value* result = is_div ? b.CreateSDiv(a.v, safe_divisor) : b.CreateSRem(a.v, safe_divisor);
  llvm::Value* by_minus_one = is_div ? b.CreateSub(b.getInt64(0), a.v) : b.getInt64(0);
  return Value{b.CreateSelect(minus_one, by_minus_one, result), null};
}

Value IrBuilder::eval_binary(const sema::Expr& e, const Environment& env) {
  using B = sema::BinaryOp;
  Value a = eval(e.args[0], env);
  Value c = eval(e.args[1], env);
  const sema::Type& operand = e.args[0].type.kind == TK::Null ? e.args[1].type : e.args[0].type;
  if (e.args[0].type.kind == TK::Null) a = Value{zero_of(operand), b.getTrue()};
  if (e.args[1].type.kind == TK::Null) c = Value{zero_of(operand), b.getTrue()};
  switch (e.binary_op) {
    case B::Eq: case B::Ne: case B::Lt: case B::Le: case B::Gt: case B::Ge:
      return compare(e.binary_op, operand, a, c);
    case B::Div: case B::Mod: return divide(e, a, c);
    default: break;
  }
  llvm::Value* null = null_or(a.is_null, c.is_null);
  if (e.type.kind == TK::String) {
    llvm::Value* out = entry_alloca(str_type, "concat");
    b.CreateCall(runtime("flow_str_concat", b.getVoidTy(), {ptr, ptr, i64, ptr, i64, ptr}),
                 {ctx, string_data(a), string_length(a), string_data(c), string_length(c), out});
    return Value{b.CreateLoad(str_type, out), null};
  }
  bool is_float = e.type.kind == TK::F64;
  switch (e.binary_op) {
    case B::Add: return Value{is_float ? b.CreateFAdd(a.v, c.v) : b.CreateAdd(a.v, c.v), null};
    case B::Sub: return Value{is_float ? b.CreateFSub(a.v, c.v) : b.CreateSub(a.v, c.v), null};
    case B::Mul: return Value{is_float ? b.CreateFMul(a.v, c.v) : b.CreateMul(a.v, c.v), null};
    default: break;
  }
  throw CodegenError("unexpected binary operator");
}

Value IrBuilder::eval_in(const sema::Expr& e, const Environment& env) {
  Value x = eval(e.args[0], env);
  llvm::Value* found = b.getFalse();
  llvm::Value* null = x.is_null;
  for (size_t i = 1; i < e.args.size(); ++i) {
    Value candidate = eval(e.args[i], env);
    if (e.args[i].type.kind == TK::Null) continue;  // `x in (null)` never matches
    Value eq = compare(sema::BinaryOp::Eq, e.args[0].type, x, Value{candidate.v, nullptr});
    llvm::Value* hit = candidate.is_null ? b.CreateAnd(eq.v, b.CreateNot(candidate.is_null)) : eq.v;
    found = b.CreateOr(found, hit);
  }
  return Value{found, null};
}

llvm::Value* IrBuilder::call_string_out(const std::string& name, std::vector<llvm::Type*> params, std::vector<llvm::Value*> args) {
  llvm::Value* out = entry_alloca(str_type, "str.out");
  params.push_back(ptr);
  args.push_back(out);
  b.CreateCall(runtime(name, b.getVoidTy(), params), args);
  return b.CreateLoad(str_type, out);
}

Value IrBuilder::eval_call(const sema::Expr& e, const Environment& env) {
  using F = sema::Builtin;
  std::vector<Value> args;
  llvm::Value* null = nullptr;
  for (const auto& a : e.args) {
    Value v = eval(a, env);
    if (a.type.kind == TK::Null) v = Value{zero_of(e.type.kind == TK::Null ? sema::Type::scalar(TK::I64) : e.type), b.getTrue()};
    null = null_or(null, v.is_null);
    args.push_back(v);
  }
  auto str = [&](size_t i) { return std::pair{string_data(args[i]), string_length(args[i])}; };
  auto bool_of = [&](llvm::Value* v) { return b.CreateICmpNE(v, b.getInt32(0)); };
  switch (e.builtin) {
    case F::Lower:
    case F::Upper: {
      auto [p, n] = str(0);
      return Value{call_string_out(e.builtin == F::Lower ? "flow_str_lower" : "flow_str_upper", {ptr, ptr, i64}, {ctx, p, n}), null};
    }
    case F::Len: {
      auto [p, n] = str(0);
      return Value{b.CreateCall(runtime("flow_str_len", i64, {ptr, i64}), {p, n}), null};
    }
    case F::Substr: {
      auto [p, n] = str(0);
      llvm::Value* count = args.size() > 2 ? args[2].v : b.getInt64(-1);
      return Value{call_string_out("flow_str_substr", {ptr, i64, i64, i64}, {p, n, args[1].v, count}), null};
    }
    case F::SplitWords: {
      auto [p, n] = str(0);
      llvm::Value* out = entry_alloca(list_type, "words");
      b.CreateCall(runtime("flow_split_words", b.getVoidTy(), {ptr, ptr, i64, ptr}), {ctx, p, n, out});
      return Value{b.CreateLoad(list_type, out), null};
    }
    case F::Contains:
    case F::StartsWith: {
      auto [p, n] = str(0);
      auto [q, m] = str(1);
      const char* name = e.builtin == F::Contains ? "flow_str_contains" : "flow_str_starts_with";
      return Value{bool_of(b.CreateCall(runtime(name, i32, {ptr, i64, ptr, i64}), {p, n, q, m})), null};
    }
    case F::Abs:
      if (e.type.kind == TK::F64)
        return Value{b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, args[0].v), null};
      return Value{b.CreateSelect(b.CreateICmpSLT(args[0].v, b.getInt64(0)), b.CreateSub(b.getInt64(0), args[0].v), args[0].v), null};
    case F::Floor:
    case F::Ceil:
    case F::Sqrt:
    case F::Round: {
      if (e.args[0].type.kind == TK::I64 && e.type.kind == TK::I64) return Value{args[0].v, null};
      llvm::Value* x = e.args[0].type.kind == TK::I64 ? b.CreateSIToFP(args[0].v, f64) : args[0].v;
      if (e.builtin == F::Round) return Value{b.CreateCall(runtime("flow_round", f64, {f64}), {x}), null};
      auto id = e.builtin == F::Floor ? llvm::Intrinsic::floor : e.builtin == F::Ceil ? llvm::Intrinsic::ceil : llvm::Intrinsic::sqrt;
      return Value{b.CreateUnaryIntrinsic(id, x), null};
    }
    case F::Hash: {
      const sema::Type& t = e.args[0].type;
      llvm::FunctionCallee hash = runtime("flow_hash_bytes", i64, {ptr, i64});
      if (t.kind == TK::String) {
        auto [p, n] = str(0);
        return Value{b.CreateCall(hash, {p, n}), null};
      }
      llvm::Type* mt = memory_type(t);
      llvm::Value* slot = entry_alloca(mt, "hash.in");
      b.CreateStore(to_memory(args[0].v, t), slot);
      uint64_t size = module.getDataLayout().getTypeAllocSize(mt);
      return Value{b.CreateCall(hash, {slot, b.getInt64(size)}), null};
    }
    case F::Now: return Value{b.CreateCall(runtime("flow_now_ms", i64, {ptr}), {ctx}), nullptr};
    case F::Year: return Value{b.CreateCall(runtime("flow_time_year", i64, {i64}), {args[0].v}), null};
    case F::Hour: return Value{b.CreateCall(runtime("flow_time_hour", i64, {i64}), {args[0].v}), null};
    case F::DateTrunc: {
      auto [p, n] = str(0);
      llvm::Value* out = entry_alloca(i64, "trunc");
      b.CreateStore(b.getInt64(0), out);
      llvm::Value* ok = b.CreateCall(runtime("flow_time_trunc", i32, {ptr, i64, i64, ptr}), {p, n, args[1].v, out});
      llvm::Value* bad = b.CreateICmpEQ(ok, b.getInt32(0));
      return Value{b.CreateLoad(i64, out), e.type.nullable ? null_or(null, bad) : null};
    }
    case F::FormatTime: {
      auto [q, m] = str(1);
      return Value{call_string_out("flow_time_format", {ptr, i64, ptr, i64}, {ctx, args[0].v, q, m}), null};
    }
    default: {
      Value v = eval_cast(e, args);
      v.is_null = null_or(null, v.is_null);
      return v;
    }
  }
}

// i64(x), f64(x), string(x), timestamp(x), duration(x).
Value IrBuilder::eval_cast(const sema::Expr& e, const std::vector<Value>& args) {
  using F = sema::Builtin;
  const sema::Type& from = e.args[0].type;
  llvm::Value* x = args[0].v;
  auto parse = [&](const char* name, llvm::Type* t) {
    llvm::Value* out = entry_alloca(t, "cast");
    b.CreateStore(llvm::Constant::getNullValue(t), out);
    llvm::Value* ok = b.CreateCall(runtime(name, i32, {ptr, i64, ptr}), {string_data(args[0]), string_length(args[0]), out});
    llvm::Value* failed = b.CreateICmpEQ(ok, b.getInt32(0));
    return Value{b.CreateLoad(t, out), e.type.nullable ? failed : nullptr};
  };
  switch (e.builtin) {
    case F::ToI64:
    case F::ToTimestamp:
    case F::ToDuration:
      if (from.kind == TK::String)
        return parse(e.builtin == F::ToI64 ? "flow_str_to_i64" : e.builtin == F::ToTimestamp ? "flow_parse_timestamp" : "flow_parse_duration", i64);
      if (from.kind == TK::F64) return Value{b.CreateIntrinsic(llvm::Intrinsic::fptosi_sat, {i64, f64}, {x}), nullptr};
      if (from.kind == TK::Bool) return Value{b.CreateZExt(x, i64), nullptr};
      return Value{x, nullptr};
    case F::ToF64:
      if (from.kind == TK::String) return parse("flow_str_to_f64", f64);
      if (from.kind == TK::F64) return Value{x, nullptr};
      if (from.kind == TK::Bool) return Value{b.CreateUIToFP(x, f64), nullptr};
      return Value{b.CreateSIToFP(x, f64), nullptr};
    case F::ToString:
      switch (from.kind) {
        case TK::String: return Value{x, nullptr};
        case TK::Bool: return Value{call_string_out("flow_bool_to_str", {ptr, i32}, {ctx, b.CreateZExt(x, i32)}), nullptr};
        case TK::F64: return Value{call_string_out("flow_f64_to_str", {ptr, f64}, {ctx, x}), nullptr};
        case TK::Timestamp: return Value{call_string_out("flow_timestamp_to_str", {ptr, i64}, {ctx, x}), nullptr};
        case TK::Duration: return Value{call_string_out("flow_duration_to_str", {ptr, i64}, {ctx, x}), nullptr};
        default: return Value{call_string_out("flow_i64_to_str", {ptr, i64}, {ctx, x}), nullptr};
      }
    default: break;
  }
  throw CodegenError("unsupported built-in function");
}

}  // namespace flow::codegen
