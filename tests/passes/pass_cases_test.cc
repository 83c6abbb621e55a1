// Runs every tests/passes/**/*.kir file as a text-IR pass case
// (passes/pass_test.h), one test per file: tests/passes/dce/keeps_kv_write.kir
// is the test PassCases/Kir.Run/dce_keeps_kv_write.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "passes/pass_test_gtest.h"

namespace kiln::passes {
namespace {

namespace fs = std::filesystem;

const fs::path kCaseRoot = fs::path(KILN_SOURCE_DIR) / "tests" / "passes";

std::vector<std::string> find_cases() {
  std::vector<std::string> cases;
  std::error_code error;  // a missing folder means no cases, not a crash before main()
  for (fs::recursive_directory_iterator it(kCaseRoot, error), end; !error && it != end; it.increment(error)) {
    if (it->is_regular_file() && it->path().extension() == ".kir") {
      cases.push_back(fs::relative(it->path(), kCaseRoot).string());
    }
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

std::string test_name(const testing::TestParamInfo<std::string>& info) {
  std::string name = fs::path(info.param).replace_extension().string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

class Kir : public testing::TestWithParam<std::string> {};

TEST_P(Kir, Run) {
  std::ifstream file(kCaseRoot / GetParam());
  ASSERT_TRUE(file) << "cannot read " << (kCaseRoot / GetParam());
  std::stringstream text;
  text << file.rdbuf();
  EXPECT_PASS_CASE(text.str()) << "in tests/passes/" << GetParam();
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Kir);
INSTANTIATE_TEST_SUITE_P(PassCases, Kir, testing::ValuesIn(find_cases()), test_name);

}  // namespace
}  // namespace kiln::passes
