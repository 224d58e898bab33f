// The standard library's modules (stdlib.h). Their schemas follow the reference benchmarks'
// own field names, so that queries read like the reference SQL.
#include "stdlib.h"

namespace flow::sema {

namespace {

using TK = Type::Kind;

RecordPtr record(const char* name, std::vector<std::pair<const char*, TK>> fields) {
  auto r = std::make_shared<RecordType>();
  r->name = name;
  for (const auto& [field, kind] : fields) r->fields.push_back(FieldDef{field, Type::scalar(kind)});
  return r;
}

// Nexmark (the benchmark's generator, as Apache Flink's nexmark repository runs it): persons
// opening auctions that people bid on. Prices are in cents; `extra` pads each event to the
// reference's average size.
ModuleDef nexmark() {
  ModuleDef m{"std.nexmark", {}, {}};
  m.schemas.push_back(record("Person", {{"id", TK::I64},
                                        {"name", TK::String},
                                        {"emailAddress", TK::String},
                                        {"creditCard", TK::String},
                                        {"city", TK::String},
                                        {"state", TK::String},
                                        {"dateTime", TK::Timestamp},
                                        {"extra", TK::String}}));
  m.schemas.push_back(record("Auction", {{"id", TK::I64},
                                         {"itemName", TK::String},
                                         {"description", TK::String},
                                         {"initialBid", TK::I64},
                                         {"reserve", TK::I64},
                                         {"dateTime", TK::Timestamp},
                                         {"expires", TK::Timestamp},
                                         {"seller", TK::I64},
                                         {"category", TK::I64},
                                         {"extra", TK::String}}));
  m.schemas.push_back(record("Bid", {{"auction", TK::I64},
                                     {"bidder", TK::I64},
                                     {"price", TK::I64},
                                     {"channel", TK::String},
                                     {"url", TK::String},
                                     {"dateTime", TK::Timestamp},
                                     {"extra", TK::String}}));
  // events: how many events of all three kinds the stream has (a source keeps its kind's);
  // seed: varies every random choice; rate: events per second of event time.
  m.generators.push_back(GeneratorDef{"nexmark",
                                      {"Person", "Auction", "Bid"},
                                      {{"events", true, 0, 0}, {"seed", false, 0, 0}, {"rate", false, 10000, 1}}});
  return m;
}

// The Yahoo Streaming Benchmark: ad events, and the table of which campaign each ad is in.
ModuleDef ysb() {
  ModuleDef m{"std.ysb", {}, {}};
  m.schemas.push_back(record("AdEvent", {{"user_id", TK::I64},
                                         {"page_id", TK::I64},
                                         {"ad_id", TK::I64},
                                         {"ad_type", TK::String},
                                         {"event_type", TK::String},
                                         {"event_time", TK::Timestamp},
                                         {"ip_address", TK::String}}));
  m.schemas.push_back(record("Campaign", {{"ad_id", TK::I64}, {"campaign_id", TK::I64}}));
  // events: how many ad events (a Campaign source has the 1000 ads whatever it is);
  // seed: varies every random choice; rate: events per second of event time.
  m.generators.push_back(GeneratorDef{"ysb",
                                      {"AdEvent", "Campaign"},
                                      {{"events", true, 0, 0}, {"seed", false, 0, 0}, {"rate", false, 10000, 1}}});
  return m;
}

const std::vector<ModuleDef>& modules() {
  static const std::vector<ModuleDef> all{nexmark(), ysb()};
  return all;
}

}  // namespace

const ModuleDef* find_module(const std::string& name) {
  for (const ModuleDef& m : modules())
    if (name == m.name) return &m;
  return nullptr;
}

std::vector<std::string> module_names() {
  std::vector<std::string> names;
  for (const ModuleDef& m : modules()) names.push_back(m.name);
  return names;
}

}  // namespace flow::sema
