// Rope's frequencies, shared by the rope kernel and the epilogue of
// rmsnorm_qkv_rope: theta^(-2i / rotary_dim) for pair i, reshaped as Llama 3
// does when scaling_original_context > 0. f32 (the cpu reference uses f64):
// an angle's error grows with the position, about 1e-3 rad at 8k.
float rope_inverse_frequency(uint i, float theta, int rotary_dim, float scaling_factor, float low_freq_factor,
                             float high_freq_factor, int original_context) {
  float inv_freq = exp2(-float(2u * i) / float(rotary_dim) * log2(theta));
  if (original_context <= 0) return inv_freq;
  float context = float(original_context);
  float wavelen = 6.283185307179586 / inv_freq;
  if (wavelen > context / low_freq_factor) return inv_freq / scaling_factor;
  if (wavelen < context / high_freq_factor) return inv_freq;
  float smooth_ = (context / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor);
  return (1.0 - smooth_) * inv_freq / scaling_factor + smooth_ * inv_freq;
}
