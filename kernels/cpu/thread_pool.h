#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace kiln::kernels::cpu {

// The threads a pool gets when nobody asks for a number: KILN_CPU_THREADS
// when it holds a positive integer, else the CPUs this process may run on
// (its affinity mask, which taskset, cgroups' cpusets and container limits
// narrow, rather than every core of the machine). At most 1024.
int default_threads();

// A fixed set of worker threads that run the chunks of one job at a time
// beside the thread that posts it. Made once (a cpu device owns one), so a
// step creates no thread and allocates nothing.
//
// Waking. A worker that has just finished a job spins on the job counter
// for up to kSpin (a pause instruction a turn, a yield now and then past
// the first microseconds) before it sleeps in a futex wait on that counter; a decode step posts a job every few microseconds,
// so workers are usually still spinning when the next one comes, and the
// poster then makes no system call. The poster waits for the last chunk
// the same way: spin, then sleep until the worker that finishes it wakes it.
//
// Memory ordering. Two of the handshakes below are Dekker's (each side
// writes its atomic, then reads the other's), which only sequentially
// consistent operations order; the code marks them seq_cst.
//   - Posting: the poster writes the job, then stores an odd epoch_
//     ("open", seq_cst, so a release). A worker that reads that epoch
//     (acquire) sees the job.
//   - Entering and leaving: a worker increments active_ (seq_cst), then
//     re-reads epoch_ (seq_cst) and takes chunks only if it is still the
//     epoch it woke for. The poster, once every chunk is finished, stores
//     the next even epoch ("closed", seq_cst), then waits for active_ to
//     read 0 (seq_cst). In the single order of seq_cst operations either
//     the worker's increment comes first, and the poster waits for its
//     decrement (release; the poster's load acquires it, so the worker's
//     reads of the job happen before the next job is written), or the
//     poster's close comes first, and the worker's re-read sees it and
//     takes nothing. So no worker ever reads a job the poster is
//     rewriting, and a late worker never takes a chunk of the next job.
//   - Results: each thread adds the chunks it ran to finished_ (seq_cst,
//     so a release); the poster returns after reading finished_ == chunks
//     (acquire), which the chain of those adds makes synchronise with every
//     one of them, so every chunk's writes happen before try_run returns.
//   - Sleeping: a sleeper registers (sleepers_ or poster_sleeps_, seq_cst)
//     before its last seq_cst check of the value it waits on; the other
//     side changes that value (seq_cst), then reads the registration and
//     notifies only where it sees one. Either the notifier sees the sleeper
//     or the sleeper sees the change; the futex wait itself returns at once
//     if the value changed before it slept.
//   - The epoch is 32 bits (the futex word); a worker would have to stop
//     between two instructions for 2^31 jobs to mistake one for another.
class ThreadPool {
 public:
  // A job's chunk body. `context` is the poster's; must not throw.
  using ChunkFn = void (*)(const void* context, int64_t chunk);

  // `threads` in all, the posting thread included (at least 1): threads - 1
  // workers are started here.
  explicit ThreadPool(int threads);
  // Joins the workers. No job may be in flight.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs fn(context, i) for every i in [0, chunks) on the calling thread and
  // the workers, and returns when all are done. Returns false, running
  // nothing, when another call holds the pool (a nested call from a chunk,
  // or a call from another thread): the caller then runs the work itself.
  bool try_run(int64_t chunks, ChunkFn fn, const void* context);

 private:
  struct Job {
    ChunkFn fn = nullptr;
    const void* context = nullptr;
    int64_t chunks = 0;
  };

  void work();
  // Runs chunks of job_ until none is left; returns how many it ran.
  int64_t drain();
  // Adds `done` chunks to finished_, waking a sleeping poster when that
  // finishes the job.
  void add_finished(int64_t done);
  // Returns the first epoch_ value other than `seen`.
  uint32_t wait_for_epoch_after(uint32_t seen);
  void wait_until_finished(int64_t chunks);

  // Each counter that one thread writes while others read it has a cache
  // line of its own, so spinning on the epoch does not slow the chunk
  // counter's increments, nor they the spin.
  static constexpr size_t kLine = 64;

  std::mutex post_;  // held by the one job in flight
  Job job_;          // written only while closed with no worker active
  alignas(kLine) std::atomic<uint32_t> epoch_{0};  // odd: a job is open; even: closed
  alignas(kLine) std::atomic<int64_t> next_{0};     // the next chunk to take
  alignas(kLine) std::atomic<int64_t> finished_{0};  // chunks done
  alignas(kLine) std::atomic<int> active_{0};        // workers inside the open job
  std::atomic<int> sleepers_{0};                     // workers in (or entering) a wait on epoch_
  // The futex word a sleeping poster waits on (finished_ is 64 bits):
  // bumped by the thread that finishes the last chunk, when it sees the
  // poster asleep.
  std::atomic<uint32_t> finished_signal_{0};
  std::atomic<bool> poster_sleeps_{false};
  std::atomic<bool> stop_{false};
  std::vector<std::thread> workers_;
};

// The pool parallel_for uses on this thread: a worker's own pool (so that a
// nested call finds it busy and runs inline), or the one a ScopedPool
// installed; null when neither.
ThreadPool* current_pool();

// Makes `pool` this thread's current_pool() until destroyed, then restores
// the previous one. A cpu executable installs its device's pool for a step.
class ScopedPool {
 public:
  explicit ScopedPool(ThreadPool* pool);
  ~ScopedPool();
  ScopedPool(const ScopedPool&) = delete;
  ScopedPool& operator=(const ScopedPool&) = delete;

 private:
  ThreadPool* previous_;
};

}  // namespace kiln::kernels::cpu
