#include "runtime/copy_bandwidth.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ir/graph.h"
#include "runtime/graph_runner.h"

namespace kiln::runtime {
namespace {

constexpr int64_t kRowFloats = 4096;

// y1 = cast(x), y2 = cast(y1), ..., y_copies, each to f32, x an f32 weight
// of `rows` rows: copies the compiler keeps (only a cast to another dtype
// would change the bytes, but no pass removes a same-dtype cast, and CSE
// merges only casts of one operand) and every backend has a kernel for.
// The graph's output is the last copy's first row: a backend copies its
// outputs to the host every step, and a whole copy as output would time
// that readback (PCIe on a GPU), not the kernel.
absl::StatusOr<ir::Graph> copy_graph(int64_t rows, int copies, std::shared_ptr<const std::vector<float>> data) {
  ir::Graph graph;
  const ir::TensorType type{ir::DType::f32, {rows, kRowFloats}};
  ir::WeightData weight{.owner = data,
                        .bytes = reinterpret_cast<const uint8_t*>(data->data()),
                        .size = data->size() * sizeof(float),
                        .source = "copy bandwidth"};
  absl::StatusOr<ir::Value*> x = graph.add_weight("x", type, std::move(weight));
  if (!x.ok()) return x.status();
  ir::Value* y = *x;
  for (int i = 1; i <= copies; ++i) {
    absl::StatusOr<ir::Node*> cast =
        graph.add_node("cast", {y}, {{"dtype", std::string("f32")}}, {absl::StrCat("y", i)});
    if (!cast.ok()) return cast.status();
    y = (*cast)->output();
  }
  absl::StatusOr<ir::Node*> row = graph.add_node(
      "slice", {y}, {{"axis", int64_t{0}}, {"start", int64_t{0}}, {"end", int64_t{1}}}, {"row"});
  if (!row.ok()) return row.status();
  graph.set_outputs({(*row)->output()});
  return graph;
}

}  // namespace

absl::StatusOr<CopyBandwidth> measure_copy_bandwidth(const backends::Backend& backend, int64_t bytes, int runs) {
  const int64_t rows = std::max<int64_t>(1, bytes / (kRowFloats * 4));
  // Ones, not zeros: no device may take a shortcut on a zero page.
  auto data = std::make_shared<const std::vector<float>>(rows * kRowFloats, 1.0f);
  absl::StatusOr<ir::Graph> graph = copy_graph(rows, kCopiesPerRun, data);
  if (!graph.ok()) return graph.status();
  absl::StatusOr<GraphRunner> runner = GraphRunner::create(backend, *graph);
  if (!runner.ok()) {
    return absl::Status(runner.status().code(),
                        absl::StrCat("measuring the copy bandwidth: ", runner.status().message()));
  }
  // The caller reads no output (the backend still copies its one row to
  // the host buffer).
  backends::Step step;
  step.values.assign(runner->program().given_slots(), 0);
  std::vector<double> seconds;
  for (int run = 0; run <= runs; ++run) {
    const auto start = std::chrono::steady_clock::now();
    if (absl::Status s = runner->executable().run(step); !s.ok()) return s;
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    if (run > 0) seconds.push_back(took.count());  // run 0 warms caches and pages
  }
  std::sort(seconds.begin(), seconds.end());
  return CopyBandwidth{.bytes = rows * kRowFloats * 4,
                       .copies = kCopiesPerRun,
                       .runs = runs,
                       .best_seconds = seconds.front(),
                       .median_seconds = seconds[seconds.size() / 2]};
}

}  // namespace kiln::runtime
