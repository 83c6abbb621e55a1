#pragma once

// The element types are the Program's (program/dtype.h): the compiler and
// the plugins share one vocabulary, and the plugins link no part of ir/.
#include "program/dtype.h"

namespace kiln::ir {

using program::bf16_to_f32;
using program::DType;
using program::dtype_bytes;
using program::dtype_info;
using program::dtype_name;
using program::DTypeInfo;
using program::f16_to_f32;
using program::f32_to_bf16;
using program::f32_to_f16;
using program::parse_dtype;

}  // namespace kiln::ir
