// Sinks to IR: each field of a record written with the flow_out_* call of its type (nulls and
// lists included), then flow_out_end, whose status is checked.
#include "ir_builder.h"

namespace flow::codegen {

using TK = sema::Type::Kind;

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
      auto* done = block("list.done");
      for_each_element(b.CreateExtractValue(v, 0), b.CreateExtractValue(v, 1), element_type, done,
                       [&](llvm::Value* element, llvm::BasicBlock* latch) {
                         write_non_null(sink, element_type, element);
                         b.CreateBr(latch);
                       });
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

}  // namespace flow::codegen
