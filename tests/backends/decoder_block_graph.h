#pragma once

// One decoder attention block in the text IR, small and odd-shaped: RMSNorm,
// the q/k/v products (grouped heads: 4 query heads over 2 KV heads of 6),
// RoPE, the KV-cache writes, attention over the cache, the output product
// and the residual add. The conformance suite runs it against the NumPy
// reference; opencl_compiled_test runs it against the cpu plugin over steps
// that share one cache. Its symbols: P, the cache position (at most 32);
// T, the tokens of the step (at most 8).

#include <string_view>

namespace kiln::backends::testing {

inline constexpr std::string_view kDecoderAttentionBlock = R"(symbol P <= 32
symbol T <= 8
input %x : f32[T, 24]
weight %g : f32[24]
weight %wq : f16[24, 24]
weight %wk : f16[12, 24]
weight %wv : f16[12, 24]
weight %wo : f16[24, 24]
state %kc : f32[32, 2, 6]
state %vc : f32[32, 2, 6]
%h = rmsnorm(%x, %g)
%q = matmul(%h, %wq) {transpose_b = true}
%k = matmul(%h, %wk) {transpose_b = true}
%v = matmul(%h, %wv) {transpose_b = true}
%q3 = reshape(%q) {shape = [T, 4, 6]}
%k3 = reshape(%k) {shape = [T, 2, 6]}
%v3 = reshape(%v) {shape = [T, 2, 6]}
%qr = rope(%q3) {rotary_dim = 6}
%kr = rope(%k3) {rotary_dim = 6}
%kc2 = kv_write(%kc, %kr)
%vc2 = kv_write(%vc, %v3)
%a = attention(%qr, %kc2, %vc2)
%a2 = reshape(%a) {shape = [T, 24]}
%o = matmul(%a2, %wo) {transpose_b = true}
%y = add(%x, %o)
output %y)";

} // namespace kiln::backends::testing
