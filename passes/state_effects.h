#pragma once

#include "ir/graph.h"

namespace kiln::passes {

// Persistent state is the only memory a node can change besides its own
// results: kv_write's result is the cache it wrote (OpDef::aliases).
// Passes that remove or merge nodes ask these instead of naming ops.

// True when `value` is, through a chain of aliases (views, kv_write), the
// storage of a state value.
bool is_state_storage(const ir::Value& value);

// True when one of `node`'s results aliases state storage: it writes a cache.
bool writes_state(const ir::Node& node);

// True when `node` reads or writes state storage.
bool touches_state(const ir::Node& node);

}  // namespace kiln::passes
