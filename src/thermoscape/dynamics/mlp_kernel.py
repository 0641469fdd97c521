"""A hand-written CPU kernel for the Langevin step of a small MLP in float32 (``precision: mixed``).

The paper's network (10-20-20-10-3 on 300 points) is far too small for a batched BLAS GEMM to run near
peak: at K = 32 chains torch spends as long in per-matrix GEMM overhead and ~60 separate elementwise
passes as in arithmetic. This module generates C++ for one given ``MLPSpec`` and data size, with every
dimension a compile-time constant, and compiles it once per machine (``g++ -O3 -march=native``, cached
under ``~/.cache/thermoscape/kernels``) into a shared library called through ``ctypes``. Per chain it
runs the whole step in L1/L2-resident buffers:

* forward: each layer is a register-blocked product ``z = W h + b`` over the data index (contiguous, 8
  floats per vector), with the bias and the ReLU applied to the accumulators before they are stored;
* the cross-entropy (the class-major formulation of ``losses.cross_entropy_per_sample``: softplus of the
  log-sum-exp of the margins, vectorised ``exp``/``log`` polynomials, Cephes' single-precision ones) and
  its gradient with respect to the logits, in the same pass;
* backward: the weight gradient ``delta h^T`` with 2 x 8 vector accumulators reduced by a butterfly (8
  sums per 22 vector operations), the bias gradient on the same loads, the input gradient ``W^T delta`` with the ReLU mask applied to the
  accumulators;
* the Euler-Maruyama update of Eq. 7 in float64 (``theta - eta grad + sqrt(2 eta T) xi``, the float32
  gradient and normals widened first) and the distance from the start, in one pass over ``theta``.

Same arithmetic as the torch path up to float32 rounding (sums in another order, FMA contraction, ~2 ulp
``exp``/``log``); each chain is computed on its own, so a chain's trajectory does not depend on its batch
and every run is bitwise reproducible. ``tests/test_mlp_kernel.py`` checks the gradient against float64
autograd and the trajectory against the float64 engine with the same noise. Anything unsupported (no
compiler, not x86-64 with AVX2, a non-CPU tensor, another landscape) makes ``fused_mlp_step`` return
``None`` and the engine keeps its ``torch.compile`` step.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

import torch
from torch import Tensor

from thermoscape.nets.mlp import MLPSpec


MAX_WIDTH, MAX_SAMPLES = 128, 8192  # larger networks or data sets keep the torch.compile step


def _vector_width() -> int:
    """Floats per vector: 16 (zmm) on AVX-512 CPUs, else 8 (AVX2 ymm); ``THERMOSCAPE_KERNEL_VW`` overrides."""
    if os.environ.get("THERMOSCAPE_KERNEL_VW"):
        return int(os.environ["THERMOSCAPE_KERNEL_VW"])
    return 16 if "avx512f" in _cpu_key() else 8

_HEADER = r"""
#include <stdint.h>
#include <string.h>
typedef float vf __attribute__((vector_size(VW * 4)));
typedef int32_t vi __attribute__((vector_size(VW * 4)));
typedef float vf8 __attribute__((vector_size(32)));

/* the 8-lane partial sums of a vector (VW = 16: its two halves added) */
static inline vf8 fold(vf a) {
#if VW == 16
  return __builtin_shufflevector(a, a, 0, 1, 2, 3, 4, 5, 6, 7) + __builtin_shufflevector(a, a, 8, 9, 10, 11, 12, 13, 14, 15);
#else
  return a;
#endif
}

static inline vf vload(const float* p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline void vstore(float* p, vf v) { memcpy(p, &v, sizeof v); }
static inline vf splat(float s) { return (vf){} + s; }
static inline vf vmax(vf a, vf b) { return a > b ? a : b; }

/* Cephes expf: x = n ln2 + r, |r| <= ln2 / 2, degree-5 polynomial; 0 below -87.3 */
static inline vf vexp(vf x) {
  vi tiny = x < splat(-87.3f);
  x = x > splat(88.3f) ? splat(88.3f) : x;
  x = x < splat(-87.3f) ? splat(-87.3f) : x;
  vf fx = x * 1.44269504088896341f + 0.5f;
  vi n = __builtin_convertvector(fx, vi);
  vf fn = __builtin_convertvector(n, vf);
  fn = fn > fx ? fn - 1.0f : fn;  /* floor */
  n = __builtin_convertvector(fn, vi);
  x = x - fn * 0.693359375f;
  x = x - fn * -2.12194440e-4f;
  vf z = x * x;
  vf y = splat(1.9875691500E-4f);
  y = y * x + 1.3981999507E-3f;
  y = y * x + 8.3334519073E-3f;
  y = y * x + 4.1665795894E-2f;
  y = y * x + 1.6666665459E-1f;
  y = y * x + 5.0000001201E-1f;
  y = y * z + x + 1.0f;
  vi bits = (n + 127) << 23;
  vf scale; memcpy(&scale, &bits, sizeof scale);
  y = y * scale;
  return tiny ? splat(0.0f) : y;
}

/* Cephes logf for positive normal x: x = m 2^e, m in [sqrt(1/2), sqrt(2)) */
static inline vf vlog(vf x) {
  vi xi; memcpy(&xi, &x, sizeof xi);
  vi e = ((xi >> 23) & 0xff) - 126;
  vi mi = (xi & 0x007fffff) | 0x3f000000;
  vf m; memcpy(&m, &mi, sizeof m);
  vi small = m < splat(0.707106781186547524f);
  e = small ? e - 1 : e;
  m = small ? m + m - 1.0f : m - 1.0f;
  vf fe = __builtin_convertvector(e, vf);
  vf z = m * m;
  vf y = splat(7.0376836292E-2f);
  y = y * m - 1.1514610310E-1f;
  y = y * m + 1.1676998740E-1f;
  y = y * m - 1.2420140846E-1f;
  y = y * m + 1.4249322787E-1f;
  y = y * m - 1.6668057665E-1f;
  y = y * m + 2.0000714765E-1f;
  y = y * m - 2.4999993993E-1f;
  y = y * m + 3.3333331174E-1f;
  y = y * m * z;
  y = y + fe * -2.12194440e-4f;
  y = y - 0.5f * z;
  return m + y + fe * 0.693359375f;
}

/* s[j] = sum of the lanes of a[j] (8 vectors -> one), by a butterfly of 7 shuffles+adds and a permute */
static inline vf8 reduce8(const vf8* a) {
  typedef int32_t m8 __attribute__((vector_size(32)));
  const m8 lo4 = {0, 1, 2, 3, 8, 9, 10, 11}, hi4 = {4, 5, 6, 7, 12, 13, 14, 15};
  const m8 lo2 = {0, 1, 8, 9, 4, 5, 12, 13}, hi2 = {2, 3, 10, 11, 6, 7, 14, 15};
  const m8 ev = {0, 8, 2, 10, 4, 12, 6, 14}, od = {1, 9, 3, 11, 5, 13, 7, 15};
  const m8 rev = {0, 4, 2, 6, 1, 5, 3, 7};
  vf8 t0 = __builtin_shuffle(a[0], a[1], lo4) + __builtin_shuffle(a[0], a[1], hi4);
  vf8 t1 = __builtin_shuffle(a[2], a[3], lo4) + __builtin_shuffle(a[2], a[3], hi4);
  vf8 t2 = __builtin_shuffle(a[4], a[5], lo4) + __builtin_shuffle(a[4], a[5], hi4);
  vf8 t3 = __builtin_shuffle(a[6], a[7], lo4) + __builtin_shuffle(a[6], a[7], hi4);
  vf8 u0 = __builtin_shuffle(t0, t1, lo2) + __builtin_shuffle(t0, t1, hi2);
  vf8 u1 = __builtin_shuffle(t2, t3, lo2) + __builtin_shuffle(t2, t3, hi2);
  vf8 v = __builtin_shuffle(u0, u1, ev) + __builtin_shuffle(u0, u1, od);
  return __builtin_shuffle(v, rev);
}

/* out[r][:] = epilogue(sum_c w[r RS + c CS] in[c][:]) for rows r0 .. r0 + RB, vectors v0 .. v0 + NB.
   MODE 0: + bias, ReLU; 1: + bias; 2: zero where gate <= 0 (the ReLU's backward) */
template <int RB, int NB, int CN, int RS, int CS, int MODE>
static inline void tile(const float* __restrict w, const float* __restrict bias, const float* __restrict in,
                        float* __restrict out, const float* __restrict gate, int v0) {
  vf acc[RB][NB];
#pragma GCC unroll 64
  for (int r = 0; r < RB; ++r)
#pragma GCC unroll 8
    for (int n = 0; n < NB; ++n) acc[r][n] = (MODE < 2 && bias) ? splat(bias[r]) : splat(0.0f);
#pragma GCC unroll 64
  for (int c = 0; c < CN; ++c) {
    vf x[NB];
#pragma GCC unroll 8
    for (int n = 0; n < NB; ++n) x[n] = vload(in + c * DP + (v0 + n) * VW);
#pragma GCC unroll 64
    for (int r = 0; r < RB; ++r) {
      vf wv = splat(w[r * RS + c * CS]);
#pragma GCC unroll 8
      for (int n = 0; n < NB; ++n) acc[r][n] += wv * x[n];
    }
  }
#pragma GCC unroll 64
  for (int r = 0; r < RB; ++r)
#pragma GCC unroll 8
    for (int n = 0; n < NB; ++n) {
      vf a = acc[r][n];
      if (MODE == 0) a = vmax(a, splat(0.0f));
      if (MODE == 2) a = vload(gate + r * DP + (v0 + n) * VW) > splat(0.0f) ? a : splat(0.0f);
      vstore(out + r * DP + (v0 + n) * VW, a);
    }
}

template <int RB, int CN, int RS, int CS, int MODE>
static inline void rows(const float* w, const float* bias, const float* in, float* out, const float* gate) {
  constexpr int NB = RB >= 24 ? 1 : (24 / RB > 4 ? 4 : 24 / RB);
  int v = 0;
  for (; v + NB <= NV; v += NB) tile<RB, NB, CN, RS, CS, MODE>(w, bias, in, out, gate, v);
  for (; v < NV; ++v) tile<RB, 1, CN, RS, CS, MODE>(w, bias, in, out, gate, v);
}

/* a layer-shaped product: R output rows, CN inputs, weight element (r, c) at w[r RS + c CS] */
template <int R, int CN, int RS, int CS, int MODE>
static inline void pass(const float* w, const float* bias, const float* in, float* out, const float* gate) {
  constexpr int RB = R <= 8 ? R : 8;  /* 8 rows x 3 vectors: 24 accumulators (tried 4-12 rows, 24-28) */
  constexpr int FULL = R / RB, REST = R % RB;
  for (int b = 0; b < FULL; ++b)
    rows<RB, CN, RS, CS, MODE>(w + b * RB * RS, bias ? bias + b * RB : bias, in, out + b * RB * DP,
                               gate ? gate + b * RB * DP : gate);
  if constexpr (REST > 0)
    rows<REST, CN, RS, CS, MODE>(w + FULL * RB * RS, bias ? bias + FULL * RB : bias, in, out + FULL * RB * DP,
                                 gate ? gate + FULL * RB * DP : gate);
}

/* g[o I + i] = sum_d delta[o][d] h[i][d] for a block of OB rows and IB <= 8 columns; with gb, also the bias
   gradient gb[o] = sum_d delta[o][d] (OB more accumulators on the same loads) */
template <int OB, int IB, int I>
static inline void wtile(const float* __restrict delta, const float* __restrict h, float* __restrict g,
                         float* __restrict gb) {
  vf acc[OB][8], bacc[OB];
#pragma GCC unroll 8
  for (int o = 0; o < OB; ++o) {
    bacc[o] = splat(0.0f);
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) acc[o][i] = splat(0.0f);
  }
  for (int v = 0; v < NV; ++v) {
    vf dv[OB], hv[IB];
#pragma GCC unroll 8
    for (int o = 0; o < OB; ++o) dv[o] = vload(delta + o * DP + v * VW);
#pragma GCC unroll 8
    for (int i = 0; i < IB; ++i) hv[i] = vload(h + i * DP + v * VW);
#pragma GCC unroll 8
    for (int o = 0; o < OB; ++o) {
      if (gb) bacc[o] += dv[o];
#pragma GCC unroll 8
      for (int i = 0; i < IB; ++i) acc[o][i] += dv[o] * hv[i];
    }
  }
#pragma GCC unroll 8
  for (int o = 0; o < OB; ++o) {
    vf8 f[8];
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) f[i] = fold(acc[o][i]);
    vf8 s = reduce8(f);
    if (IB == 8) memcpy(g + o * I, &s, sizeof s);
    else for (int i = 0; i < IB; ++i) g[o * I + i] = s[i];
  }
  if (gb) {
    vf8 f[8];
#pragma GCC unroll 8
    for (int o = 0; o < 8; ++o) f[o] = o < OB ? fold(bacc[o]) : (vf8){};
    vf8 s = reduce8(f);
    for (int o = 0; o < OB; ++o) gb[o] = s[o];
  }
}

template <int O, int I, int OB>
static inline void wrow(const float* delta, const float* h, float* g, float* gb) {
  constexpr int IFULL = I / 8, IREST = I % 8;
  for (int ib = 0; ib < IFULL; ++ib) wtile<OB, 8, I>(delta, h + ib * 8 * DP, g + ib * 8, ib == 0 ? gb : nullptr);
  if constexpr (IREST > 0)
    wtile<OB, IREST, I>(delta, h + IFULL * 8 * DP, g + IFULL * 8, IFULL == 0 ? gb : nullptr);
}

/* the weight gradient delta h^T (O x I, row-major) and, if gb, the bias gradient */
template <int O, int I>
static inline void wgrad(const float* delta, const float* h, float* g, float* gb) {
  constexpr int OB = 2, OFULL = O / OB, OREST = O % OB;
  for (int ob = 0; ob < OFULL; ++ob)
    wrow<O, I, OB>(delta + ob * OB * DP, h, g + ob * OB * I, gb ? gb + ob * OB : gb);
  if constexpr (OREST > 0)
    wrow<O, I, OREST>(delta + OFULL * OB * DP, h, g + OFULL * OB * I, gb ? gb + OFULL * OB : gb);
}

/* cross-entropy of the logits z (C x DP) against the labels (-1: padding); writes d loss_mean / d z into
   delta (C x DP) and returns the sum of the per-sample losses */
static inline float cross_entropy(const float* z, const int32_t* labels, float* delta) {
  vf total_loss = splat(0.0f);
  const float inv_n = 1.0f / (float)D;
  for (int v = 0; v < NV; ++v) {
    vi lab; memcpy(&lab, labels + v * VW, sizeof lab);
    vf zk[C], zy = splat(0.0f);
    for (int k = 0; k < C; ++k) {
      zk[k] = vload(z + k * DP + v * VW);
      zy = lab == k ? zk[k] : zy;
    }
    vf shift = splat(-__builtin_inff());
    for (int k = 0; k < C; ++k) shift = lab == k ? shift : vmax(shift, zk[k] - zy);
    vf e[C], total = splat(0.0f);
    for (int k = 0; k < C; ++k) {
      e[k] = lab == k ? splat(0.0f) : vexp(zk[k] - zy - shift);
      total += e[k];
    }
    vf lam = shift + vlog(total);
    vf abs_lam = lam < splat(0.0f) ? -lam : lam;
    vf tail = vexp(-abs_lam);
    /* one division: r = 1 / ((1 + tail) total) gives 1 / (1 + tail) and 1 / total */
    vf u = tail + 1.0f;
    vf r = splat(1.0f) / (u * total);
    vf inv_u = r * total;
    /* softplus(lam) = max(lam, 0) + log1p(tail), log1p(t) = log(u) - ((u - 1) - t) / u (exact for tiny t) */
    vf log1p_tail = u == splat(1.0f) ? tail : vlog(u) - ((u - 1.0f) - tail) * inv_u;
    vf loss = vmax(lam, splat(0.0f)) + log1p_tail;
    vf factor = (lam >= splat(0.0f) ? splat(1.0f) : tail) * r;  /* sigmoid(lam) / total */
    vf p[C], p_sum = splat(0.0f);
    for (int k = 0; k < C; ++k) { p[k] = factor * e[k]; p_sum += p[k]; }
    vi valid = lab >= 0;
    total_loss += valid ? loss : splat(0.0f);
    for (int k = 0; k < C; ++k) {
      vf d = (lab == k ? -p_sum : p[k]) * inv_n;
      vstore(delta + k * DP + v * VW, valid ? d : splat(0.0f));
    }
  }
  float s = 0.0f;
  for (int j = 0; j < VW; ++j) s += total_loss[j];
  return s;
}
"""


def _layers(spec: MLPSpec) -> list[tuple[int, int, int, int | None]]:
    """(in, out, weight offset, bias offset or None) per layer in the flat ``theta``."""
    layers, offset = [], 0
    for n_in, n_out in spec.layer_sizes():
        weight = offset
        offset += n_in * n_out
        bias = None
        if spec.bias:
            bias = offset
            offset += n_out
        layers.append((n_in, n_out, weight, bias))
    return layers


def kernel_source(spec: MLPSpec, n_samples: int, vector: int = 8) -> str:
    """The C++ of the step kernel for ``spec`` on ``n_samples`` points (every size a constant), ``vector``
    floats (8 or 16) per vector."""
    padded = -(-n_samples // vector) * vector
    layers = _layers(spec)
    widths = spec.widths
    hidden = list(widths[1:-1])
    lines = [
        f"#define VW {vector}",
        f"constexpr int D = {n_samples}, DP = {padded}, NV = DP / VW, C = {widths[-1]}, NPAR = {spec.n_params};",
        f"constexpr int HID = {max(sum(hidden), 1)}, MAXW = {max(widths)};",
        _HEADER,
        "static void chain(const float* __restrict wf, const float* __restrict xt, const int32_t* __restrict lab,",
        "                  float* __restrict grad, float* __restrict loss) {",
        "  alignas(64) static thread_local float act[HID * DP];",
        "  alignas(64) static thread_local float logits[C * DP];",
        "  alignas(64) static thread_local float da[MAXW * DP];",
        "  alignas(64) static thread_local float db[MAXW * DP];",
    ]
    inputs = ["xt"]
    offset = 0
    for n in hidden:
        inputs.append(f"(act + {offset * padded})")
        offset += n
    outputs = inputs[1:] + ["logits"]
    for index, (n_in, n_out, w, b) in enumerate(layers):
        mode = 1 if index == len(layers) - 1 else 0
        bias = "nullptr" if b is None else f"wf + {b}"
        lines.append(f"  pass<{n_out}, {n_in}, {n_in}, 1, {mode}>(wf + {w}, {bias}, {inputs[index]}, "
                     f"{outputs[index]}, nullptr);")
    lines.append("  *loss = cross_entropy(logits, lab, da);")
    delta, spare = "da", "db"
    for index in range(len(layers) - 1, -1, -1):
        n_in, n_out, w, b = layers[index]
        bias = "nullptr" if b is None else f"grad + {b}"
        lines.append(f"  wgrad<{n_out}, {n_in}>({delta}, {inputs[index]}, grad + {w}, {bias});")
        if index > 0:
            lines.append(f"  pass<{n_in}, {n_out}, 1, {n_in}, 2>(wf + {w}, nullptr, {delta}, {spare}, "
                         f"{inputs[index]});")
            delta, spare = spare, delta
    lines.append("}")
    lines.append(r"""
extern "C" void tsk_loss_grad(int64_t k, const float* theta, const float* xt, const int32_t* lab, float* loss,
                              float* grad) {
  for (int64_t c = 0; c < k; ++c) {
    float sum;
    chain(theta + c * NPAR, xt, lab, grad + c * NPAR, &sum);
    loss[c] = sum / (float)D;
  }
}

extern "C" void tsk_step(int64_t k, const double* theta, const double* start, const float* noise,
                         int64_t noise_stride, const double* neg_eta, const double* scale, const float* xt,
                         const int32_t* lab, double* out, double* loss, double* distance) {
  alignas(64) float wf[NPAR];
  alignas(64) float grad[NPAR];
  for (int64_t c = 0; c < k; ++c) {
    const double* th = theta + c * NPAR;
    for (int n = 0; n < NPAR; ++n) wf[n] = (float)th[n];
    float sum;
    chain(wf, xt, lab, grad, &sum);
    loss[c] = (double)(sum / (float)D);
    if (start) {  /* 8 partial sums: one running sum would be a chain of 883 dependent additions */
      typedef double vd __attribute__((vector_size(64)));
      const double* st = start + c * NPAR;
      vd acc = {};
      int n = 0;
      for (; n + 8 <= NPAR; n += 8) {
        vd a, b;
        memcpy(&a, th + n, sizeof a);
        memcpy(&b, st + n, sizeof b);
        acc += (a - b) * (a - b);
      }
      double d2 = 0.0;
      for (; n < NPAR; ++n) d2 += (th[n] - st[n]) * (th[n] - st[n]);
      for (int j = 0; j < 8; ++j) d2 += acc[j];
      distance[c] = __builtin_sqrt(d2);
    }
    const float* xi = noise + c * noise_stride;
    double* o = out + c * NPAR;
    const double ne = neg_eta[c], sc = scale[c];
    for (int n = 0; n < NPAR; ++n) o[n] = th[n] + (double)grad[n] * ne + (double)xi[n] * sc;
  }
}
""")
    return "\n".join(lines)


FLAGS = ["-O3", "-march=native", "-std=c++17", "-shared", "-fPIC", "-fno-math-errno", "-ffp-contract=fast"]


def _cpu_key() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("flags"):
                    return line
    except OSError:
        pass
    return platform.processor()


def supported() -> bool:
    """An x86-64 CPU with AVX2 and a C++ compiler (``$CXX``, else ``g++``)."""
    return (platform.machine() in ("x86_64", "AMD64") and "avx2" in _cpu_key()
            and shutil.which(os.environ.get("CXX", "g++")) is not None)


def _cache_dir() -> Path:
    root = os.environ.get("THERMOSCAPE_KERNEL_CACHE")
    if root:
        return Path(root)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "thermoscape" / "kernels"


def build(source: str) -> ctypes.CDLL:
    """Compile ``source`` (cached by its hash, the flags and this CPU) and load it."""
    compiler = os.environ.get("CXX", "g++")
    key = hashlib.sha256("\n".join([source, compiler, *FLAGS, _cpu_key()]).encode()).hexdigest()[:24]
    directory = _cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    library = directory / f"mlp_step_{key}.so"
    if not library.exists():
        with tempfile.TemporaryDirectory(dir=directory) as scratch:
            src = Path(scratch) / "kernel.cpp"
            src.write_text(source)
            target = Path(scratch) / "kernel.so"
            subprocess.run([compiler, *FLAGS, str(src), "-o", str(target)], check=True, capture_output=True,
                           text=True)
            os.replace(target, library)  # atomic: parallel jobs may build the same kernel
    lib = ctypes.CDLL(str(library))
    p = ctypes.c_void_p
    lib.tsk_loss_grad.argtypes = [ctypes.c_int64, p, p, p, p, p]
    lib.tsk_loss_grad.restype = None
    lib.tsk_step.argtypes = [ctypes.c_int64, p, p, p, ctypes.c_int64, p, p, p, p, p, p, p]
    lib.tsk_step.restype = None
    return lib


class MLPKernel:
    """The compiled kernel for one network and data set (float32 arithmetic, CPU)."""

    def __init__(self, spec: MLPSpec, x: Tensor, labels: Tensor):
        n_samples = x.shape[0]
        vector = _vector_width()
        padded = -(-n_samples // vector) * vector
        self.spec, self.n_samples = spec, n_samples
        self.lib = build(kernel_source(spec, n_samples, vector))
        self.xt = torch.zeros(x.shape[1], padded, dtype=torch.float32)
        self.xt[:, :n_samples] = x.detach().to("cpu", torch.float32).T
        self.labels = torch.full((padded,), -1, dtype=torch.int32)
        self.labels[:n_samples] = labels.to("cpu", torch.int32)

    def loss_and_grad(self, theta: Tensor) -> tuple[Tensor, Tensor]:
        """Loss ``(K,)`` and gradient ``(K, N)`` of float32 parameters ``(K, N)``."""
        theta = theta.detach().to(torch.float32).contiguous()
        loss = torch.empty(theta.shape[0], dtype=torch.float32)
        grad = torch.empty_like(theta)
        self.lib.tsk_loss_grad(theta.shape[0], theta.data_ptr(), self.xt.data_ptr(), self.labels.data_ptr(),
                               loss.data_ptr(), grad.data_ptr())
        return loss, grad

    def step(self, theta: Tensor, theta_start: Tensor | None, noise: Tensor, neg_eta: Tensor,
             noise_scale: Tensor) -> tuple[Tensor, Tensor | None, Tensor]:
        """``langevin.euler_maruyama_step`` with ``drift=True``: float64 state, float32 gradient and noise."""
        k, n = theta.shape
        if (theta.dtype != torch.float64 or noise.dtype != torch.float32 or not theta.is_contiguous()
                or noise.stride(1) != 1 or n != self.spec.n_params or noise.shape != theta.shape):
            raise ValueError("the MLP kernel takes a contiguous float64 theta and float32 noise rows")
        neg_eta, noise_scale = neg_eta.contiguous(), noise_scale.contiguous()
        out = torch.empty_like(theta)
        loss = torch.empty(k, dtype=torch.float64)
        distance = None
        start = 0
        if theta_start is not None:
            theta_start = theta_start.contiguous()
            distance = torch.empty(k, dtype=torch.float64)
            start = theta_start.data_ptr()
        self.lib.tsk_step(k, theta.data_ptr(), start, noise.data_ptr(), noise.stride(0), neg_eta.data_ptr(),
                          noise_scale.data_ptr(), self.xt.data_ptr(), self.labels.data_ptr(), out.data_ptr(),
                          loss.data_ptr(), 0 if distance is None else distance.data_ptr())
        return loss, distance, out


def fused_mlp_step(landscape, example: Tensor):
    """The kernel's step for a ``MixedPrecision`` MLP landscape on the CPU (float64 state, float32 gradient
    and noise), or ``None`` where it does not apply or cannot be built (the caller keeps its own step)."""
    from thermoscape.nets.losses import MixedPrecision, MLPLandscape

    fast = getattr(landscape, "fast", None)
    if (not isinstance(landscape, MixedPrecision) or not isinstance(fast, MLPLandscape)
            or landscape.compute_dtype != torch.float32 or landscape.noise_dtype != torch.float32
            or example.dtype != torch.float64 or example.device.type != "cpu" or fast.x.device.type != "cpu"
            or getattr(landscape, "noise_amplitude", None) is not None
            or os.environ.get("THERMOSCAPE_NO_KERNEL") or not supported()):
        return None
    if max(fast.spec.widths) > MAX_WIDTH or fast.x.shape[0] > MAX_SAMPLES:
        return None  # unrolled code and per-thread buffers are sized for small networks on small data sets
    try:
        return MLPKernel(fast.spec, fast.x, fast.labels).step
    except (OSError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", "") or error
        warnings.warn(f"the MLP step kernel could not be built ({detail}); using torch.compile", stacklevel=2)
        return None
