// Timings of the CUDA kernels at Llama 4 Scout's shapes (hidden 5120, expert FFN 8192, 16
// experts top-1 plus a shared expert, 40/8 heads of 128), tokens 1..2048. Runs only when the
// environment variable SCOUT_CUDA_BENCH names an output folder (scripts/gpu-check.sh sets
// it); otherwise, and without a GPU, it skips, so CI never times anything.
//
// Method (/work/.library/device/METHOD.md): the bytes each kernel must move and the FLOPs it
// must do are counted first; the two ceilings are measured on the card (a device-to-device
// copy, a cuBLAS BF16 GEMM on random data); kernels run on random data, warmed up, timed with
// CUDA events, median of repeats; weight sets larger than L2 are rotated so that repeats read
// HBM, not the cache. Writes bench.tsv (all rows) and prints a short table.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "cuda/cuda_test_util.h"
#include "engine/kernels/cuda/attention_cuda.h"
#include "engine/kernels/cuda/matmul_cuda.h"
#include "engine/kernels/cuda/moe_cuda.h"
#include "engine/kernels/cuda/norm_rope_cuda.h"
#include "engine/quant/blocks.h"
#include "engine/util/half.h"

namespace scout::cuda {
namespace {

using quant::GgmlType;
using test::cuda_ok;
using test::DeviceBuffer;

constexpr int64_t kD = 5120, kF = 8192, kE = 16, kK = 1, kHeads = 40, kKvHeads = 8, kHd = 128;

uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Random blocks of `type` with small finite scales (random bytes everywhere else): real
// weights' byte statistics without the cost of quantizing gigabytes.
std::vector<uint8_t> random_weights(GgmlType type, int64_t rows, int64_t cols, uint64_t seed) {
  const uint64_t rb = *quant::row_bytes(type, cols);
  std::vector<uint8_t> b(size_t(rb * uint64_t(rows)));
  uint64_t s = seed;
  for (size_t i = 0; i + 8 <= b.size(); i += 8) {
    const uint64_t r = splitmix(s);
    std::memcpy(b.data() + i, &r, 8);
  }
  const auto& tr = quant::traits(type);
  auto put = [&](size_t off, float v) {
    const uint16_t h = type == GgmlType::BF16 ? fp32_to_bf16(v) : fp32_to_fp16(v);
    std::memcpy(b.data() + off, &h, 2);
  };
  const size_t nb = b.size() / size_t(tr.type_size);
  for (size_t k = 0; k < nb; ++k) {
    const size_t base = k * size_t(tr.type_size);
    const float v = float(int64_t(splitmix(s) % 2001) - 1000) * 1e-6f;
    switch (type) {
      case GgmlType::Q4_K: put(base, v); put(base + 2, v * 0.5f); break;
      case GgmlType::Q6_K: put(base + 208, v); break;
      case GgmlType::Q8_0: put(base, v); break;
      case GgmlType::F16: case GgmlType::BF16: put(base, v * 100); break;
      case GgmlType::F32: { const float f = v * 100; std::memcpy(b.data() + base, &f, 4); break; }
      default: break;
    }
  }
  return b;
}

struct Row {
  std::string kernel, shape;
  int64_t tokens = 0;
  double us = 0, bytes = 0, flops = 0;
  std::string note;
};

class Bench {
 public:
  explicit Bench(std::string dir) : dir_(std::move(dir)) {}

  // Median over `reps` samples of `per` back-to-back calls each, in microseconds per call.
  double time_us(const std::function<void()>& f, int reps = 20, int per = 1, int warmup = 3) {
    for (int i = 0; i < warmup; ++i) f();
    cuda_ok(cudaDeviceSynchronize(), "warmup");
    cudaEvent_t a, b;
    cuda_ok(cudaEventCreate(&a), "event");
    cuda_ok(cudaEventCreate(&b), "event");
    std::vector<float> ms;
    for (int r = 0; r < reps; ++r) {
      cuda_ok(cudaEventRecord(a), "record");
      for (int i = 0; i < per; ++i) f();
      cuda_ok(cudaEventRecord(b), "record");
      cuda_ok(cudaEventSynchronize(b), "sync");
      float t = 0;
      cuda_ok(cudaEventElapsedTime(&t, a, b), "elapsed");
      ms.push_back(t);
    }
    cuda_ok(cudaGetLastError(), "kernels");
    cudaEventDestroy(a);
    cudaEventDestroy(b);
    std::sort(ms.begin(), ms.end());
    return 1000.0 * ms[ms.size() / 2] / per;
  }

  void add(Row r) {
    std::printf("%-34s %-28s %5lld %10.1f us %8.1f GB/s %7.1f TFLOP/s %s\n", r.kernel.c_str(), r.shape.c_str(),
                (long long)r.tokens, r.us, r.bytes / r.us / 1e3, r.flops / r.us / 1e6, r.note.c_str());
    std::fflush(stdout);
    rows_.push_back(std::move(r));
  }

  double hbm_gbs = 0, mma_tflops = 0;

  void write() const {
    std::ofstream f(dir_ + "/bench.tsv");
    f << "kernel\tshape\ttokens\ttime_us\tbytes\tflops\tGB_s\tTFLOP_s\tfrac_hbm\tfrac_mma\tnote\n";
    for (const auto& r : rows_) {
      const double gbs = r.bytes / r.us / 1e3, tf = r.flops / r.us / 1e6;
      f << r.kernel << '\t' << r.shape << '\t' << r.tokens << '\t' << r.us << '\t' << r.bytes << '\t' << r.flops << '\t'
        << gbs << '\t' << tf << '\t' << (hbm_gbs > 0 ? gbs / hbm_gbs : 0) << '\t' << (mma_tflops > 0 ? tf / mma_tflops : 0)
        << '\t' << r.note << '\n';
    }
  }

 private:
  std::string dir_;
  std::vector<Row> rows_;
};

std::string shape(int64_t a, int64_t b) { return std::to_string(a) + "x" + std::to_string(b); }

TEST(CudaBench, ScoutShapes) {
  const char* dir = std::getenv("SCOUT_CUDA_BENCH");
  if (!dir || !*dir) GTEST_SKIP() << "set SCOUT_CUDA_BENCH=<folder> to time the kernels";
  SCOUT_REQUIRE_GPU();
  Bench bench(dir);
  cudaDeviceProp prop{};
  cuda_ok(cudaGetDeviceProperties(&prop, 0), "properties");
  std::printf("device: %s, %d SMs, L2 %d MB\n", prop.name, prop.multiProcessorCount, prop.l2CacheSize >> 20);

  // ---- ceilings: HBM copy and cuBLAS BF16 on random data
  {
    const size_t n = size_t(1) << 30;  // 1 GiB each way
    DeviceBuffer<uint8_t> a(n), b(n);
    cuda_ok(cudaMemset(a.get(), 1, n), "memset");
    const double us = bench.time_us([&] { cuda_ok(cudaMemcpyAsync(b.get(), a.get(), n, cudaMemcpyDeviceToDevice), "copy"); }, 10);
    bench.hbm_gbs = 2.0 * double(n) / us / 1e3;
    bench.add({"ceiling: d2d copy", "1GiB", 0, us, 2.0 * double(n), 0, "read+write"});
  }
  Cublas cublas;
  {
    const int64_t n = 8192;
    const auto w = random_weights(GgmlType::BF16, n, n, 1), x = random_weights(GgmlType::BF16, n, n, 2);
    DeviceBuffer<uint8_t> dw(w), dx(x);
    DeviceBuffer<float> y(size_t(n * n));
    const double us = bench.time_us([&] {
      cublas_gemm(cublas, GgmlType::BF16, reinterpret_cast<uint16_t*>(dw.get()), reinterpret_cast<uint16_t*>(dx.get()), n, n, n,
                  y.get(), nullptr);
    }, 10);
    bench.mma_tflops = 2.0 * double(n * n) * double(n) / us / 1e6;
    bench.add({"ceiling: cublas bf16", "8192^3", n, us, 0, 2.0 * double(n * n) * double(n), "random data"});
  }

  // ---- GEMV: one expert's gate [8192 x 5120], weight copies rotated past L2
  for (GgmlType t : {GgmlType::Q4_K, GgmlType::Q6_K, GgmlType::Q8_0, GgmlType::BF16}) {
    const auto host = random_weights(t, kF, kD, 3);
    const int copies = std::max<int>(2, int(4 * int64_t(prop.l2CacheSize) / int64_t(host.size())) + 1);
    std::vector<DeviceBuffer<uint8_t>> w;
    for (int i = 0; i < copies; ++i) w.emplace_back(host);
    for (int64_t n : {1, 2, 4, 8}) {
      const auto x = test::randn(size_t(n * kD), 4);
      DeviceBuffer<float> dx(x), dy(size_t(n * kF));
      int next = 0;
      const double us = bench.time_us([&] {
        matmul(make_device_matrix(t, w[size_t(next)].get(), kD, kF), dx.get(), n, dy.get(), nullptr, MatmulKernel::Gemv);
        next = (next + 1) % copies;
      }, 30, copies);
      const double bytes = double(host.size()) + 4.0 * double(n) * double(kD + kF);
      bench.add({std::string("gemv ") + std::string(quant::traits(t).name), shape(kF, kD), n, us, bytes,
                 2.0 * double(n) * kF * kD, ""});
    }
  }

  // ---- GEMM (prefill) vs cuBLAS on the same shape: [n x 5120] . [8192 x 5120]^T
  {
    const auto q4 = random_weights(GgmlType::Q4_K, kF, kD, 5), f16 = random_weights(GgmlType::F16, kF, kD, 6);
    DeviceBuffer<uint8_t> dq4(q4), df16(f16);
    DeviceBuffer<uint16_t> deq(size_t(kF * kD));
    const auto mq4 = make_device_matrix(GgmlType::Q4_K, dq4.get(), kD, kF);
    const auto mf16 = make_device_matrix(GgmlType::F16, df16.get(), kD, kF);
    for (int64_t n : {64, 256, 512, 2048}) {
      const auto x = test::randn(size_t(n * kD), 7);
      DeviceBuffer<float> dx(x), dy(size_t(n * kF));
      DeviceBuffer<uint16_t> xw(size_t(n * kD));
      const double flops = 2.0 * double(n) * kF * kD;
      bench.add({"gemm q4_K (wmma)", shape(kF, kD), n,
                 bench.time_us([&] { matmul(mq4, dx.get(), n, dy.get(), nullptr, MatmulKernel::Gemm); }), double(q4.size()),
                 flops, ""});
      bench.add({"gemm f16 (wmma)", shape(kF, kD), n,
                 bench.time_us([&] { matmul(mf16, dx.get(), n, dy.get(), nullptr, MatmulKernel::Gemm); }), double(f16.size()),
                 flops, ""});
      bench.add({"cublas f16 (x->f16 incl.)", shape(kF, kD), n,
                 bench.time_us([&] { cublas_matmul(cublas, mf16, dx.get(), n, xw.get(), dy.get(), nullptr); }),
                 double(f16.size()), flops, "baseline"});
      bench.add({"dequant q4_K->f16 + cublas", shape(kF, kD), n, bench.time_us([&] {
                   dequantize_to_f16(mq4, deq.get(), nullptr);
                   convert_to_f16(dx.get(), xw.get(), n * kD, nullptr);
                   cublas_gemm(cublas, GgmlType::F16, deq.get(), xw.get(), n, kF, kD, dy.get(), nullptr);
                 }),
                 double(q4.size()) + 4.0 * kF * kD, flops, ""});
    }
  }

  // ---- fused MoE: decode bandwidth and prefill TFLOP/s vs cuBLAS on the same shapes
  for (const bool q6_down : {false, true}) {
    const GgmlType down_t = q6_down ? GgmlType::Q6_K : GgmlType::Q4_K;
    const std::string name = q6_down ? "moe q4_K, down q6_K" : "moe q4_K";
    const auto gate = random_weights(GgmlType::Q4_K, kE * kF, kD, 8), up = random_weights(GgmlType::Q4_K, kE * kF, kD, 9);
    const auto down = random_weights(down_t, kE * kD, kF, 10);
    const auto sg = random_weights(GgmlType::Q4_K, kF, kD, 11), su = random_weights(GgmlType::Q4_K, kF, kD, 12);
    const auto sd = random_weights(down_t, kD, kF, 13);
    const auto router = test::randn(size_t(kE * kD), 14, 0.05f);
    std::vector<uint8_t> router_bytes(router.size() * 4);
    std::memcpy(router_bytes.data(), router.data(), router_bytes.size());
    // Two layers' weights alternate, so each call reads HBM.
    struct Layer {
      std::vector<DeviceBuffer<uint8_t>> buf;
      MoeWeights w;
    };
    std::vector<Layer> layers(2);
    for (auto& l : layers) {
      for (const std::vector<uint8_t>* h : {static_cast<const std::vector<uint8_t>*>(&router_bytes), &gate, &up, &down, &sg, &su, &sd}) l.buf.emplace_back(*h);
      l.w.router = make_device_matrix(GgmlType::F32, l.buf[0].get(), kD, kE);
      l.w.gate_exps = make_device_matrix(GgmlType::Q4_K, l.buf[1].get(), kD, kE * kF);
      l.w.up_exps = make_device_matrix(GgmlType::Q4_K, l.buf[2].get(), kD, kE * kF);
      l.w.down_exps = make_device_matrix(down_t, l.buf[3].get(), kF, kE * kD);
      l.w.gate_shexp = make_device_matrix(GgmlType::Q4_K, l.buf[4].get(), kD, kF);
      l.w.up_shexp = make_device_matrix(GgmlType::Q4_K, l.buf[5].get(), kD, kF);
      l.w.down_shexp = make_device_matrix(down_t, l.buf[6].get(), kF, kD);
    }
    const MoeShape s{kD, kF, kE, kK};
    MoeWorkspace ws(s, 2048);
    const double expert_bytes = double(gate.size() + up.size() + down.size()) / kE;
    const double shared_bytes = double(sg.size() + su.size() + sd.size());
    for (int64_t n : {1, 2, 4, 8}) {
      const auto h = test::randn(size_t(n * kD), 15 + uint32_t(n));
      DeviceBuffer<float> dh(h), out(size_t(n * kD));
      int next = 0;
      const double us = bench.time_us([&] {
        moe_forward(layers[size_t(next)].w, s, dh.get(), n, out.get(), false, ws, nullptr);
        next ^= 1;
      }, 30, 2);
      // Bytes: the experts the tokens actually chose, each read once, plus the shared expert.
      std::vector<uint8_t> chosen(size_t(n * kK));
      cuda_ok(cudaMemcpy(chosen.data(), ws.entry_expert, chosen.size(), cudaMemcpyDeviceToHost), "copy");
      const std::set<uint8_t> unique(chosen.begin(), chosen.end());
      const double bytes = double(unique.size()) * expert_bytes + shared_bytes + double(router_bytes.size()) +
                           4.0 * double(n) * kD * 2;
      bench.add({name + " decode", "E16 k1 +shared", n, us, bytes, 2.0 * double(n) * 3.0 * kD * kF * 2,
                 std::to_string(unique.size()) + " experts"});
    }
    for (int64_t n : {64, 256, 512, 1024, 2048}) {
      const auto h = test::randn(size_t(n * kD), 16);
      DeviceBuffer<float> dh(h), out(size_t(n * kD));
      const double flops = 2.0 * double(n) * 3.0 * kD * kF * double(kK + 1) + 2.0 * double(n) * kD * kE;
      const double us = bench.time_us([&] { moe_forward(layers[0].w, s, dh.get(), n, out.get(), false, ws, nullptr); }, 10);
      bench.add({name + " prefill", "E16 k1 +shared", n, us, 0, flops, ""});
    }
  }
  {
    // cuBLAS on the same shapes: per token, (k + 1) experts' gate, up [n x 5120 x 8192] and
    // down [n x 8192 x 5120] in F16, as if every token's experts were one dense matrix.
    const auto wg = random_weights(GgmlType::F16, kF, kD, 17), wd = random_weights(GgmlType::F16, kD, kF, 18);
    DeviceBuffer<uint8_t> dwg(wg), dwd(wd);
    for (int64_t n : {64, 256, 512, 1024, 2048}) {
      const auto x = random_weights(GgmlType::F16, n, kF, 19);
      DeviceBuffer<uint8_t> dx(x);
      DeviceBuffer<float> y(size_t(n * kF));
      const auto* g16 = reinterpret_cast<const uint16_t*>(dwg.get());
      const auto* d16 = reinterpret_cast<const uint16_t*>(dwd.get());
      const auto* x16 = reinterpret_cast<const uint16_t*>(dx.get());
      const double us = bench.time_us([&] {
        for (int64_t e = 0; e < kK + 1; ++e) {
          cublas_gemm(cublas, GgmlType::F16, g16, x16, n, kF, kD, y.get(), nullptr);
          cublas_gemm(cublas, GgmlType::F16, g16, x16, n, kF, kD, y.get(), nullptr);
          cublas_gemm(cublas, GgmlType::F16, d16, x16, n, kD, kF, y.get(), nullptr);
        }
      }, 10);
      bench.add({"cublas f16, moe-equivalent", "3 GEMMs x (k+1)", n, us, 0, 2.0 * double(n) * 3.0 * kD * kF * double(kK + 1),
                 "baseline"});
    }
  }

  // ---- attention: prefill of 2048 (causal), decode at several cache lengths
  {
    const int64_t kv_dim = kKvHeads * kHd, q_dim = kHeads * kHd, max_kv = 32768;
    std::vector<uint16_t> kv(size_t(max_kv * kv_dim));
    uint64_t sd = 20;
    for (auto& v : kv) v = fp32_to_fp16(float(int64_t(splitmix(sd) % 2001) - 1000) * 1e-3f);
    DeviceBuffer<uint16_t> k(kv), v(kv);
    AttnShape sh;
    sh.n_head = int32_t(kHeads);
    sh.n_head_kv = int32_t(kKvHeads);
    sh.head_dim = int32_t(kHd);
    sh.scale = 1.0f / std::sqrt(float(kHd));
    for (int64_t chunk : {int64_t(0), int64_t(8192)}) {
      sh.chunk = chunk;
      for (int64_t n : {512, 2048}) {
        const auto q = test::randn(size_t(n * q_dim), 21);
        DeviceBuffer<float> dq(q), out(q.size());
        DeviceBuffer<AttnSeq> seqs(std::vector<AttnSeq>{{k.get(), v.get(), 0, int32_t(n), 0, 0}});
        const double flops = 4.0 * kHd * kHeads * double(n) * double(n + 1) / 2.0;
        bench.add({"attn prefill", "40/8x128 chunk " + std::to_string(chunk), n,
                   bench.time_us([&] { attention_prefill(sh, seqs.get(), 1, int32_t(n), dq.get(), out.get(), nullptr); }, 10),
                   0, flops, ""});
      }
      for (int64_t len : {1024, 8192, 32768}) {
        const auto q = test::randn(size_t(q_dim), 22);
        DeviceBuffer<float> dq(q), out(q.size());
        DeviceBuffer<AttnSeq> seqs(std::vector<AttnSeq>{{k.get(), v.get(), 0, 1, int32_t(len - 1), 0}});
        const int32_t splits = attention_decode_splits(len);
        DeviceBuffer<float> work(size_t(attention_decode_workspace_floats(sh, 1, splits)));
        const int64_t keys = chunk ? std::min(len, len - (len - 1) / chunk * chunk) : len;
        const double bytes = 2.0 * 2.0 * double(keys) * kv_dim;
        bench.add({"attn decode", "40/8x128 chunk " + std::to_string(chunk) + " kv " + std::to_string(len), 1,
                   bench.time_us([&] {
                     attention_decode(sh, seqs.get(), 1, 1, splits, dq.get(), work.get(), out.get(), nullptr);
                   }, 30, 10),
                   bytes, 4.0 * kHd * kHeads * double(keys), std::to_string(splits) + " splits"});
      }
    }
    // RMSNorm of the residual and the fused RoPE/QK-norm/KV store at 2048 tokens.
    const int64_t n = 2048;
    const auto x = test::randn(size_t(n * kD), 23), w = test::randn(size_t(kD), 24);
    DeviceBuffer<float> dx(x), dw(w), dy(x.size());
    bench.add({"rms_norm", "5120", n, bench.time_us([&] { rms_norm(dx.get(), dw.get(), dy.get(), n, kD, 1e-5f, nullptr); }),
               2.0 * 4.0 * double(n) * kD + 4.0 * kD, 0, ""});
    const auto q = test::randn(size_t(n * q_dim), 25), kk = test::randn(size_t(n * kv_dim), 26);
    DeviceBuffer<float> dq(q), dk(kk), dv(kk);
    DeviceBuffer<AttnSeq> seqs(std::vector<AttnSeq>{{k.get(), v.get(), 0, int32_t(n), 0, 0}});
    QkParams p;
    p.n_head = int32_t(kHeads);
    p.n_head_kv = int32_t(kKvHeads);
    p.head_dim = int32_t(kHd);
    p.n_rot = int32_t(kHd);
    p.theta_scale = rope_theta_scale(500000.0f, kHd);
    p.qk_norm = true;
    bench.add({"qk rope+norm+kv store", "40/8x128", n,
               bench.time_us([&] { qk_rope_norm_store(p, seqs.get(), 1, int32_t(n), dq.get(), dk.get(), dv.get(), nullptr); }),
               4.0 * double(n) * (2.0 * q_dim + 3.0 * kv_dim) + 2.0 * 2.0 * double(n) * kv_dim, 0, ""});
  }
  bench.write();
  std::printf("ceilings: HBM %.0f GB/s (copy), %.0f TFLOP/s (cuBLAS bf16)\n", bench.hbm_gbs, bench.mma_tflops);
}

}  // namespace
}  // namespace scout::cuda
