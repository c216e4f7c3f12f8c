// Proves that binding, initialization, inference and full training steps allocate nothing: every
// heap entry point of the process (malloc, calloc, realloc, aligned allocation, every operator
// new) is replaced by a counting trap while the core runs. A positive control shows the trap
// catches a real allocation, so the test can fail.
//
// Host-only (glibc's __libc_* entry points) and built without sanitizers, which replace the heap
// themselves. On MCU targets the link itself proves it: see the target build.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "edgelstm/edgelstm.h"

extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* pointer, std::size_t size);
void* __libc_memalign(std::size_t alignment, std::size_t size);
void __libc_free(void* pointer);
}

namespace {
bool g_armed = false;
int g_allocations = 0;
void note() {
  if (g_armed) ++g_allocations;
}
}  // namespace

extern "C" {
void* malloc(std::size_t size) {
  note();
  return __libc_malloc(size);
}
void* calloc(std::size_t count, std::size_t size) {
  note();
  return __libc_calloc(count, size);
}
void* realloc(void* pointer, std::size_t size) {
  note();
  return __libc_realloc(pointer, size);
}
void* aligned_alloc(std::size_t alignment, std::size_t size) {
  note();
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
  note();
  *out = __libc_memalign(alignment, size);
  return *out != nullptr ? 0 : 12;
}
void free(void* pointer) { __libc_free(pointer); }
}

void* operator new(std::size_t size) {
  note();
  void* p = __libc_malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  note();
  return __libc_malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void* operator new(std::size_t size, std::align_val_t alignment) {
  note();
  void* p = __libc_memalign(static_cast<std::size_t>(alignment), size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new[](std::size_t size, std::align_val_t alignment) { return operator new(size, alignment); }
void operator delete(void* p) noexcept { __libc_free(p); }
void operator delete[](void* p) noexcept { __libc_free(p); }
void operator delete(void* p, std::size_t) noexcept { __libc_free(p); }
void operator delete[](void* p, std::size_t) noexcept { __libc_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { __libc_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { __libc_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { __libc_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { __libc_free(p); }

namespace {

alignas(16) std::uint8_t g_arena[800 * 1024];

int check(const char* what, bool ok) {
  std::printf("%s: %s\n", ok ? "ok  " : "FAIL", what);
  return ok ? 0 : 1;
}

// Runs `body` with the trap armed and returns the number of allocations it made.
template <typename Body>
int allocations_during(Body body) {
  g_allocations = 0;
  g_armed = true;
  body();
  g_armed = false;
  return g_allocations;
}

}  // namespace

int main() {
  int failures = 0;
  // Positive control: the trap sees operator new and malloc.
  const int control = allocations_during([] {
    delete new volatile int(3);
    void* volatile p = std::malloc(16);
    std::free(p);
  });
  failures += check("the trap counts operator new and malloc (control)", control == 2);

  const edgelstm::OptimizerKind optimizers[] = {edgelstm::OptimizerKind::kSgd, edgelstm::OptimizerKind::kMomentum,
                                                edgelstm::OptimizerKind::kAdam};
  for (edgelstm::OptimizerKind optimizer : optimizers) {
    const int count = allocations_during([optimizer] {
      constexpr auto kSpec = edgelstm::make_spec(1, 100, 1, 1, 6);
      edgelstm::Network net;
      edgelstm::TrainConfig config;
      config.optimizer = optimizer;
      config.clip_norm = 1.0f;
      config.weight_decay = 1e-4f;
      if (net.bind_training(kSpec, config, g_arena) != edgelstm::Status::kOk) std::abort();
      if (net.initialize(1) != edgelstm::Status::kOk) std::abort();
      float x[6] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}, target[1] = {0.7f}, y[1];
      for (int k = 0; k < 3; ++k) {
        if (net.train_step(x, target, edgelstm::WindowStart::kCarryState).status != edgelstm::Status::kOk) std::abort();
      }
      if (net.step(edgelstm::Span<const float>(x, 1), y) != edgelstm::Status::kOk) std::abort();
      if (net.forward(edgelstm::Span<const float>(x, 6), y) != edgelstm::Status::kOk) std::abort();
    });
    failures += check(optimizer == edgelstm::OptimizerKind::kAdam       ? "bind, init, Adam training, inference: 0 allocations"
                      : optimizer == edgelstm::OptimizerKind::kMomentum ? "bind, init, momentum training, inference: 0 allocations"
                                                                        : "bind, init, SGD training, inference: 0 allocations",
                      count == 0);
  }
  const int classify = allocations_during([] {
    constexpr auto kSpec = edgelstm::make_spec(3, 16, 2, 5, 8, edgelstm::Task::kClassification, edgelstm::OutputMode::kEveryStep);
    edgelstm::Network net;
    edgelstm::TrainConfig config;
    config.loss = edgelstm::LossKind::kCrossEntropy;
    if (net.bind_training(kSpec, config, g_arena) != edgelstm::Status::kOk) std::abort();
    if (net.initialize(2) != edgelstm::Status::kOk) std::abort();
    float x[24] = {};
    std::uint16_t labels[8] = {0, 1, 2, 3, 4, 0, 1, 2};
    if (net.train_step(x, labels, edgelstm::WindowStart::kZeroState).status != edgelstm::Status::kOk) std::abort();
  });
  failures += check("stacked classification training: 0 allocations", classify == 0);
  const int quantization_aware = allocations_during([] {
    constexpr auto kSpec = edgelstm::make_spec(1, 100, 1, 1, 6);
    static float master[edgelstm::parameter_count(kSpec)];
    edgelstm::Network net;
    edgelstm::TrainConfig config;
    config.optimizer = edgelstm::OptimizerKind::kAdam;
    if (net.bind_training(kSpec, config, g_arena) != edgelstm::Status::kOk) std::abort();
    if (net.initialize(3) != edgelstm::Status::kOk) std::abort();
    float x[6] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}, target[1] = {0.7f};
    const edgelstm::FakeQuantization fq{edgelstm::WeightFormat::kInt4, edgelstm::ScaleGranularity::kRow};
    if (edgelstm::train_step_quantization_aware(net, edgelstm::Span<const float>(x, 6), edgelstm::Span<const float>(target, 1),
                                                edgelstm::WindowStart::kZeroState, fq, edgelstm::Span<float>(master, parameter_count(kSpec)))
            .status != edgelstm::Status::kOk) {
      std::abort();
    }
  });
  failures += check("quantization-aware training step (int4 per row, Adam): 0 allocations", quantization_aware == 0);
  const int packed = allocations_during([] {
    constexpr auto kSpec = edgelstm::make_spec(1, 100, 1, 1, 6);
    alignas(edgelstm::kPackedAlignment) static std::uint8_t packed_arena[edgelstm::packed_inference_bytes(kSpec)];
    edgelstm::Network net;
    if (net.bind_inference(kSpec, g_arena) != edgelstm::Status::kOk) std::abort();
    if (net.initialize(4) != edgelstm::Status::kOk) std::abort();
    edgelstm::PackedNetwork fast;
    if (fast.bind(net, packed_arena) != edgelstm::Status::kOk) std::abort();
    float x[6] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}, y[1];
    if (fast.step(edgelstm::Span<const float>(x, 1), y) != edgelstm::Status::kOk) std::abort();
    if (fast.forward(edgelstm::Span<const float>(x, 6), y) != edgelstm::Status::kOk) std::abort();
    if (fast.load_parameters(net.parameters()) != edgelstm::Status::kOk) std::abort();
  });
  failures += check("packed inference: bind, step, window, repack: 0 allocations", packed == 0);
  const int distributed = allocations_during([] {
    // A network split over two nodes, both in this program: binding, greetings, a step, an Adam
    // training window with its commit.
    constexpr auto kSpec = edgelstm::make_spec(3, 32, 2, 1, 6);
    constexpr auto kSplit = edgelstm::make_hidden_split(kSpec, 2);
    using Session = edgelstm::NodeSession<edgelstm::PartitionNode>;
    static edgelstm::PartitionNode nodes[2];
    static Session sessions[2];
    struct Frame {
      std::size_t to;
      std::size_t size;
      std::uint8_t bytes[edgelstm::kMaxFrameBytes];
    };
    static Frame queue[256];
    static std::size_t queued = 0;
    edgelstm::TrainConfig config;
    config.optimizer = edgelstm::OptimizerKind::kAdam;
    edgelstm::Network net;
    if (net.bind_inference(kSpec, g_arena) != edgelstm::Status::kOk || net.initialize(5) != edgelstm::Status::kOk) std::abort();
    std::uint8_t* memory = g_arena + 256 * 1024;
    for (std::size_t k = 0; k < 2; ++k) {
      const std::size_t compute = edgelstm::node_compute_bytes(kSpec, kSplit, k, edgelstm::Purpose::kTraining, config.optimizer);
      const std::size_t links = edgelstm::session_bytes(kSpec, kSplit, k, true);
      if (nodes[k].bind_training(kSpec, kSplit, k, config, edgelstm::Span<std::uint8_t>(memory, compute)) != edgelstm::Status::kOk ||
          nodes[k].load_parameters(net.parameters()) != edgelstm::Status::kOk) {
        std::abort();
      }
      memory += (compute + 15) / 16 * 16;
      const auto output = [](void*, std::size_t peer, edgelstm::Span<const std::uint8_t> frame) {
        queue[queued].to = peer;
        queue[queued].size = frame.size();
        std::memcpy(queue[queued++].bytes, frame.data(), frame.size());
      };
      if (sessions[k].bind(&nodes[k], kSplit, edgelstm::SessionConfig{}, true, edgelstm::Span<std::uint8_t>(memory, links), output,
                           nullptr) != edgelstm::Status::kOk) {
        std::abort();
      }
      memory += (links + 15) / 16 * 16;
    }
    int done = 0;
    std::uint32_t now = 0;
    // Polls both nodes and delivers what they sent, until `finished` or the clock runs out.
    const auto run = [&](auto finished) {
      for (; !finished() && now < 100000; ++now) {
        for (std::size_t k = 0; k < 2; ++k) {
          for (auto e = sessions[k].poll(now); e.kind != edgelstm::SessionEventKind::kNone; e = sessions[k].poll(now)) {
            done += e.kind == edgelstm::SessionEventKind::kStepDone || e.kind == edgelstm::SessionEventKind::kWindowDone;
          }
        }
        static Frame delivering[256];
        const std::size_t n = queued;
        std::memcpy(delivering, queue, n * sizeof(Frame));
        queued = 0;
        for (std::size_t f = 0; f < n; ++f) {
          (void)sessions[delivering[f].to].receive(edgelstm::Span<const std::uint8_t>(delivering[f].bytes, delivering[f].size), now);
        }
      }
    };
    run([&] { return sessions[0].ready(); });
    float x[18] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}, target[1] = {0.7f};
    if (sessions[0].submit_step(edgelstm::Span<const float>(x, 3)) != edgelstm::Status::kOk) std::abort();
    run([&] { return done == 2; });
    if (sessions[0].submit_window(edgelstm::Span<const float>(x, 18), edgelstm::Span<const float>(target, 1),
                                  edgelstm::WindowStart::kCarryState) != edgelstm::Status::kOk) {
      std::abort();
    }
    run([&] { return done == 4; });
    if (done != 4 || sessions[1].committed_windows() != 1) std::abort();
  });
  failures += check("two nodes of a split: greetings, a step, an Adam window and its commit: 0 allocations", distributed == 0);
  const int int8 = allocations_during([] {
    constexpr auto kSpec = edgelstm::make_spec(1, 32, 1, 1, 6);
    constexpr std::size_t kRows = 4 * 32;
    static std::uint8_t data[kRows * (1 + 32) + 32 + 2 * kRows];
    static float scales[2 * kRows + 2];
    alignas(edgelstm::kPackedAlignment) static std::uint8_t arena[edgelstm::packed_int8_inference_bytes(kSpec)];
    edgelstm::Network net;
    if (net.bind_inference(kSpec, g_arena) != edgelstm::Status::kOk) std::abort();
    if (net.initialize(5) != edgelstm::Status::kOk) std::abort();
    const edgelstm::LstmLayerParameters<float> p = net.layer_parameters(0);
    using edgelstm::QuantizedMatrix;
    const auto int8 = edgelstm::WeightFormat::kInt8;
    const auto row = edgelstm::ScaleGranularity::kRow;
    edgelstm::quantize_matrix(p.weight_ih.data(), kRows, 1, int8, row, data, scales);
    edgelstm::quantize_matrix(p.weight_hh.data(), kRows, 32, int8, row, data + kRows, scales + kRows);
    edgelstm::quantize_matrix(net.head_weight().data(), 1, 32, int8, row, data + kRows * 33, scales + 2 * kRows);
    edgelstm::quantize_fused_bias(p.bias_ih.data(), p.bias_hh.data(), kRows, data + kRows * 33 + 32, scales + 2 * kRows + 1);
    const edgelstm::HybridLayer layer{QuantizedMatrix{int8, row, data, scales, kRows, 1},
                                      QuantizedMatrix{int8, row, data + kRows, scales + kRows, kRows, 32},
                                      QuantizedMatrix{edgelstm::WeightFormat::kInt16, edgelstm::ScaleGranularity::kTensor,
                                                      data + kRows * 33 + 32, scales + 2 * kRows + 1, kRows, 1}};
    const QuantizedMatrix head{int8, row, data + kRows * 33, scales + 2 * kRows, 1, 32};
    edgelstm::PackedInt8Network fast;
    if (fast.bind(kSpec, edgelstm::Span<const edgelstm::HybridLayer>(&layer, 1), head, net.head_bias().data(), arena) !=
        edgelstm::Status::kOk) {
      std::abort();
    }
    float x[6] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}, y[1];
    if (fast.step(edgelstm::Span<const float>(x, 1), y) != edgelstm::Status::kOk) std::abort();
    if (fast.forward(edgelstm::Span<const float>(x, 6), y) != edgelstm::Status::kOk) std::abort();
  });
  failures += check("int8 host inference: bind, step, window: 0 allocations", int8 == 0);
  const int batch = allocations_during([] {
    constexpr auto kSpec = edgelstm::make_spec(1, 100, 1, 1, 6);
    alignas(edgelstm::kBatchAlignment) static std::uint8_t arena[edgelstm::batch_train_bytes(kSpec, 8)];
    edgelstm::Network net;
    edgelstm::TrainConfig config;
    config.optimizer = edgelstm::OptimizerKind::kAdam;
    if (net.bind_training(kSpec, config, g_arena) != edgelstm::Status::kOk) std::abort();
    if (net.initialize(6) != edgelstm::Status::kOk) std::abort();
    edgelstm::BatchTrainer trainer;
    if (trainer.bind(net, 8, arena) != edgelstm::Status::kOk) std::abort();
    static float x[8 * 6], targets[8];
    for (int k = 0; k < 48; ++k) x[k] = 0.01f * static_cast<float>(k % 13);
    if (trainer.train_step(edgelstm::Span<const float>(x, 48), edgelstm::Span<const float>(targets, 8)).status !=
        edgelstm::Status::kOk) {
      std::abort();
    }
  });
  failures += check("minibatch training step (8 windows, Adam): 0 allocations", batch == 0);
  return failures == 0 ? 0 : 1;
}
