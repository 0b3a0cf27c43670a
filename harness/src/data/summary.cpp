#include "data/summary.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "data/readers/common.h"

namespace attrib {

using nlohmann::json;
using readers::json_text;
using readers::kSplits;

json dataset_summary(const Dataset& d, const json& report) {
  json s = {{"name", d.name}, {"spec", d.spec},           {"params", d.params},
            {"hash", d.hash}, {"classes", d.class_names}, {"splits", json::object()}};
  if (report.contains("format")) s["format"] = report["format"];
  if (report.contains("source")) s["source"] = report["source"];
  if (report.contains("sources")) s["sources"] = report["sources"];
  if (report.contains("notes")) s["notes"] = report["notes"];
  const bool dense = d.modality == Modality::kDense;
  s["modality"] = dense ? "dense" : "text";
  if (dense) {
    s["feature_shape"] = d.feature_shape;
    s["num_features"] = d.num_features();
    s["feature_names"] = d.feature_names;
    s["encoding"] = d.encoding;
  }
  int64_t dropped_total = 0;
  for (const char* split : kSplits) {
    json labels = json::object();
    for (const auto& c : d.class_names) labels[c] = 0;
    auto count_label = [&](int64_t label) {
      const std::string key = (label >= 0 && label < static_cast<int64_t>(d.class_names.size()))
                                  ? d.class_names[label]
                                  : "label " + std::to_string(label);
      labels[key] = labels.value(key, int64_t{0}) + 1;
    };
    json js;
    if (dense) {
      const auto& ex = d.dense_split(split);
      int64_t annotated = 0;
      double area = 0;  // sum over annotated examples of the fraction of features marked
      for (const auto& e : ex) {
        count_label(e.label);
        if (e.mask.empty()) continue;
        ++annotated;
        area +=
            double(std::count_if(e.mask.begin(), e.mask.end(), [](float x) { return x > 0.5f; })) /
            e.mask.size();
      }
      js = {{"examples", ex.size()},
            {"labels", labels},
            {"annotated", annotated},
            {"mean_mask_area", annotated ? json(area / annotated) : json()}};
    } else {
      const auto& ex = d.split(split);
      int64_t annotated = 0, marked = 0, tokens = 0;
      for (const auto& e : ex) {
        count_label(e.label);
        tokens += static_cast<int64_t>(e.tokens.size());
        if (e.rationale.empty()) continue;
        ++annotated;
        marked +=
            std::count_if(e.rationale.begin(), e.rationale.end(), [](float x) { return x > 0.5f; });
      }
      js = {{"examples", ex.size()},
            {"labels", labels},
            {"annotated", annotated},
            {"mean_rationale_tokens", annotated ? json(double(marked) / annotated) : json()},
            {"mean_tokens", ex.empty() ? json() : json(double(tokens) / ex.size())}};
    }
    json dropped = json::object();
    if (report.contains("splits") && report["splits"].contains(split)) {
      const json& r = report["splits"][split];
      js["rows"] = r.value("rows", int64_t{0});
      dropped = r.value("dropped", json::object());
    } else {
      js["rows"] = js["examples"];
    }
    int64_t n_dropped = 0;
    for (const auto& [k, v] : dropped.items()) n_dropped += v.get<int64_t>();
    js["dropped"] = dropped;
    js["dropped_total"] = n_dropped;
    dropped_total += n_dropped;
    s["splits"][split] = js;
  }
  s["dropped_total"] = dropped_total;
  return s;
}

std::string render_dataset_summary(const json& s) {
  std::ostringstream os;
  auto pct = [](int64_t k, int64_t n) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", n ? 100.0 * k / n : 0.0);
    return std::string(buf);
  };
  auto num = [](const json& v) {
    if (v.is_null()) return std::string("-");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v.get<double>());
    return std::string(buf);
  };
  os << "dataset " << s.value("name", "") << " (" << s.value("spec", "") << ")\n";
  if (s.contains("format"))
    os << "format: " << s["format"].get<std::string>()
       << (s.contains("source") ? " (" + s["source"].get<std::string>() + ")" : "") << "\n";
  os << "params: " << json_text(s.value("params", json::object())) << "\n";
  std::string classes;
  for (const auto& c : s["classes"])
    classes += (classes.empty() ? "" : ", ") + c.get<std::string>();
  os << "classes (" << s["classes"].size() << "): " << classes << "\n";
  os << "hash: " << s.value("hash", "") << "\n";
  const bool dense = s.value("modality", "text") == "dense";
  if (dense) {
    std::string shape;
    for (const auto& v : s["feature_shape"]) shape += (shape.empty() ? "" : " x ") + v.dump();
    os << "features: " << s["num_features"].get<int64_t>() << " (shape " << shape << ")";
    const json& names = s["feature_names"];
    if (!names.empty()) {
      os << ":";
      for (size_t k = 0; k < names.size() && k < 12; ++k) os << " " << names[k].get<std::string>();
      if (names.size() > 12) os << " ... (" << names.size() - 12 << " more)";
    }
    os << "\n";
    if (s.contains("encoding") && s["encoding"].contains("columns")) {
      const json& cols = s["encoding"]["columns"];
      for (size_t i = 0; i < cols.size() && i < 24; ++i) {
        const json& c = cols[i];
        os << "  " << c["name"].get<std::string>() << ": " << c["type"].get<std::string>();
        if (c["type"] == "numeric")
          os << " (train mean " << num(c["mean"]) << ", std " << num(c["std"])
             << (c["standardized"].get<bool>() ? ", standardized" : "") << ")";
        else
          os << " (one-hot " << json_text(c["categories"]) << ")";
        os << "\n";
      }
      if (cols.size() > 24) os << "  ... (" << cols.size() - 24 << " more columns)\n";
    }
  }
  for (const char* split : kSplits) {
    const json& js = s["splits"][split];
    const int64_t n = js["examples"];
    os << split << ": " << n << " examples (" << js["rows"].get<int64_t>() << " rows read, "
       << js["dropped_total"].get<int64_t>() << " dropped";
    for (const auto& [k, v] : js["dropped"].items()) os << "; " << k << " " << v.get<int64_t>();
    os << ")\n";
    if (n == 0) continue;
    os << "  labels:";
    std::string sep = " ";
    for (const auto& c : s["classes"]) {
      const int64_t k = js["labels"].value(c.get<std::string>(), int64_t{0});
      os << sep << c.get<std::string>() << " " << k << " (" << pct(k, n) << ")";
      sep = ", ";
    }
    for (const auto& [label, k] : js["labels"].items())
      if (std::find(s["classes"].begin(), s["classes"].end(), json(label)) == s["classes"].end())
        os << sep << label << " " << k.get<int64_t>();
    os << "\n";
    const int64_t a = js["annotated"];
    if (dense)
      os << "  annotated: " << a << " (" << pct(a, n) << "), mean mask area "
         << num(js["mean_mask_area"]) << " (fraction of features)\n";
    else
      os << "  annotated: " << a << " (" << pct(a, n) << "), mean rationale length "
         << num(js["mean_rationale_tokens"]) << " tokens; mean length " << num(js["mean_tokens"])
         << " tokens\n";
  }
  os << "dropped in all: " << s.value("dropped_total", int64_t{0}) << "\n";
  if (s.contains("notes") && !s["notes"].empty()) {
    os << "notes:";
    std::string sep = " ";
    for (const auto& [k, v] : s["notes"].items()) {
      os << sep << k << " " << json_text(v);
      sep = ", ";
    }
    os << "\n";
  }
  return os.str();
}

}  // namespace attrib
