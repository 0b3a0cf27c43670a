#include "throughput/throughput.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <optional>
#include <set>

#include "attrib/error.h"
#include "attrib/input_space.h"
#include "attrib/params.h"
#include "common/stats.h"

namespace attrib {

using nlohmann::json;
using namespace stats;  // NOLINT: the statistics helpers

json throughput_schema() {
  return json::parse(R"JSON({
    "batch_sizes": {"type": "array", "default": [32], "description": "examples per explain call"},
    "repetitions": {"type": "integer", "default": 9, "minimum": 1, "maximum": 10000},
    "warmup": {"type": "integer", "default": 1, "minimum": 0, "maximum": 1000},
    "examples": {"type": "integer", "default": 64, "minimum": 1,
                 "description": "examples explained per repetition (the first of the split)"},
    "limit": {"type": "boolean", "default": true,
              "description": "measure the model's forward and forward+backward rows/s over a ladder of row counts up to batch_cap, and each method's fraction of it"},
    "limit_min_seconds": {"type": "number", "default": 0.2, "minimum": 0.001, "maximum": 60,
                          "description": "seconds timed per rung of the limit's ladder (at least 3 calls)"}
  })JSON");
}

ThroughputOptions throughput_options(const json& r, const std::string& path) {
  ThroughputOptions o;
  const json& bs = r.at("batch_sizes");
  for (size_t i = 0; i < bs.size(); ++i) {
    if (!bs[i].is_number_integer() || bs[i].get<int64_t>() < 1)
      throw Error(path + ".batch_sizes[" + std::to_string(i) + "]: expected integer >= 1, got " +
                  describe_json(bs[i]));
    o.batch_sizes.push_back(bs[i]);
  }
  if (o.batch_sizes.empty()) throw Error(path + ".batch_sizes: expected a non-empty array, got []");
  o.repetitions = r.at("repetitions");
  o.warmup = r.at("warmup");
  o.examples = r.at("examples");
  o.limit = r.at("limit");
  o.limit_min_seconds = r.at("limit_min_seconds");
  return o;
}

namespace {

// Concatenates text or dense batches; text ones are right-padded to the longest.
Batch concat(const std::vector<Batch>& parts) {
  if (parts.size() == 1) return parts[0];
  Batch out;
  out.modality = parts[0].modality;
  int64_t T = 0;
  for (const auto& p : parts) {
    out.ids.insert(out.ids.end(), p.ids.begin(), p.ids.end());
    if (p.modality == Modality::kText) T = std::max(T, p.inputs.size(1));
  }
  auto cat = [&](auto get, int64_t pad_value) {
    std::vector<at::Tensor> ts;
    for (const auto& p : parts) {
      at::Tensor t = get(p);
      if (!t.defined()) return at::Tensor();
      if (out.modality == Modality::kText && t.dim() >= 2 && t.size(1) < T) {
        auto sizes = t.sizes().vec();
        sizes[1] = T - t.size(1);
        t = at::cat({t, at::full(sizes, pad_value, t.options())}, 1);
      }
      ts.push_back(t);
    }
    return at::cat(ts);
  };
  out.inputs = cat([](const Batch& b) { return b.inputs; }, 0);
  out.attention_mask = cat([](const Batch& b) { return b.attention_mask; }, 0);
  out.word_ids = cat([](const Batch& b) { return b.word_ids; }, -1);
  out.offsets = cat([](const Batch& b) { return b.offsets; }, 0);
  out.labels = cat([](const Batch& b) { return b.labels; }, -1);
  return out;
}

int64_t peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;  // kB
  return -1;
}

}  // namespace

Batch first_examples(const std::vector<Batch>& batches, const std::vector<at::Tensor>& targets,
                     int64_t n, at::Tensor* targets_out) {
  std::vector<Batch> pieces;
  std::vector<at::Tensor> piece_targets;
  int64_t taken = 0;
  for (size_t bi = 0; bi < batches.size() && taken < n; ++bi) {
    const int64_t take = std::min(batches[bi].size(), n - taken);
    pieces.push_back(slice_batch(batches[bi], 0, take));
    piece_targets.push_back(targets[bi].slice(0, 0, take));
    taken += take;
  }
  ATTRIB_CHECK(taken > 0, "throughput: no examples to explain");
  *targets_out = at::cat(piece_targets);
  return concat(pieces);
}

Workload::Workload(ModelAdapter& model, AttributionMethod* method,
                   const std::vector<Batch>& batches, const std::vector<at::Tensor>& targets,
                   int64_t examples, int64_t batch_size, ExplainContext ctx)
    : model_(model), method_(method), ctx_(ctx) {
  // Take the first `examples` examples in order, then cut them into calls of batch_size.
  at::Tensor all_targets;
  const Batch all = first_examples(batches, targets, examples, &all_targets);
  examples_ = all.size();
  for (int64_t s = 0; s < examples_; s += batch_size) {
    const int64_t e = std::min(examples_, s + batch_size);
    calls_.push_back(slice_batch(all, s, e));
    call_targets_.push_back(all_targets.slice(0, s, e));
  }
}

void Workload::run() {
  double sink = 0;
  forward_rows_ = backward_rows_ = 0;
  for (size_t i = 0; i < calls_.size(); ++i) {
    if (method_) {
      Explanation e = method_->explain(model_, calls_[i], call_targets_[i], ctx_);
      sink += e.attributions.sum().item<double>();  // also synchronises a CUDA stream
      forward_rows_ += e.forward_rows;
      backward_rows_ += e.backward_rows;
    } else {
      InputSpace space(model_, calls_[i]);
      sink += space.gradient(space.x(), call_targets_[i]).sum().item<double>();
      forward_rows_ += calls_[i].size();
      backward_rows_ += calls_[i].size();
    }
  }
  if (sink == 12345.6789) std::fputc(' ', stderr);  // keep the work observable
}

json time_workload(Workload& w, int64_t warmup, int64_t repetitions) {
  for (int64_t i = 0; i < warmup; ++i) w.run();
  // Writing 5 to clear_refs resets the peak RSS (VmHWM) so that it covers the timed runs only.
  { std::ofstream("/proc/self/clear_refs") << "5"; }
  std::vector<double> seconds, rates;
  for (int64_t i = 0; i < repetitions; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    w.run();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    seconds.push_back(s);
    rates.push_back(s > 0 ? w.examples() / s : 0.0);
  }
  const int64_t rss = peak_rss_bytes();
  return {{"seconds", seconds},
          {"warmup", warmup},
          {"examples_per_repetition", w.examples()},
          {"explanations_per_second",
           {{"median", median(rates)},
            {"min", *std::min_element(rates.begin(), rates.end())},
            {"max", *std::max_element(rates.begin(), rates.end())}}},
          {"peak_rss_bytes", rss >= 0 ? json(rss) : json(nullptr)}};
}

void add_fraction_of_limit(json& entry, const Workload& w, const ModelLimit* limit) {
  const double e = static_cast<double>(w.examples());
  const double f = static_cast<double>(w.forward_rows()),
               b = static_cast<double>(w.backward_rows());
  entry["rows_per_explanation"] = {{"forward", f / e}, {"backward", b / e}};
  if (limit) add_fraction_of_limit(entry, *limit);
}

void add_fraction_of_limit(json& entry, const ModelLimit& limit) {
  const json& rows = entry.at("rows_per_explanation");
  const double seconds =
      limit.seconds(rows.at("forward").get<double>(), rows.at("backward").get<double>());
  const json& eps = entry.at("explanations_per_second");
  if (seconds > 0 && std::isfinite(seconds)) {
    const double allowed = 1.0 / seconds;
    entry["limit_explanations_per_second"] = allowed;
    entry["fraction_of_limit"] = eps.at("median").get<double>() / allowed;
  } else {
    entry["limit_explanations_per_second"] = nullptr;
    entry["fraction_of_limit"] = nullptr;
  }
}

}  // namespace attrib

namespace attrib {
namespace {

/// The "throughput" analysis: every method and the model's own forward+backward (the reference)
/// timed at each batch size on the explained examples.
class ThroughputAnalysis : public Analysis {
 public:
  explicit ThroughputAnalysis(const nlohmann::json& p) : o_(throughput_options(p, "throughput")) {}

  std::vector<nlohmann::json> run(const AnalysisInput& in, Progress& progress) override {
    const auto& explained = in.explanations;
    progress.stage("throughput (" + in.model_name + ", " + in.dataset + ")",
                   static_cast<int64_t>((explained.size() + 1) * o_.batch_sizes.size()));
    std::vector<nlohmann::json> out;
    // The model's limit, once for every batch size and method of this (dataset, model).
    std::optional<ModelLimit> limit;
    std::string limit_error;
    auto measure = [&] {
      at::Tensor targets;
      const Batch examples = first_examples(in.batches, in.targets, o_.examples, &targets);
      return measure_limit(in.model, examples, targets, in.batch_cap, o_.limit_min_seconds);
    };
    if (o_.limit) {
      try {
        limit = measure();
      } catch (...) {
        limit_error = in_flight_error();
        in.fail("throughput[limit]", limit_error);
      }
    }
    for (int64_t bs : o_.batch_sizes) {
      for (size_t k = 0; k <= explained.size(); ++k) {
        const bool reference = k == explained.size();
        nlohmann::json entry = {
            {"dataset", in.dataset},
            {"model", in.model_name},
            {"method", reference ? "model_forward_backward" : explained[k].name},
            {"kind", reference ? "reference" : "method"},
            {"device", in.device},
            {"batch_size", bs},
            {"threads", at::get_num_threads()}};
        // A method timed in a worker process includes a fork per call (isolation.h).
        if (!reference && explained[k].isolated) entry["isolated"] = true;
        try {
          if (!reference && !explained[k].ok())
            throw Error("explanation failed: " + explained[k].error);
          ExplainContext ctx = in.context;  // the method's own rows per call
          if (!reference && explained[k].max_rows > 0) ctx.max_rows = explained[k].max_rows;
          Workload w(in.model, reference ? nullptr : explained[k].method.get(), in.batches,
                     in.targets, o_.examples, bs, ctx);
          entry.update(time_workload(w, o_.warmup, o_.repetitions));
          add_fraction_of_limit(entry, w,
                                nullptr);  // the rows; the fraction once both limits are in
          if (reference && !limit_error.empty()) entry["limit_error"] = limit_error;
        } catch (...) {
          entry["error"] = in_flight_error();
          in.fail("throughput[" + entry["method"].get<std::string>() + "]", in_flight_error());
        }
        out.push_back(std::move(entry));
        progress.advance();
      }
    }
    // The limit again after the workloads: a slow spell during either measurement would
    // otherwise lower the limit and flatter every fraction.
    if (limit) {
      try {
        limit = better_of(*limit, measure());
      } catch (...) {
        in.fail("throughput[limit]", in_flight_error());
      }
      for (nlohmann::json& entry : out) {
        if (entry.contains("error")) continue;
        add_fraction_of_limit(entry, *limit);
        if (entry["kind"] == "reference") entry["limit"] = limit->to_json();
      }
    }
    progress.done(std::to_string(out.size()) + " workloads timed");
    return out;
  }

 private:
  ThroughputOptions o_;
};

}  // namespace

AnalysisSpec throughput_analysis() {
  AnalysisSpec s;
  s.name = "throughput";
  s.description =
      "explanations per second per method and batch size, with the model's forward+backward as "
      "the reference";
  s.params = throughput_schema();
  s.resolve = [](const nlohmann::json& given, const std::string& path) {
    nlohmann::json r = resolve_params(throughput_schema(), given, path);
    throughput_options(r, path);
    return r;
  };
  s.create = [](const nlohmann::json& p) { return std::make_unique<ThroughputAnalysis>(p); };
  return s;
}

}  // namespace attrib
