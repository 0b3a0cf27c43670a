#include "data/formats.h"

#include "attrib/error.h"
#include "data/readers/readers.h"
#include "data/synthetic/generators.h"

namespace attrib {

namespace {

bool is_generator(const DatasetFormat& f) { return f.argument.empty(); }

std::string usage(const DatasetFormat& f) {
  return is_generator(f) ? f.prefix : f.prefix + ":" + f.argument;
}

}  // namespace

const std::vector<DatasetFormat>& dataset_formats() {
  using namespace readers;
  using namespace synthetic;
  static const std::vector<DatasetFormat> table = {
      {"synthetic:planted_text", "", Modality::kText, kPlantedSchema, planted_text},
      {"synthetic:tabular_linear", "", Modality::kDense, kTabularSynthSchema, tabular_linear},
      {"synthetic:tabular_nonlinear", "", Modality::kDense, kTabularSynthSchema, tabular_nonlinear},
      {"synthetic:block_mnist", "", Modality::kDense, kBlockMnistSchema, block_mnist},
      {"synthetic:facts", "", Modality::kText, kFactsSchema, facts},
      {"hatexplain", "DIR", Modality::kText, kHateXplainSchema, read_hatexplain},
      {"eraser", "DIR", Modality::kText, kEraserSchema, read_eraser},
      {"jsonl", "FILE", Modality::kText, kJsonlSchema, read_jsonl},
      {"csv", "FILE", Modality::kDense, std::string("{") + kTabularCommon + "," + kCsvOnly + "}",
       read_csv_dense},
      {"arff", "FILE", Modality::kDense, std::string("{") + kTabularCommon + "}", read_arff},
      {"idx", "[DIR]", Modality::kDense, kIdxSchema, read_idx_dataset},
      {"images", "DIR", Modality::kDense, kImagesSchema, read_images},
  };
  return table;
}

const DatasetFormat& find_dataset_format(const std::string& spec) {
  const std::string format = spec.substr(0, spec.find(':'));
  for (const DatasetFormat& f : dataset_formats()) {
    if (is_generator(f) ? spec != f.prefix : format != f.prefix) continue;
    ATTRIB_CHECK(is_generator(f) || f.argument[0] == '[' || !spec_argument(f, spec).empty(),
                 "dataset spec '", spec, "': expected ", usage(f), ", found no path after ':'");
    return f;
  }
  std::string available;
  for (const DatasetFormat& f : dataset_formats())
    available += (available.empty() ? "" : ", ") + usage(f);
  throw Error("unknown dataset spec '" + spec + "' (available: " + available + ")");
}

std::string spec_argument(const DatasetFormat& format, const std::string& spec) {
  if (is_generator(format) || spec.size() <= format.prefix.size()) return "";
  return spec.substr(format.prefix.size() + 1);
}

}  // namespace attrib
