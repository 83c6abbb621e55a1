#include "backends/opencl/pipeline_cache.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "backends/opencl/cl_error.h"

namespace kiln::backends::opencl {
namespace {

// A cache file: kMagic, the key's length and bytes, the binary's length and
// bytes, then the FNV-1a hash of everything before it. All integers are
// little-endian uint64.
constexpr char kMagic[8] = {'K', 'I', 'L', 'N', 'C', 'L', '0', '1'};

uint64_t fnv1a(const char* data, size_t size, uint64_t hash = 0xcbf29ce484222325ull) {
  for (size_t i = 0; i < size; ++i) {
    hash ^= static_cast<unsigned char>(data[i]);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

void append_u64(std::string& out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
}

bool read_u64(const std::string& in, size_t& at, uint64_t& value) {
  if (in.size() - at < 8 || at > in.size()) return false;
  value = 0;
  for (int i = 0; i < 8; ++i) value |= static_cast<uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  at += 8;
  return true;
}

// The binary inside a cache file written for |key|, or why there is none.
absl::StatusOr<std::string> parse_entry(const std::string& file, const std::string& key) {
  if (file.size() < sizeof kMagic + 24 || file.compare(0, sizeof kMagic, kMagic, sizeof kMagic) != 0) {
    return absl::DataLossError("not a kiln OpenCL program cache entry");
  }
  size_t at = file.size() - 8;
  uint64_t stored_hash = 0;
  read_u64(file, at, stored_hash);
  if (fnv1a(file.data(), file.size() - 8) != stored_hash) return absl::DataLossError("checksum mismatch");
  at = sizeof kMagic;
  uint64_t key_size = 0, binary_size = 0;
  if (!read_u64(file, at, key_size) || key_size > file.size() - at) return absl::DataLossError("truncated key");
  if (file.compare(at, key_size, key) != 0) return absl::DataLossError("written for another program");
  at += key_size;
  if (!read_u64(file, at, binary_size) || binary_size != file.size() - at - 8) {
    return absl::DataLossError("truncated binary");
  }
  return file.substr(at, binary_size);
}

std::string build_log(cl_program program, cl_device_id device) {
  size_t size = 0;
  clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, 0, nullptr, &size);
  std::string log(size, '\0');
  clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, size, log.data(), nullptr);
  while (!log.empty() && (log.back() == '\0' || log.back() == '\n')) log.pop_back();
  return log;
}

void warn(const std::string& message) { std::fprintf(stderr, "kiln-opencl: warning: %s\n", message.c_str()); }

}  // namespace

ProgramCache::ProgramCache(cl_context context, cl_device_id device, std::string device_key, std::string dir,
                           uint64_t* builds)
    : context_(context), device_(device), device_key_(std::move(device_key)), dir_(std::move(dir)), builds_(builds) {}

absl::StatusOr<cl_program> ProgramCache::get(const std::string& kernel, const std::string& source,
                                             const std::string& options) {
  const std::string memory_key = absl::StrCat(kernel, "\n", options);
  if (auto it = programs_.find(memory_key); it != programs_.end()) return it->second.get();
  const uint64_t source_hash = fnv1a(source.data(), source.size());
  const std::string key = absl::StrCat(device_key_, "\n", kernel, "\n", options, "\nsource ", source_hash);
  std::string path;
  ClProgram program;
  if (!dir_.empty()) {
    path = absl::StrFormat("%s/opencl/%s-%016x.bin", dir_, kernel, fnv1a(key.data(), key.size()));
    program = load(path, key, options);
  }
  if (!program) {
    absl::StatusOr<ClProgram> built = build_from_source(kernel, source, options);
    if (!built.ok()) return built.status();
    program = *std::move(built);
    if (!path.empty()) store(path, key, program.get());
  }
  const cl_program result = program.get();
  programs_.emplace(memory_key, std::move(program));
  return result;
}

absl::StatusOr<ClProgram> ProgramCache::build_from_source(const std::string& kernel, const std::string& source,
                                                          const std::string& options) {
  const char* text = source.c_str();
  const size_t length = source.size();
  cl_int status = CL_SUCCESS;
  ClProgram program(clCreateProgramWithSource(context_, 1, &text, &length, &status));
  if (absl::Status s = cl_status(status, absl::StrCat("creating program ", kernel)); !s.ok()) return s;
  ++*builds_;
  status = clBuildProgram(program.get(), 1, &device_, options.c_str(), nullptr, nullptr);
  if (status == CL_BUILD_PROGRAM_FAILURE || status == CL_INVALID_BUILD_OPTIONS) {
    return absl::InternalError(absl::StrCat("building OpenCL kernel ", kernel, " failed (", cl_error_name(status),
                                            ") with options ", options, "\n", build_log(program.get(), device_)));
  }
  if (absl::Status s = cl_status(status, absl::StrCat("building OpenCL kernel ", kernel)); !s.ok()) return s;
  return program;
}

ClProgram ProgramCache::load(const std::string& path, const std::string& key, const std::string& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  absl::StatusOr<std::string> binary = parse_entry(file, key);
  if (!binary.ok()) {
    warn(absl::StrCat("program cache entry ", path, " is unusable (", binary.status().message(), "); rebuilding"));
    return {};
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(binary->data());
  const size_t size = binary->size();
  cl_int binary_status = CL_SUCCESS, status = CL_SUCCESS;
  ClProgram program(clCreateProgramWithBinary(context_, 1, &device_, &size, &bytes, &binary_status, &status));
  if (status == CL_SUCCESS && binary_status == CL_SUCCESS) {
    status = clBuildProgram(program.get(), 1, &device_, options.c_str(), nullptr, nullptr);
  }
  if (status != CL_SUCCESS || binary_status != CL_SUCCESS) {
    warn(absl::StrCat("program cache entry ", path, " does not load (",
                      cl_error_name(status != CL_SUCCESS ? status : binary_status), "); rebuilding"));
    return {};
  }
  return program;
}

void ProgramCache::store(const std::string& path, const std::string& key, cl_program program) {
  size_t size = 0;
  if (clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, nullptr) != CL_SUCCESS || size == 0) {
    return;
  }
  std::vector<unsigned char> binary(size);
  unsigned char* pointer = binary.data();
  if (clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof pointer, &pointer, nullptr) != CL_SUCCESS) return;
  std::string file(kMagic, sizeof kMagic);
  append_u64(file, key.size());
  file += key;
  append_u64(file, size);
  file.append(reinterpret_cast<const char*>(binary.data()), size);
  append_u64(file, fnv1a(file.data(), file.size()));
  std::error_code error;
  const std::filesystem::path target(path);
  std::filesystem::create_directories(target.parent_path(), error);
  // Unique per process and write, so concurrent writers of one entry never
  // share a temporary file; the last rename wins, whole.
  static std::atomic<uint64_t> writes{0};
  const std::string temporary = absl::StrCat(path, ".tmp.", getpid(), ".", writes.fetch_add(1));
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(file.data(), static_cast<std::streamsize>(file.size()));
    if (!out.flush()) {
      warn(absl::StrCat("cannot write program cache entry ", temporary));
      std::filesystem::remove(temporary, error);
      return;
    }
  }
  std::filesystem::rename(temporary, target, error);
  if (error) {
    warn(absl::StrCat("cannot write program cache entry ", path, ": ", error.message()));
    std::filesystem::remove(temporary, error);
  }
}

}  // namespace kiln::backends::opencl
