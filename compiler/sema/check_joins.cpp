// Join stages (language.md section 4): interval, window and lookup joins, inner and left.
// The right input of an interval or window join is a stream of its own, fed by one job that
// starts at the joined name, so a joined source, `let` or split output is read like any other
// (and a name read by a flow and a join becomes a shared stream). The flow holding the join
// waits until that job is checked. The condition is split into key pairs and a residual.
#include <fmt/format.h>

#include "checker.h"

namespace flow::sema {

using TK = Type::Kind;

// Counts each joined stream as one more read of its name (so that a name read by a flow and
// by a join becomes a shared stream).
void Checker::plan_join_inputs(std::map<std::string, int>& reads) {
  for (const ast::JoinStage* j : stream_joins_)
    if (!tables_.count(j->stream.text)) ++reads[j->stream.text];
}

// One stream and one job per joined stream: the job starts at the name and feeds the stream.
void Checker::add_join_input_jobs() {
  for (const ast::JoinStage* j : stream_joins_) {
    if (tables_.count(j->stream.text)) continue;  // check_join reports it
    int stream = new_stream(j->stream.text, j->stream.span, 1);
    join_inputs_[j] = stream;
    FlowJob input;
    input.start = j->stream.text;
    input.start_span = j->stream.span;
    input.span = j->stream.span;
    input.emit_to = stream;
    jobs_.push_back(std::move(input));
  }
}

// Whether every stream the job's joins read has been checked. `report`: say why not.
bool Checker::joins_ready(const FlowJob& job, const Resolved& r, bool report) {
  auto ready = [&](const ast::Stage* s) {
    if (s->kind != ast::Stage::Kind::Join || s->join.table) return true;
    auto it = join_inputs_.find(&s->join);
    if (it == join_inputs_.end()) return true;
    auto index = static_cast<std::size_t>(it->second);
    if (streams_checked_[index] >= program_.streams[index].producers) return true;
    if (report)
      diagnostics_.error(code::kUnknownStream, s->join.stream.span,
                         fmt::format("stream `{}` is never produced: it depends on the flow that joins it", s->join.stream.text),
                         "joined here", "a flow cannot join a stream that it feeds");
    return false;
  };
  bool ok = true;
  for (const ast::Stage* s : r.front) ok = ready(s) && ok;
  for (const ast::Stage* s : job.stages) ok = ready(s) && ok;
  return ok;
}

namespace {

// Which sides an expression of a join condition reads: 1 = the left record (any field name),
// 2 = the alias (`alias.x`); 0 = neither (constants, params).
int sides_of(const ast::Expr& e, const std::string& alias, const std::map<std::string, int>& params,
             const RecordType& left) {
  if (e.kind == ast::Expr::Kind::Name) return params.count(e.text) && left.index_of(e.text) < 0 ? 0 : 1;
  if (e.kind == ast::Expr::Kind::Field && e.operands[0]->kind == ast::Expr::Kind::Name && e.operands[0]->text == alias)
    return 2;
  int sides = 0;
  for (const auto& operand : e.operands) sides |= sides_of(*operand, alias, params, left);
  return sides;
}

void conjuncts_of(const ast::Expr& e, std::vector<const ast::Expr*>& out) {
  if (e.kind == ast::Expr::Kind::Binary && e.binary_op == ast::BinaryOp::And) {
    conjuncts_of(*e.operands[0], out);
    conjuncts_of(*e.operands[1], out);
    return;
  }
  out.push_back(&e);
}

// The right record with its fields named as the condition names them: `alias.field`.
RecordPtr aliased(const RecordType& right, const std::string& alias, bool nullable) {
  auto record = std::make_shared<RecordType>();
  for (const auto& f : right.fields)
    record->fields.push_back(FieldDef{alias + "." + f.name, nullable ? f.type.as_nullable() : f.type});
  return record;
}

}  // namespace

bool Checker::check_join_condition(const ast::JoinStage& j, Join& join) {
  std::vector<const ast::Expr*> conjuncts;
  conjuncts_of(*j.condition, conjuncts);
  Scope left_scope;
  left_scope.record = join.left.get();
  RecordPtr right_named = aliased(*join.right, join.alias, false);
  Scope right_scope;
  right_scope.record = right_named.get();
  Scope output_scope;
  output_scope.record = join.output.get();
  bool ok = true;
  std::vector<Expr> residual;
  for (const ast::Expr* c : conjuncts) {
    bool key_pair = c->kind == ast::Expr::Kind::Binary && c->binary_op == ast::BinaryOp::Eq;
    int lhs = key_pair ? sides_of(*c->operands[0], join.alias, params_, *join.left) : 0;
    int rhs = key_pair ? sides_of(*c->operands[1], join.alias, params_, *join.left) : 0;
    if (key_pair && ((lhs == 1 && rhs == 2) || (lhs == 2 && rhs == 1))) {
      const ast::Expr& left_side = *c->operands[lhs == 1 ? 0 : 1];
      const ast::Expr& right_side = *c->operands[lhs == 1 ? 1 : 0];
      Expr l = check(left_side, left_scope);
      Expr r = check(right_side, right_scope);
      if (is_poison(l.type) || is_poison(r.type)) {
        ok = false;
        continue;
      }
      std::optional<Type> common = unify(l, r);
      if (!common || common->kind == TK::List || common->kind == TK::Null) {
        diagnostics_.error(code::kTypeMismatch, c->span,
                           fmt::format("a join key compares `{}` with `{}`", to_string(l.type), to_string(r.type)),
                           "not comparable", "both sides of a join key need one scalar type");
        ok = false;
        continue;
      }
      join.left_keys.push_back(std::move(l));
      join.right_keys.push_back(std::move(r));
      continue;
    }
    Expr x = check_bool(*c, output_scope, "a join condition");
    if (is_poison(x.type)) ok = false;
    else residual.push_back(std::move(x));
  }
  if (ok && join.left_keys.empty()) {
    diagnostics_.error(code::kBadJoin, j.condition->span, "a join condition needs an equality between the two sides",
                       "no key here",
                       fmt::format("write a key first, as in `on id == {}.id`, then `and` any other condition", join.alias));
    return false;
  }
  for (Expr& x : residual) {
    if (!join.residual) {
      join.residual = std::move(x);
      continue;
    }
    Expr both;
    both.kind = Expr::Kind::Binary;
    both.binary_op = BinaryOp::And;
    both.type = Type::scalar(TK::Bool, join.residual->type.nullable || x.type.nullable);
    both.span = Span{join.residual->span.begin, x.span.end};
    both.args.push_back(std::move(*join.residual));
    both.args.push_back(std::move(x));
    join.residual = std::move(both);
  }
  return ok;
}

bool Checker::check_join(const ast::Stage& s, RecordPtr& record, Stage& out, bool& has_time) {
  const ast::JoinStage& j = s.join;
  Join join;
  join.kind = j.table ? Join::Kind::Lookup : j.window ? Join::Kind::Window : Join::Kind::Interval;
  join.left_outer = j.left;
  join.alias = j.alias.text;
  join.left = record;
  join.span = s.span;
  join.keyword_span = s.keyword_span;
  bool ok = true;
  // What the join reads on its right.
  if (j.table) {
    if (j.within_low || j.window) {
      diagnostics_.error(code::kBadJoin, j.window ? j.window->span : Span{j.within_low->span.begin, j.within_high->span.end},
                         "a lookup join takes no time bounds", "not for a table",
                         "a table has no event time: every record is joined with the table as loaded");
      ok = false;
    }
    auto table = tables_.find(j.stream.text);
    if (table == tables_.end()) {
      bool stream = sources_.count(j.stream.text) || lets_.count(j.stream.text) || shared_streams_.count(j.stream.text);
      std::string suggestion = closest_name(j.stream.text, keys_of(tables_));
      diagnostics_.error(code::kUnknownStream, j.stream.span,
                         stream ? fmt::format("`{}` is a stream, not a table", j.stream.text)
                                : fmt::format("unknown table `{}`", j.stream.text),
                         suggestion.empty() ? "not a table" : "did you mean `" + suggestion + "`?",
                         stream ? "join a stream with `join NAME as a on ... within LO .. HI` or `... over WINDOW`"
                                : "declare it: `table NAME: Schema = file(\"data.csv\", format = csv)`");
      return false;
    }
    joined_tables_.insert(j.stream.text);
    join.table = table->second;
    join.right = program_.sources[static_cast<std::size_t>(table->second)].schema;
  } else {
    if (tables_.count(j.stream.text)) {
      diagnostics_.error(code::kUnknownStream, j.stream.span, fmt::format("`{}` is a table, not a stream", j.stream.text),
                         "a table", fmt::format("write `join table {} as {} on ...`", j.stream.text, j.alias.text));
      return false;
    }
    if (!j.within_low && !j.window) {
      diagnostics_.error(code::kBadJoin, s.keyword_span, "a stream join needs time bounds or a window", "unbounded",
                         fmt::format("write `join {} as {} on ... within 0s .. 1h` or `... over tumbling(1m)`", j.stream.text, j.alias.text));
      return false;
    }
    if (j.within_low && j.window) {
      diagnostics_.error(code::kBadJoin, j.window->span, "a join has time bounds or a window, not both", "remove one");
      return false;
    }
    join.right_stream = join_inputs_.at(&j);
    const Stream& input = program_.streams[static_cast<std::size_t>(join.right_stream)];
    if (!input.record) return false;  // the flow feeding it has an error already
    join.right = input.record;
    if (!has_time || !input.has_time) {
      diagnostics_.error(code::kNoEventTime, !has_time ? s.keyword_span : j.stream.span,
                         "a stream join needs event time on both sides", !has_time ? "no event time here" : "no event time in this stream",
                         "give the source a `time` clause, e.g. `time ts watermark lag 5s`");
      ok = false;
    }
  }
  if (join.kind == Join::Kind::Interval) {
    auto lower = constant_duration(*j.within_low, "a join bound", true);
    auto upper = constant_duration(*j.within_high, "a join bound", true);
    if (!lower || !upper) ok = false;
    else if (*lower > *upper) {
      diagnostics_.error(code::kBadJoin, Span{j.within_low->span.begin, j.within_high->span.end},
                         "the lower bound of `within` is above the upper one", "empty interval", "write `within -5s .. 5s`");
      ok = false;
    } else {
      join.lower_ms = *lower;
      join.upper_ms = *upper;
    }
  }
  if (join.kind == Join::Kind::Window) {
    join.window = check_window_spec(*j.window);
    if (!join.window) ok = false;
    else if (join.window->kind != WindowSpec::Kind::Tumbling && join.window->kind != WindowSpec::Kind::Sliding) {
      not_supported(j.window->span, "window joins over session and cumulating windows are");
      ok = false;
    }
    if (j.left) {
      diagnostics_.error(code::kBadJoin, s.keyword_span, "a window join is inner only", "`left` here",
                         "use an interval join for `left join ... within LO .. HI`");
      ok = false;
    }
  }
  // The joined record: the left fields, then the right's as `alias.field`.
  if (record->index_of(j.alias.text) >= 0 || [&] {
        for (const auto& f : record->fields)
          if (f.name.compare(0, j.alias.text.size() + 1, j.alias.text + ".") == 0) return true;
        return false;
      }()) {
    diagnostics_.error(code::kDuplicate, j.alias.span, fmt::format("`{}` is already a name in this record", j.alias.text),
                       "taken", "give the join an alias of its own");
    return false;
  }
  auto output = std::make_shared<RecordType>(*record);
  output->name.clear();
  RecordPtr alias_fields = aliased(*join.right, join.alias, join.left_outer);
  for (const auto& f : alias_fields->fields) output->fields.push_back(f);
  join.output = output;
  if (!check_join_condition(j, join)) ok = false;
  // Lists live in the per-call arena: a record kept in join state cannot hold one.
  for (const auto& f : output->fields)
    if (f.type.kind == TK::List && (join.kind != Join::Kind::Lookup || f.name.compare(0, join.alias.size() + 1, join.alias + ".") == 0)) {
      diagnostics_.error(code::kBadJoin, s.keyword_span, fmt::format("field `{}` is a list, which a join cannot keep", f.name),
                         "a list field", "drop it with a `map` before the join");
      ok = false;
    }
  if (!ok) return false;
  out.kind = Stage::Kind::Join;
  out.join = static_cast<int>(program_.joins.size());
  out.output = output;
  if (join.right_stream >= 0) program_.streams[static_cast<std::size_t>(join.right_stream)].join = out.join;
  if (join.kind == Join::Kind::Window) has_time = true;  // window_end - 1 of the window holding both
  program_.joins.push_back(std::move(join));
  return true;
}

}  // namespace flow::sema
