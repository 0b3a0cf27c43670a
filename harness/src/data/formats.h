#pragma once
// The dataset format table: every SPEC attrib reads or generates, with its parameter schema and
// read function. load_dataset and dataset_params_schema look a spec up here, and the message for
// an unknown spec lists this table, so a new format is one row plus its reader file.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace attrib {

/// Reads or generates a dataset. `name` is the dataset's name (generated ids start with it),
/// `argument` the spec after "PREFIX:" (empty for a generator), `params` the resolved options.
/// `report` starts as an empty object; readers fill it with {"format", "sources", "splits":
/// {split: {"rows", "dropped"}}, "notes"} (see load_dataset_reported).
using DatasetReadFn = Dataset (*)(const std::string& name, const std::string& argument,
                                  const nlohmann::json& params, nlohmann::json& report);

struct DatasetFormat {
  std::string prefix;    ///< a reader's FORMAT ("csv"), or a generator's whole spec
  std::string argument;  ///< the reader's PATH as shown to users ("FILE", "DIR", or "[DIR]"
                         ///< when it may be empty); empty for a generator
  Modality modality;
  std::string schema;  ///< parameter schema, a JSON object as text
  DatasetReadFn read;
};

/// The table, in the order error messages and help list it.
const std::vector<DatasetFormat>& dataset_formats();

/// The row of `spec`: a generator's row when the spec is its prefix, else the reader whose FORMAT
/// is the text before the first ':'. Throws attrib::Error "unknown dataset spec 'SPEC'
/// (available: ...)" listing the table, or "dataset spec 'SPEC': expected FORMAT:PATH, found no
/// path after ':'" when a required path is missing.
const DatasetFormat& find_dataset_format(const std::string& spec);

/// The spec after "PREFIX:" for a reader; empty for a generator.
std::string spec_argument(const DatasetFormat& format, const std::string& spec);

}  // namespace attrib
