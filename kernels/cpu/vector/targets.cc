// Target queries answer for this library's own compilation: its
// HWY_TARGETS (after HWY_DISABLED_TARGETS, set in CMakeLists.txt) are the
// targets every kernel source here was compiled for.

#include "kernels/cpu/vector/targets.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/vector/targets.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace kiln::kernels::cpu::vector::HWY_NAMESPACE {

const char* target_name_target() { return hwy::TargetName(HWY_TARGET); }

}  // namespace kiln::kernels::cpu::vector::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace kiln::kernels::cpu::vector {

HWY_EXPORT(target_name_target);

std::vector<int64_t> runnable_targets() { return hwy::SupportedAndGeneratedTargets(); }

const char* target_name(int64_t target) { return hwy::TargetName(target); }

const char* active_target() { return HWY_DYNAMIC_DISPATCH(target_name_target)(); }

void force_target(int64_t target) { hwy::SetSupportedTargetsForTest(target); }

}  // namespace kiln::kernels::cpu::vector
#endif
