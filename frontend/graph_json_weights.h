#pragma once

// Internal to the JSON graph reader (graph_json.cc): where a weight's bytes
// come from. Exactly one of
//   "data": [...]                                   inline numbers
//   "npy": "data/w.npy"                             a .npy file
//   "safetensors": {"file": "m.safetensors", "tensor": "w"}
// File paths are relative to the graph's folder.

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "frontend/graph_json_document.h"
#include "frontend/safetensors.h"
#include "ir/graph.h"

namespace kiln::frontend::graph_json {

// Loads the weights of one graph. Files stay memory-mapped and are
// referenced, never copied: the WeightData's owner keeps the mapping alive.
// Each .safetensors file is opened (and its header validated) once.
class WeightLoader {
 public:
  // `source_name` names the graph in WeightData::source for inline data.
  WeightLoader(std::string base_dir, std::string source_name)
      : base_dir_(std::move(base_dir)), source_name_(std::move(source_name)) {}

  // The bytes of weight `name`, whose entry is `entry`, declared `type` (its
  // shape is static). A file tensor must have exactly the declared dtype and
  // shape; inline data is converted to the declared dtype.
  absl::StatusOr<ir::WeightData> load(const std::string& name, const ObjectReader& entry,
                                      const ir::TensorType& type);

 private:
  absl::StatusOr<ir::WeightData> from_inline(const std::string& name, const ObjectReader& entry,
                                             const ir::TensorType& type) const;
  absl::StatusOr<ir::WeightData> from_npy(const ObjectReader& entry, const ir::TensorType& type) const;
  absl::StatusOr<ir::WeightData> from_safetensors(const ObjectReader& entry, const ir::TensorType& type);
  std::string resolve(const std::string& path) const;

  std::string base_dir_;
  std::string source_name_;
  std::map<std::string, SafetensorsFile> safetensors_;  // by resolved path
};

}  // namespace kiln::frontend::graph_json
