// dataflow_edges: the operator graph of a plan, as the runtime's metrics and web page show it.
// A pipeline starts at an operator (a source's batches, an aggregate's or window's results, a
// join's pairs) or at a stream; it ends at operators (a sink, an aggregate or window update, a
// join's buffer, a lookup table) or at streams and partitioning stages, whose readers are
// followed to their ends.
#include <algorithm>
#include <set>

#include "compiler/plan/plan.h"

namespace flow::plan {

namespace {

using Kind = GraphNode::Kind;

class GraphBuilder {
 public:
  explicit GraphBuilder(const PhysicalPlan& plan) : plan_(plan) {}

  std::vector<GraphEdge> edges() {
    for (const Pipeline& p : plan_.pipelines) {
      std::optional<GraphNode> from = entry(p);
      if (!from) continue;  // a stream's reader: reached from the pipelines feeding the stream
      std::set<int> visiting;
      for (const GraphNode& to : ends(p, visiting)) edges_.insert(GraphEdge{*from, to});
    }
    return {edges_.begin(), edges_.end()};
  }

 private:
  GraphNode aggregate_node(int aggregate) const {
    const AggregateOperator& a = plan_.aggregates[static_cast<std::size_t>(aggregate)];
    return a.windowed() ? GraphNode{Kind::Window, a.window} : GraphNode{Kind::Aggregate, a.table};
  }
  GraphNode join_node(int join) const {
    const JoinOperator& j = plan_.joins[static_cast<std::size_t>(join)];
    return GraphNode{j.lookup() ? Kind::Lookup : Kind::Join, j.runtime};
  }

  std::optional<GraphNode> entry(const Pipeline& p) const {
    switch (p.entry) {
      case Entry::SourceBatch:
      case Entry::DeadLetter: return GraphNode{Kind::Source, p.source};
      case Entry::AggregateEmit:
      case Entry::WindowEmit:
      case Entry::LateRecords: return aggregate_node(p.aggregate);
      case Entry::JoinOutput: return join_node(p.join);
      case Entry::StreamRecords:
      case Entry::Partitioned: return std::nullopt;
    }
    return std::nullopt;
  }

  // The operators a pipeline's records reach; lookups probed on the way feed them too.
  std::vector<GraphNode> ends(const Pipeline& p, std::set<int>& visiting) {
    std::vector<GraphNode> out;
    if (!visiting.insert(p.id).second) return out;
    if (p.sink >= 0) out.push_back(GraphNode{Kind::Sink, p.sink});
    if (p.updates_aggregate >= 0) out.push_back(aggregate_node(p.updates_aggregate));
    if (p.inserts_join >= 0) out.push_back(join_node(p.inserts_join));
    for (int j : p.fills_lookups) out.push_back(join_node(j));
    if (p.feeds_streams)
      for (int s : streams_fed(*p.feeds_streams))
        for (int reader : plan_.stream_readers[static_cast<std::size_t>(s)])
          for (const GraphNode& n : ends(plan_.pipelines[static_cast<std::size_t>(reader)], visiting)) out.push_back(n);
    if (p.feeds_partition >= 0) {
      const PartitionOperator& x = plan_.partitions[static_cast<std::size_t>(p.feeds_partition)];
      for (const GraphNode& n : ends(plan_.pipelines[static_cast<std::size_t>(x.to_pipeline)], visiting)) out.push_back(n);
    }
    for (const sema::Stage* stage : p.stages)
      if (stage->kind == sema::Stage::Kind::Join && plan_.joins[static_cast<std::size_t>(stage->join)].lookup())
        for (const GraphNode& to : out) edges_.insert(GraphEdge{join_node(stage->join), to});
    return out;
  }

  const PhysicalPlan& plan_;
  std::set<GraphEdge> edges_;
};

}  // namespace

std::vector<GraphEdge> dataflow_edges(const PhysicalPlan& plan) { return GraphBuilder(plan).edges(); }

}  // namespace flow::plan
