// Types of the checked program: equality, printing, records, the dead-letter record.
#include "sema.h"

namespace flow::sema {

Type Type::list_of(Type element, bool nullable) {
  Type t{Kind::List, nullable, std::make_shared<const Type>(std::move(element)), nullptr};
  return t;
}

bool Type::same_base(const Type& o) const {
  if (kind != o.kind) return false;
  if (kind == Kind::List) return element && o.element && *element == *o.element;
  if (kind == Kind::Record) return record == o.record;
  return true;
}

bool Type::operator==(const Type& o) const { return nullable == o.nullable && same_base(o); }

std::string to_string(const Type& t) {
  std::string base;
  switch (t.kind) {
    case Type::Kind::Bool: base = "bool"; break;
    case Type::Kind::I64: base = "i64"; break;
    case Type::Kind::F64: base = "f64"; break;
    case Type::Kind::String: base = "string"; break;
    case Type::Kind::Timestamp: base = "timestamp"; break;
    case Type::Kind::Duration: base = "duration"; break;
    case Type::Kind::List: base = "[" + (t.element ? to_string(*t.element) : std::string("?")) + "]"; break;
    case Type::Kind::Record: base = t.record && !t.record->name.empty() ? t.record->name : "record"; break;
    case Type::Kind::Null: return "null";
  }
  return t.nullable ? base + "?" : base;
}

int RecordType::index_of(const std::string& field) const {
  for (size_t i = 0; i < fields.size(); ++i)
    if (fields[i].name == field) return static_cast<int>(i);
  return -1;
}

bool RecordType::same_fields(const RecordType& other) const {
  if (fields.size() != other.fields.size()) return false;
  for (size_t i = 0; i < fields.size(); ++i)
    if (fields[i].name != other.fields[i].name || !(fields[i].type == other.fields[i].type)) return false;
  return true;
}

std::string to_string(const RecordType& r) {
  std::string out;
  for (const auto& f : r.fields) out += (out.empty() ? "" : ", ") + f.name + ": " + to_string(f.type);
  return "{ " + out + " }";
}

RecordPtr dead_letter_record() {
  static const RecordPtr record = [] {
    auto r = std::make_shared<RecordType>();
    r->name = "DeadLetter";
    for (const char* name : {"source", "position", "raw", "error"})
      r->fields.push_back(FieldDef{name, Type::scalar(Type::Kind::String)});
    return r;
  }();
  return record;
}

}  // namespace flow::sema
