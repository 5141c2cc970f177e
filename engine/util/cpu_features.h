#pragma once
// Run-time CPU feature checks shared by the kernels' dispatchers (each answered once).
// Include only outside `#pragma GCC target` regions: these inline functions must be compiled
// for the baseline ISA, or the linker could keep an AVX copy that runs before the check.
namespace scout {

// AVX2 with FMA and F16C: what every AVX2 kernel here is compiled for (Haswell, Zen and later).
inline bool cpu_has_avx2_fma_f16c() {
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  }();
  return yes;
}

// AVX-512 F/BW/VL/DQ with VNNI (Ice Lake, Sapphire Rapids, Zen 4 and later), on top of the above.
inline bool cpu_has_avx512_vnni() {
  static const bool yes = [] {
    __builtin_cpu_init();
    return cpu_has_avx2_fma_f16c() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vnni");
  }();
  return yes;
}

}  // namespace scout
