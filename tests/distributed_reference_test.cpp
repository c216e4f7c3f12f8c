// Why a hidden split's training is not bit-identical to one device, and that nothing else differs.
//
// A single-device reference is written here from the core's own primitives (lstm_cell_forward,
// lstm_cell_backward, the matrix kernels, the loss and the optimizer), with one switch: how the sum
// W^T dz (dL/dh_{t-1}, and dL/dx of a layer above 0) runs over the gate rows. Added row after row
// (as Network does), the reference equals Network bit for bit; added node by node in node order
// (each node's rows first, as a split does), it equals the distributed split bit for bit, with
// Adam too. So the only difference between a split and one device is that order of summation.
#include <cstdint>
#include <cstring>

#include "edgelstm/edgelstm.h"
#include "support/distributed_support.h"
#include "support/micro_test.h"
#include "support/test_util.h"

namespace {

using edgelstm::LstmSpec;
using edgelstm::Network;
using edgelstm::Partition;
using edgelstm::PartitionNode;
using edgelstm::Span;
using edgelstm::Status;
using edgelstm::WindowStart;

constexpr std::size_t kMaxH = 8, kMaxT = 5, kMaxK = 8, kMaxParameters = 1024;

// Truncated BPTT on one device. `split` null: every W^T dz summed over all rows at once;
// otherwise per node of the split (its rows i, f, g, o of its units, from a zero vector), the
// nodes' sums then added in node order from zero.
struct Reference {
  LstmSpec spec{};
  edgelstm::TrainConfig config{};
  const Partition* split = nullptr;
  float parameters[kMaxParameters];
  float gradients[kMaxParameters];
  float optimizer_state[2 * kMaxParameters] = {};
  float h_state[edgelstm::kMaxLayers][kMaxH] = {};
  float c_state[edgelstm::kMaxLayers][kMaxH] = {};
  double beta1_power = 1, beta2_power = 1;
  // Caches of the window.
  float h[edgelstm::kMaxLayers][(kMaxT + 1) * kMaxH];
  float c[edgelstm::kMaxLayers][(kMaxT + 1) * kMaxH];
  float gates[edgelstm::kMaxLayers][kMaxT * 4 * kMaxH];
  float tanh_c[edgelstm::kMaxLayers][kMaxT * kMaxH];

  // Starts over from `whole` (in place: the reference is too large for a microcontroller's stack).
  void reset(const LstmSpec& new_spec, const edgelstm::TrainConfig& new_config, const Partition* new_split,
             Span<const float> whole) {
    spec = new_spec;
    config = new_config;
    split = new_split;
    std::memcpy(parameters, whole.data(), whole.size() * sizeof(float));
    std::memset(optimizer_state, 0, sizeof optimizer_state);
    std::memset(h_state, 0, sizeof h_state);
    std::memset(c_state, 0, sizeof c_state);
    beta1_power = beta2_power = 1;
  }

  std::size_t layer_offset(std::size_t layer) const {
    std::size_t offset = 0;
    for (std::size_t l = 0; l < layer; ++l) offset += edgelstm::lstm_layer_parameter_count(spec.layer_input(l), spec.hidden(l));
    return offset;
  }
  edgelstm::LstmLayerWeights<float> weights(std::size_t l) const {
    const float* p = parameters + layer_offset(l);
    edgelstm::LstmLayerWeights<float> w;
    w.input = spec.layer_input(l);
    w.hidden = spec.hidden(l);
    w.weight_ih = p;
    w.weight_hh = p + 4 * w.hidden * w.input;
    w.bias_ih = w.weight_hh + 4 * w.hidden * w.hidden;
    w.bias_hh = w.bias_ih + 4 * w.hidden;
    return w;
  }

  // y[0 .. cols) = sum over the rows of W [rows x cols] of W[r] * v[r], in this reference's order.
  void transposed_sum(const float* w, std::size_t hidden, std::size_t cols, std::size_t layer, const float* v, float* y) const {
    if (split == nullptr) {
      edgelstm::fill(y, cols, 0.0f);
      edgelstm::matvec_transposed_accumulate(w, 4 * hidden, cols, v, y);
      return;
    }
    float sum[kMaxK] = {}, rows[4 * kMaxH * kMaxK], values[4 * kMaxH], partial[kMaxK];
    for (std::size_t n = 0; n < split->nodes; ++n) {
      const std::size_t first = split->first_unit[layer][n], units = split->first_unit[layer][n + 1] - first;
      for (std::size_t gate = 0; gate < 4; ++gate) {
        for (std::size_t j = 0; j < units; ++j) {
          std::memcpy(rows + (gate * units + j) * cols, w + (gate * hidden + first + j) * cols, cols * sizeof(float));
          values[gate * units + j] = v[gate * hidden + first + j];
        }
      }
      edgelstm::fill(partial, cols, 0.0f);
      edgelstm::matvec_transposed_accumulate(rows, 4 * units, cols, values, partial);
      for (std::size_t k = 0; k < cols; ++k) sum[k] += partial[k];
    }
    std::memcpy(y, sum, cols * sizeof(float));
  }

  Status train_window(const float* x, const float* targets, WindowStart start, float* loss_out) {
    const std::size_t window = spec.window, layers = spec.num_layers, out = spec.output_size;
    for (std::size_t l = 0; l < layers; ++l) {
      const std::size_t hidden = spec.hidden(l);
      for (std::size_t j = 0; j < hidden; ++j) {
        h[l][j] = start == WindowStart::kCarryState ? h_state[l][j] : 0.0f;
        c[l][j] = start == WindowStart::kCarryState ? c_state[l][j] : 0.0f;
      }
      for (std::size_t t = 0; t < window; ++t) {
        const float* input = l == 0 ? x + t * spec.input_size : h[l - 1] + (t + 1) * spec.hidden(l - 1);
        edgelstm::lstm_cell_forward(weights(l), input, h[l] + t * hidden, c[l] + t * hidden, gates[l] + t * 4 * hidden,
                                    c[l] + (t + 1) * hidden, tanh_c[l] + t * hidden, h[l] + (t + 1) * hidden);
      }
    }
    const std::size_t top = layers - 1, top_hidden = spec.top_hidden();
    const std::size_t steps = spec.output_steps(), first = window - steps;
    const float* head_weight = parameters + layer_offset(layers);
    float y[kMaxT * 4], dy[kMaxT * 4];
    for (std::size_t s = 0; s < steps; ++s) {
      std::memcpy(y + s * out, head_weight + out * top_hidden, out * sizeof(float));
      edgelstm::matvec_accumulate(head_weight, out, top_hidden, h[top] + (first + s + 1) * top_hidden, y + s * out);
    }
    const float loss = edgelstm::mse_loss(y, targets, steps * out, dy);
    *loss_out = loss;
    // Head.
    float* head_grad = gradients + layer_offset(layers);
    float dh_above[kMaxT * kMaxH] = {}, dh_below[kMaxT * kMaxK];
    edgelstm::outer_product_sum(dy, out, h[top] + (first + 1) * top_hidden, top_hidden, steps, out, top_hidden, head_grad);
    edgelstm::row_sum(dy, out, steps, out, head_grad + out * top_hidden);
    for (std::size_t s = 0; s < steps; ++s) {
      edgelstm::matvec_transposed_accumulate(head_weight, out, top_hidden, dy + s * out, dh_above + (first + s) * top_hidden);
    }
    // Layers, top down, last step first.
    for (std::size_t l = layers; l-- > 0;) {
      const edgelstm::LstmLayerWeights<float> w = weights(l);
      const std::size_t hidden = w.hidden, input = w.input, rows = 4 * hidden;
      float dh_next[kMaxH] = {}, dc_next[kMaxH] = {};
      for (std::size_t t = window; t-- > 0;) {
        float* dh = dh_above + t * hidden;
        for (std::size_t j = 0; j < hidden; ++j) dh[j] += dh_next[j];
        float* dz = gates[l] + t * rows;
        edgelstm::lstm_cell_backward(hidden, dh, dc_next, dz, c[l] + t * hidden, tanh_c[l] + t * hidden);
        transposed_sum(w.weight_hh, hidden, hidden, l, dz, dh_next);
        if (l > 0) transposed_sum(w.weight_ih, hidden, input, l, dz, dh_below + t * input);
      }
      float* grad = gradients + layer_offset(l);
      const float* inputs = l == 0 ? x : h[l - 1] + spec.hidden(l - 1);
      edgelstm::outer_product_sum(gates[l], rows, inputs, input, window, rows, input, grad);
      edgelstm::outer_product_sum(gates[l], rows, h[l], hidden, window, rows, hidden, grad + rows * input);
      edgelstm::row_sum(gates[l], rows, window, rows, grad + rows * (input + hidden));
      std::memcpy(grad + rows * (input + hidden + 1), grad + rows * (input + hidden), rows * sizeof(float));
      if (l > 0) std::memcpy(dh_above, dh_below, window * input * sizeof(float));
    }
    // The update (no clipping: scale 1), then the state at the window's end.
    const std::size_t count = edgelstm::parameter_count(spec);
    beta1_power *= config.beta1;
    beta2_power *= config.beta2;
    if (!edgelstm::optimizer_update<true>(config, 1.0f, beta1_power, beta2_power, count, gradients, optimizer_state,
                                          parameters)) {
      return Status::kNonFinite;
    }
    for (std::size_t l = 0; l < layers; ++l) {
      std::memcpy(h_state[l], h[l] + window * spec.hidden(l), spec.hidden(l) * sizeof(float));
      std::memcpy(c_state[l], c[l] + window * spec.hidden(l), spec.hidden(l) * sizeof(float));
    }
    return Status::kOk;
  }
};

Reference g_reference;
const Span<std::uint8_t> g_network_arena = edgelstm::test::reference_arena();
const Span<std::uint8_t> g_check_arena = edgelstm::test::check_arena();
using FloatCluster = edgelstm::test::Cluster<PartitionNode>;
FloatCluster& g_split = edgelstm::test::float_cluster();

constexpr LstmSpec reference_spec() {
  LstmSpec spec = edgelstm::make_spec(3, 8, 2, 2, 5, edgelstm::Task::kRegression, edgelstm::OutputMode::kEveryStep);
  spec.hidden_size[1] = 6;
  return spec;
}

edgelstm::TrainConfig reference_config() {
  edgelstm::TrainConfig config;
  config.optimizer = edgelstm::OptimizerKind::kAdam;
  config.learning_rate = 0.02f;
  config.weight_decay = 0.01f;
  return config;
}

void window_data(std::size_t w, float* x, float* targets) {
  const LstmSpec spec = reference_spec();
  edgelstm::test::fill_uniform(x, spec.window * spec.input_size, 900 + w, 1.0f);
  edgelstm::test::fill_uniform(targets, spec.output_steps() * spec.output_size, 950 + w, 0.8f);
}

// The reference, summing row after row, is Network itself: the reference is faithful.
EDGELSTM_TEST(DistributedReference, RowOrderReferenceEqualsNetworkBitForBit) {
  const LstmSpec spec = reference_spec();
  Network net;
  ASSERT_OK(net.bind_training(spec, reference_config(), g_network_arena));
  ASSERT_OK(net.initialize(17, 1.0f));
  g_reference.reset(spec, reference_config(), nullptr, net.parameters());
  float x[kMaxT * 3], targets[kMaxT * 2];
  for (std::size_t w = 0; w < 5; ++w) {
    window_data(w, x, targets);
    const WindowStart start = w == 3 ? WindowStart::kZeroState : WindowStart::kCarryState;
    const edgelstm::TrainResult r = net.train_step(Span<const float>(x, spec.window * 3), Span<const float>(targets, spec.window * 2), start);
    ASSERT_OK(r.status);
    float loss = 0.0f;
    ASSERT_OK(g_reference.train_window(x, targets, start, &loss));
    EXPECT_TRUE(std::memcmp(&loss, &r.loss, sizeof loss) == 0);
  }
  EXPECT_TRUE(std::memcmp(g_reference.parameters, net.parameters().data(), net.parameters().size() * sizeof(float)) == 0);
  EXPECT_TRUE(std::memcmp(g_reference.h_state[1], net.hidden_state(1).data(), 6 * sizeof(float)) == 0);
}

// The reference summing node by node is the distributed split, bit for bit (Adam, two layers,
// outputs at every step, carried and zero state), and differs from Network.
EDGELSTM_TEST(DistributedReference, NodeOrderReferenceEqualsTheSplitBitForBit) {
  const LstmSpec spec = reference_spec();
  const edgelstm::TrainConfig config = reference_config();
  for (std::size_t nodes = 2; nodes <= 3; ++nodes) {
    const Partition split = edgelstm::make_hidden_split(spec, nodes);
    Network net;
    ASSERT_OK(net.bind_training(spec, config, g_network_arena));
    ASSERT_OK(net.initialize(17, 1.0f));
    g_reference.reset(spec, config, &split, net.parameters());
    FloatCluster& c = g_split;
    c.clear();
    c.spec = spec;
    c.partition = split;
    c.training = true;
    for (std::size_t k = 0; k < nodes; ++k) {
      const Span<std::uint8_t> arena =
          c.pool.take(edgelstm::node_compute_bytes(spec, split, k, edgelstm::Purpose::kTraining, config.optimizer));
      ASSERT_OK(c.nodes[k].bind_training(spec, split, k, config, arena));
      ASSERT_OK(c.nodes[k].load_parameters(net.parameters()));
      ASSERT_OK(c.attach(k));
    }
    ASSERT_TRUE(c.join());
    float x[kMaxT * 3], targets[kMaxT * 2];
    int losses_differ = 0;
    for (std::size_t w = 0; w < 5; ++w) {
      window_data(w, x, targets);
      const WindowStart start = w == 3 ? WindowStart::kZeroState : WindowStart::kCarryState;
      ASSERT_OK(net.train_step(Span<const float>(x, spec.window * 3), Span<const float>(targets, spec.window * 2), start).status);
      float loss = 0.0f;
      ASSERT_OK(g_reference.train_window(x, targets, start, &loss));
      ASSERT_OK(c.sessions[0].submit_window(Span<const float>(x, spec.window * 3), Span<const float>(targets, spec.window * 2), start));
      ASSERT_TRUE(c.finish_round());
      losses_differ += std::memcmp(&c.last_done[0].loss, &loss, sizeof loss) != 0 ? 1 : 0;
    }
    EXPECT_EQ_INT(losses_differ, 0);
    int nodes_differ = 0, nodes_differ_from_network = 0;
    for (std::size_t k = 0; k < nodes; ++k) {
      PartitionNode expected, network_rows;
      ASSERT_OK(expected.bind_inference(spec, split, k, g_check_arena));
      ASSERT_OK(expected.load_parameters(Span<const float>(g_reference.parameters, edgelstm::parameter_count(spec))));
      const Span<const float> mine = static_cast<const PartitionNode&>(c.nodes[k]).parameters();
      const Span<const float> theirs = static_cast<const PartitionNode&>(expected).parameters();
      nodes_differ += std::memcmp(mine.data(), theirs.data(), mine.size() * sizeof(float)) != 0 ? 1 : 0;
      ASSERT_OK(network_rows.bind_inference(spec, split, k, g_check_arena));
      ASSERT_OK(network_rows.load_parameters(net.parameters()));
      const Span<const float> single = static_cast<const PartitionNode&>(network_rows).parameters();
      nodes_differ_from_network += std::memcmp(mine.data(), single.data(), mine.size() * sizeof(float)) != 0 ? 1 : 0;
    }
    EXPECT_EQ_INT(nodes_differ, 0);
    EXPECT_TRUE(nodes_differ_from_network > 0);  // the order of summation does change the last bits
  }
}

}  // namespace
