#include "common/annotated.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "attrib/error.h"
#include "common/perturb.h"

namespace attrib {

using nlohmann::json;

json single_class_schema() {
  return json::parse(R"JSON({
  "all_positive": {"type": "string", "default": "undefined", "enum": ["undefined", "score"],
                   "description": "an example whose annotation marks every feature: undefined (NaN, skipped and counted; any map would score the same) or scored as the reference code does"}
})JSON");
}

std::vector<double> score_annotated(
    const MetricInput& in, const std::string& metric, const json& params,
    const std::function<double(int64_t, const AnnotatedExample&)>& fn) {
  const std::string sign = params.at("sign");
  const bool keep_all_positive = params.value("all_positive", "undefined") == "score";
  const Batch& b = in.batch;
  const int64_t B = b.size();
  std::vector<double> out(B, std::nan(""));
  const Annotations* ann = in.annotations;
  if (ann == nullptr || !ann->mask.defined()) return out;
  const at::Tensor scores = in.scores.to(at::kCPU, at::kDouble).contiguous();
  const at::Tensor mask = ann->mask.to(at::kCPU, at::kDouble).contiguous();
  const at::Tensor present =
      ann->present.defined() ? ann->present.to(at::kCPU, at::kBool).contiguous() : at::Tensor();
  ATTRIB_CHECK(mask.size(0) == B && mask.size(1) == scores.size(1), "metric ", metric,
               ": annotation mask ", mask.sizes(), " does not match the scores ", scores.sizes(),
               " of a batch of ", B);
  for (int64_t i = 0; i < B; ++i) {
    if (present.defined() && !present[i].item<bool>()) continue;
    AnnotatedExample x;
    x.feats = perturb::features(b, scores.size(1), i);
    const double* sp = scores[i].data_ptr<double>();
    const double* mp = mask[i].data_ptr<double>();
    for (int64_t f : x.feats) {
      double v = sp[f];
      if (sign == "abs") v = std::fabs(v);
      if (sign == "positive") v = std::max(v, 0.0);  // NaN stays NaN
      x.a.push_back(v);
      x.s.push_back(mp[f] > 0.5 ? 1 : 0);
      x.positives += x.s.back();
    }
    if (x.positives == 0) continue;  // empty mask: undefined
    if (x.positives == static_cast<int64_t>(x.a.size()) && !keep_all_positive) continue;
    out[i] = fn(i, x);
  }
  return out;
}

}  // namespace attrib
