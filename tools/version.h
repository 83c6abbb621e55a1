#pragma once

namespace kiln::cli {

// The project version (CMake's PROJECT_VERSION) and the git revision the
// binary was built from (`git describe --always --dirty`), defined in the
// version_info.cc that tools/version_info.cmake writes at build time.
extern const char kVersion[];
extern const char kGitRevision[];

}  // namespace kiln::cli
