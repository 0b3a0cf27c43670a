// `text_cnn`: a built-in 1-D convolutional text classifier (Kim 2014). Token embeddings (no
// position embedding), parallel Conv1d of several widths, ReLU, max-pool over time and a linear
// classifier over the concatenated pooled features. TorchScript source defined from C++, so the
// saved archive loads with torch.jit.load and through the `torchscript` plugin alike.
//
// Batch independence: the embeddings of padded positions are zeroed before the convolutions, and
// the max runs over the windows that lie inside the sequence only (starts 0 .. L - k); a sequence
// shorter than the kernel (L < k) has the one window at start 0, whose missing positions are zero.
// The input is right-padded with k - 1 zeros so that every T >= 1 has at least that window. So an
// example's logits do not depend on how much padding follows it.
#include <torch/script.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "../common/text_model.h"
#include "attrib/plugin.h"

namespace {

using nlohmann::json;

constexpr const char* kDescription =
    "Built-in 1-D CNN text classifier (Kim 2014): token embeddings [V, d] (no position embedding), "
    "parallel Conv1d with kernel_sizes x n_filters, ReLU, max-pool over time restricted to the "
    "windows inside the sequence (padded embeddings zeroed; a sequence shorter than a kernel has "
    "one zero-padded window), linear classifier over the concatenated features. Batch- and "
    "padding-independent. Defined in TorchScript, saved as a .pt that torch.jit.load reads. "
    "Exports forward, embed (the token embeddings), forward_from_embeddings and metadata; no "
    "attention. Deterministic initialisation from seed; no dropout.";

constexpr const char* kParams = R"JSON({
  "kernel_sizes": {"type": "array", "default": [2, 3, 4], "description": "convolution widths in tokens (integers >= 1), one parallel Conv1d each"},
  "n_filters": {"type": "integer", "default": 32, "minimum": 1, "maximum": 1048576, "description": "output channels of each convolution"}
})JSON";

const char* plugin_metadata() {
  static const std::string doc = attrib_models::text_plugin_metadata(kDescription, kParams);
  return doc.c_str();
}

// One convolution: ReLU(conv1d) over the k-1 zero right-padded input, then the max over the
// windows starting at 0 .. max(L - k, 0). ReLU outputs are >= 0, so filling the excluded windows
// with 0 leaves the max over the included ones unchanged.
constexpr const char* kConvSource = R"TS(
def _conv_max(self, x: Tensor, lengths: Tensor, w: Tensor, b: Tensor) -> Tensor:
    k = w.size(2)
    T = x.size(2)
    h = torch.relu(torch.conv1d(torch.constant_pad_nd(x, [0, k - 1], 0.0), w, b))
    n_windows = torch.clamp(lengths - k + 1, min=1)
    inside = torch.arange(T, device=x.device).unsqueeze(0) < n_windows.unsqueeze(1)
    h = h.masked_fill(torch.logical_not(inside).unsqueeze(1), 0.0)
    return torch.amax(h, 2)
)TS";

std::string source(size_t n_convs) {
  std::ostringstream s;
  s << attrib_models::kTokenEmbedSource << kConvSource << R"TS(
def forward_from_embeddings(self, embeddings: Tensor, attention_mask: Tensor) -> Tensor:
    x = (embeddings * attention_mask.to(embeddings.dtype).unsqueeze(-1)).transpose(1, 2)
    lengths = (attention_mask != 0).sum(1)
    pooled = torch.cat([)TS";
  for (size_t i = 0; i < n_convs; ++i)
    s << (i ? ", " : "") << "self._conv_max(x, lengths, self.conv" << i << "_w, self.conv" << i
      << "_b)";
  s << R"TS(], 1)
    return torch.linear(pooled, self.cls_w, self.cls_b)
)TS";
  return s.str();
}

torch::jit::Module build(const json& p) {
  const attrib_models::TextSpec s = attrib_models::text_spec(p, "text_cnn");
  const json& ks = p.at("kernel_sizes");
  if (!ks.is_array() || ks.empty())
    throw attrib::Error("text_cnn: kernel_sizes: expected a non-empty list of integers >= 1, got " +
                        attrib::describe_json(ks));
  std::vector<int64_t> kernels;
  for (size_t i = 0; i < ks.size(); ++i) {
    if (!ks[i].is_number_integer() || ks[i].get<int64_t>() < 1)
      throw attrib::Error("text_cnn: kernel_sizes[" + std::to_string(i) +
                          "]: expected an integer >= 1, got " + attrib::describe_json(ks[i]));
    kernels.push_back(ks[i].get<int64_t>());
  }
  const int64_t F = p.at("n_filters").get<int64_t>();
  attrib_models::TextModuleBuilder m("TextCNN", s.seed);
  m.token_embedding(s);
  for (size_t i = 0; i < kernels.size(); ++i) {
    const std::string conv = "conv" + std::to_string(i);
    m.weighted_layer(conv, conv + "_w",
                     attrib_models::he_uniform({F, s.d, kernels[i]}, s.d * kernels[i], m.gen),
                     conv + "_b");
  }
  m.classifier(s, F * static_cast<int64_t>(kernels.size()));

  json meta = attrib_models::text_metadata(s, "text_cnn");
  meta["kernel_sizes"] = kernels;
  meta["n_filters"] = F;
  meta["embed_contains"] = "token embeddings (no position embedding)";
  meta["pooling"] =
      "per convolution: max over time of ReLU(conv1d) over the windows inside the sequence "
      "(starts 0 .. L - k; L < k: the one window at 0, zero-padded); padded embeddings zeroed; "
      "features concatenated in kernel_sizes order";
  meta["init"] = "tok_emb N(0, 1); conv he_uniform, cls_w xavier_uniform; zero biases";
  return m.finish(meta, source(kernels.size()));
}

class TextCnn : public attrib_models::TextBuiltin {
 public:
  explicit TextCnn(const json& p) : TextBuiltin(p, "text_cnn", build) {}
};

}  // namespace

ATTRIB_MODEL_PLUGIN(TextCnn, "text_cnn", "1.0.0",
                    ATTRIB_CAP_FORWARD | ATTRIB_CAP_INPUT_GRADIENT | ATTRIB_CAP_EMBEDDINGS |
                        ATTRIB_CAP_LAYERS | ATTRIB_CAP_TRAINABLE,
                    plugin_metadata())
