// uniform: counter-based random numbers, the same as backend/Rng.java bit for bit.
//
// Indexing: a 1-D range of n work items; work item i writes out[i] = hash(seed, i) mapped to
// [lo, hi). It reads no memory: the number depends only on (seed, i), so every backend and every
// split of the work draws the same numbers.
//
// The hash is SplitMix64's finaliser applied to seed + (i + 1) * golden ratio, in 64-bit unsigned
// arithmetic (Java's long wraps around the same way; >> on ulong is Java's >>>). The top 24 bits
// make a float in [0, 1) exactly.
//
// FP_CONTRACT OFF: lo + (hi - lo) * u must round after the multiply as Java does, not be fused
// into one fma, or the last bit would differ.
#pragma OPENCL FP_CONTRACT OFF

__kernel void uniform(__global float* out, const float lo, const float hi, const long seed, const int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    ulong z = (ulong) seed + ((ulong) i + 1UL) * 0x9E3779B97F4A7C15UL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
    z = z ^ (z >> 31);
    float unit = (float) (z >> 40) * 0x1.0p-24f;
    float width = hi - lo;
    float scaled = width * unit;
    out[i] = lo + scaled;
}
