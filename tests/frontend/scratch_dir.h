#pragma once

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace kiln::testing {

// A fresh directory under gtest's temporary directory, removed with all it
// holds when the test ends, so that tests running in parallel never share
// files.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = ::testing::TempDir() + "kiln-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed: " << pattern;
    path_ = pattern;
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  // The path of `name` inside the directory.
  std::string file(std::string_view name) const { return (path_ / name).string(); }

  // Writes `bytes` to `name` and returns its path.
  std::string write(std::string_view name, std::span<const uint8_t> bytes) const {
    return write_text(name,
                      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  }
  std::string write_text(std::string_view name, std::string_view text) const {
    const std::string path = file(name);
    std::ofstream(path, std::ios::binary)
        .write(text.data(), static_cast<std::streamsize>(text.size()));
    return path;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace kiln::testing
