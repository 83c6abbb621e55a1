#include "kernels/cpu/parallel_for.h"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace kiln::kernels::cpu {
namespace {

// Workers sleep until a job is posted, then take chunk indices from a shared
// counter until none are left. The poster takes chunks too, then waits until
// every chunk is finished and every worker has left the job, so no worker
// can still touch the counter when the next job resets it.
class Pool {
 public:
  explicit Pool(int workers) {
    for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { work(); });
  }

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // False when another job holds the pool; the caller then runs inline.
  bool try_run(int64_t chunks, const std::function<void(int64_t)>& chunk_fn) {
    std::unique_lock<std::mutex> poster(post_, std::try_to_lock);
    if (!poster.owns_lock()) return false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &chunk_fn;
      chunks_ = chunks;
      finished_ = 0;
      next_ = 0;
      ++generation_;
    }
    wake_.notify_all();
    const int64_t mine = drain(chunk_fn, chunks);
    std::unique_lock<std::mutex> lock(mutex_);
    finished_ += mine;
    done_.wait(lock, [&] { return finished_ == chunks_ && active_ == 0; });
    job_ = nullptr;
    return true;
  }

 private:
  int64_t drain(const std::function<void(int64_t)>& chunk_fn, int64_t chunks) {
    int64_t done = 0;
    for (int64_t i = next_.fetch_add(1); i < chunks; i = next_.fetch_add(1)) {
      chunk_fn(i);
      ++done;
    }
    return done;
  }

  void work() {
    std::unique_lock<std::mutex> lock(mutex_);
    uint64_t seen = 0;
    for (;;) {
      wake_.wait(lock, [&] { return generation_ != seen && job_ != nullptr; });
      seen = generation_;
      const std::function<void(int64_t)>* job = job_;
      const int64_t chunks = chunks_;
      ++active_;
      lock.unlock();
      const int64_t done = drain(*job, chunks);
      lock.lock();
      finished_ += done;
      --active_;
      if (finished_ == chunks_ && active_ == 0) done_.notify_one();
    }
  }

  std::mutex post_;   // held by the one job in flight
  std::mutex mutex_;  // guards everything below except next_
  std::condition_variable wake_, done_;
  const std::function<void(int64_t)>* job_ = nullptr;
  int64_t chunks_ = 0;
  int64_t finished_ = 0;
  int active_ = 0;
  uint64_t generation_ = 0;
  std::atomic<int64_t> next_{0};
  std::vector<std::thread> workers_;
};

// KILN_CPU_THREADS when it holds a positive integer (`kiln run -t N` sets
// it), else the CPUs this process may run on: its affinity mask, which
// taskset, cgroups' cpusets and container limits narrow, rather than every
// core of the machine.
int chosen_threads() {
  if (const char* text = std::getenv("KILN_CPU_THREADS"); text != nullptr) {
    char* end = nullptr;
    const long threads = std::strtol(text, &end, 10);
    if (end != text && *end == '\0' && threads > 0) return static_cast<int>(std::min(threads, 1024L));
  }
  cpu_set_t mask;
  if (sched_getaffinity(0, sizeof(mask), &mask) == 0) return std::max(1, CPU_COUNT(&mask));
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// Never destroyed: workers sleep in it until the process exits, and a
// static destructor joining them could run while a plugin is unloading.
// Its size is chosen once, when a kernel first asks for it.
Pool& pool() {
  static Pool* pool = new Pool(chosen_threads() - 1);
  return *pool;
}

}  // namespace

int parallel_threads() { return pool().threads(); }

void parallel_for(int64_t count, int64_t cost_per_item, const std::function<void(int64_t, int64_t)>& fn) {
  if (count <= 0) return;
  const int threads = parallel_threads();
  if (threads == 1 || count == 1 || count * std::max<int64_t>(cost_per_item, 1) < kInlineCost) {
    fn(0, count);
    return;
  }
  // A few chunks per thread even out rows of unequal cost (causal attention).
  const int64_t chunks = std::min<int64_t>(count, 4 * threads);
  const std::function<void(int64_t)> chunk_fn = [&](int64_t chunk) {
    fn(count * chunk / chunks, count * (chunk + 1) / chunks);
  };
  if (!pool().try_run(chunks, chunk_fn)) fn(0, count);
}

}  // namespace kiln::kernels::cpu
