#include "kernels/cpu/thread_pool.h"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace kiln::kernels::cpu {
namespace {

// How long a waiting thread spins before it sleeps. A decode step posts a
// job every few to few tens of microseconds (the serial work between two
// parallel kernels), so a worker that spins this long is awake for the next
// one; past it the thread sleeps, so an idle pool costs no CPU. A few
// hundred microseconds of spinning per idle period is what a sleeping
// wake-up would cost several times over on a VM (a futex wake is an IPI).
constexpr std::chrono::microseconds kSpin{250};
// How long of that a spinner keeps its CPU without yielding it.
constexpr std::chrono::microseconds kSpinAlone{20};

// Tells the core this is a spin-wait: on x86 `pause` lets the sibling
// hyperthread run and avoids the memory-order flush when the loop exits.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// Spins until done() or kSpin has passed; returns done()'s last answer.
// The clock is read every 64 turns, so its cost stays out of the loop.
// Past the first kSpinAlone the spinner also yields every 64 turns: when
// the scheduler has put the two threads of a hand-off on one CPU (a
// futex wake places the woken thread beside its waker when every CPU is
// busy, with other processes' work too), the thread the spinner waits for
// then runs instead of losing the CPU to the spin for the whole timeslice.
template <typename Done>
bool spin_until(Done done) {
  const auto start = std::chrono::steady_clock::now();
  const auto alone = start + kSpinAlone, deadline = start + kSpin;
  for (;;) {
    for (int turn = 0; turn < 64; ++turn) {
      if (done()) return true;
      cpu_relax();
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return done();
    if (now >= alone) std::this_thread::yield();
  }
}

thread_local ThreadPool* this_thread_pool = nullptr;

}  // namespace

int default_threads() {
  if (const char* text = std::getenv("KILN_CPU_THREADS"); text != nullptr) {
    char* end = nullptr;
    const long threads = std::strtol(text, &end, 10);
    if (end != text && *end == '\0' && threads > 0) return static_cast<int>(std::min(threads, 1024L));
  }
  cpu_set_t mask;
  if (sched_getaffinity(0, sizeof(mask), &mask) == 0) return std::clamp(CPU_COUNT(&mask), 1, 1024);
  return static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 1024u));
}

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(post_);
    stop_.store(true, std::memory_order_relaxed);
    // A new (still closed) epoch wakes every worker; its release half
    // publishes stop_, which a worker reads before anything else.
    epoch_.fetch_add(2, std::memory_order_seq_cst);
  }
  epoch_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

bool ThreadPool::try_run(int64_t chunks, ChunkFn fn, const void* context) {
  std::unique_lock<std::mutex> poster(post_, std::try_to_lock);
  if (!poster.owns_lock()) return false;
  // Closed, and no worker inside: the previous call waited for that.
  job_ = {fn, context, chunks};
  next_.store(0, std::memory_order_relaxed);
  finished_.store(0, std::memory_order_relaxed);
  const uint32_t open = epoch_.load(std::memory_order_relaxed) + 1;
  epoch_.store(open, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) > 0) epoch_.notify_all();
  add_finished(drain());
  wait_until_finished(chunks);
  epoch_.store(open + 1, std::memory_order_seq_cst);
  // Workers still inside have run their last chunk and are leaving.
  if (!spin_until([&] { return active_.load(std::memory_order_seq_cst) == 0; })) {
    while (active_.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
  }
  return true;
}

int64_t ThreadPool::drain() {
  int64_t done = 0;
  for (int64_t i = next_.fetch_add(1, std::memory_order_relaxed); i < job_.chunks;
       i = next_.fetch_add(1, std::memory_order_relaxed)) {
    job_.fn(job_.context, i);
    ++done;
  }
  return done;
}

void ThreadPool::add_finished(int64_t done) {
  if (done == 0) return;
  const int64_t total = finished_.fetch_add(done, std::memory_order_seq_cst) + done;
  if (total == job_.chunks && poster_sleeps_.load(std::memory_order_seq_cst)) {
    finished_signal_.fetch_add(1, std::memory_order_seq_cst);
    finished_signal_.notify_one();
  }
}

void ThreadPool::wait_until_finished(int64_t chunks) {
  if (spin_until([&] { return finished_.load(std::memory_order_acquire) == chunks; })) return;
  for (;;) {
    const uint32_t signal = finished_signal_.load(std::memory_order_seq_cst);
    poster_sleeps_.store(true, std::memory_order_seq_cst);
    if (finished_.load(std::memory_order_seq_cst) == chunks) break;
    finished_signal_.wait(signal, std::memory_order_seq_cst);
  }
  poster_sleeps_.store(false, std::memory_order_relaxed);
}

uint32_t ThreadPool::wait_for_epoch_after(uint32_t seen) {
  uint32_t epoch = seen;
  if (spin_until([&] { return (epoch = epoch_.load(std::memory_order_acquire)) != seen; })) return epoch;
  sleepers_.fetch_add(1, std::memory_order_seq_cst);
  // Returns once the value differs from `seen`, at once if it already does.
  epoch_.wait(seen, std::memory_order_seq_cst);
  sleepers_.fetch_sub(1, std::memory_order_relaxed);
  return epoch_.load(std::memory_order_acquire);
}

void ThreadPool::work() {
  ScopedPool serve(this);
  uint32_t seen = 0;  // the epoch the pool was made with: closed
  for (;;) {
    const uint32_t epoch = wait_for_epoch_after(seen);
    seen = epoch;
    if (stop_.load(std::memory_order_relaxed)) return;
    if ((epoch & 1) == 0) continue;  // a job opened and closed while this worker looked away
    active_.fetch_add(1, std::memory_order_seq_cst);
    if (epoch_.load(std::memory_order_seq_cst) == epoch) add_finished(drain());
    active_.fetch_sub(1, std::memory_order_release);
  }
}

ThreadPool* current_pool() { return this_thread_pool; }

ScopedPool::ScopedPool(ThreadPool* pool) : previous_(this_thread_pool) { this_thread_pool = pool; }

ScopedPool::~ScopedPool() { this_thread_pool = previous_; }

}  // namespace kiln::kernels::cpu
