#include "kernels/cpu/parallel_for.h"

#include <algorithm>

#include "kernels/cpu/thread_pool.h"

namespace kiln::kernels::cpu {
namespace {

// The pool of a thread that has none installed (tests and tools calling
// kernels directly). Never destroyed: workers sleep in it until the process
// exits, and a static destructor joining them could run while a plugin is
// unloading. Its size is chosen once, when a kernel first asks for it.
ThreadPool& default_pool() {
  static ThreadPool* pool = new ThreadPool(default_threads());
  return *pool;
}

ThreadPool& pool() {
  ThreadPool* current = current_pool();
  return current != nullptr ? *current : default_pool();
}

// One parallel_for call as the pool's job: chunk i is items
// [count * i / chunks, count * (i + 1) / chunks).
struct Split {
  int64_t count;
  int64_t chunks;
  absl::FunctionRef<void(int64_t, int64_t)> fn;

  static void run_chunk(const void* context, int64_t chunk) {
    const Split& split = *static_cast<const Split*>(context);
    split.fn(split.count * chunk / split.chunks, split.count * (chunk + 1) / split.chunks);
  }
};

}  // namespace

int parallel_threads() { return pool().threads(); }

void parallel_for(int64_t count, int64_t cost_per_item, absl::FunctionRef<void(int64_t, int64_t)> fn) {
  if (count <= 0) return;
  ThreadPool& threads = pool();
  if (threads.threads() == 1 || count == 1 || count * std::max<int64_t>(cost_per_item, 1) < kInlineCost) {
    fn(0, count);
    return;
  }
  // A few chunks per thread even out rows of unequal cost (causal attention).
  const Split split{count, std::min<int64_t>(count, 4 * threads.threads()), fn};
  if (!threads.try_run(split.chunks, Split::run_chunk, &split)) fn(0, count);
}

}  // namespace kiln::kernels::cpu
