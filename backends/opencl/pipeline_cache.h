#pragma once

#include <CL/cl.h>

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "backends/opencl/cl_handle.h"

namespace kiln::backends::opencl {

// The device's built programs, one per (kernel, build options): the same
// pair compiled by two executables (a session's prefill and decode) is built
// once. With a cache directory, each program's binary is kept on disk under
// <dir>/opencl/, keyed by the platform, device, driver version, kernel
// source and options, so a warm cache builds nothing from source. Files are
// written atomically (a temporary file renamed into place); an entry that
// does not load (truncated, corrupt, another driver's) is rebuilt from
// source with a warning on stderr and replaced.
class ProgramCache {
 public:
  // |device_key| names the platform, device and driver version; |dir| may be
  // empty (no disk cache). |builds| counts programs built from source.
  ProgramCache(cl_context context, cl_device_id device, std::string device_key, std::string dir, uint64_t* builds);

  // The program |kernel| (its entry point) built from |source| with
  // |options|. A build failure is an error carrying the build log and the
  // kernel's name. The program lives as long as the cache.
  absl::StatusOr<cl_program> get(const std::string& kernel, const std::string& source, const std::string& options);

 private:
  absl::StatusOr<ClProgram> build_from_source(const std::string& kernel, const std::string& source,
                                              const std::string& options);
  // Null when the file is missing or unusable (after warning).
  ClProgram load(const std::string& path, const std::string& key, const std::string& options);
  void store(const std::string& path, const std::string& key, cl_program program);

  cl_context context_;
  cl_device_id device_;
  std::string device_key_;
  std::string dir_;
  uint64_t* builds_;
  std::map<std::string, ClProgram> programs_;
};

}  // namespace kiln::backends::opencl
