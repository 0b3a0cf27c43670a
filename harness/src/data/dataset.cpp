#include "data/dataset.h"

#include <cstring>

#include "attrib/error.h"
#include "attrib/hash.h"
#include "attrib/params.h"
#include "data/formats.h"
#include "data/readers/common.h"

namespace attrib {

using nlohmann::json;

const std::vector<TextExample>& Dataset::split(const std::string& name) const {
  if (name == "train") return train;
  if (name == "val") return val;
  if (name == "test") return test;
  throw Error("dataset '" + this->name + "': unknown split '" + name +
              "' (expected train, val or test)");
}

const std::vector<DenseExample>& Dataset::dense_split(const std::string& name) const {
  if (name == "train") return dense_train;
  if (name == "val") return dense_val;
  if (name == "test") return dense_test;
  throw Error("dataset '" + this->name + "': unknown split '" + name +
              "' (expected train, val or test)");
}

size_t Dataset::split_size(const std::string& name) const {
  return modality == Modality::kDense ? dense_split(name).size() : split(name).size();
}

int64_t Dataset::num_features() const {
  if (modality != Modality::kDense) return 0;
  int64_t n = 1;
  for (int64_t d : feature_shape) n *= d;
  return n;
}

namespace {

// Content hash of every split, recorded with results so that a run names the exact data it saw.
std::string hash_dataset(const Dataset& d) {
  Fnv1a h(kFnv1aLegacyBasis);
  auto mix = [&](const std::string& s) {
    h.add(s);
    h.mix(0xff);  // a terminator, so that "ab","c" and "a","bc" differ
  };
  // Floats are mixed by their bits, a word at a time (a Fashion-MNIST load has 47M values).
  auto mix_floats = [&](const std::vector<float>& v) {
    mix(std::to_string(v.size()));
    for (float f : v) {
      uint32_t bits;
      std::memcpy(&bits, &f, sizeof bits);
      h.mix(bits);
    }
  };
  for (const auto* split : {&d.train, &d.val, &d.test})
    for (const auto& e : *split) {
      mix(e.id);
      mix(std::to_string(e.label));
      for (const auto& t : e.tokens) mix(t);
      mix_floats(e.rationale);
      if (!e.special.empty()) mix(std::string(e.special.begin(), e.special.end()));
    }
  if (d.modality == Modality::kDense) {
    for (int64_t s : d.feature_shape) mix(std::to_string(s));
    for (const auto& f : d.feature_names) mix(f);
    for (const auto* split : {&d.dense_train, &d.dense_val, &d.dense_test}) {
      mix("|");
      for (const auto& e : *split) {
        mix(e.id);
        mix(std::to_string(e.label));
        mix_floats(e.x);
        mix_floats(e.mask);
      }
    }
  }
  return h.hex();
}

}  // namespace

json dataset_params_schema(const std::string& spec) {
  return json::parse(find_dataset_format(spec).schema);
}

Dataset load_dataset_reported(const std::string& name, const std::string& spec, const json& params,
                              json* report) {
  const DatasetFormat& format = find_dataset_format(spec);
  const json resolved = resolve_params(json::parse(format.schema), params, name + ".params");
  if (report) *report = json::object();
  json local = json::object();
  Dataset d = format.read(name, spec_argument(format, spec), resolved, local);
  d.name = name;
  d.modality = format.modality;
  // Dense readers may drop rows while encoding; the rows reported are the examples kept.
  if (d.modality == Modality::kDense) readers::count_rows(local, d);
  if (report) *report = std::move(local);
  d.spec = spec;
  d.params = resolved;
  d.hash = hash_dataset(d);
  return d;
}

Dataset load_dataset(const std::string& name, const std::string& spec, const json& params) {
  return load_dataset_reported(name, spec, params, nullptr);
}

}  // namespace attrib
