#pragma once
// The dataset readers (FORMAT:PATH specs): their parameter schemas and entry points, one source
// file each, registered in the format table (data/formats.cpp). Every error on bad input is an
// attrib::Error of the form FILE:LINE: what was expected, what was found (FILE: byte N for binary
// IDX files).
#include <nlohmann/json.hpp>
#include <string>

#include "data/dataset.h"

namespace attrib::readers {

// Parameter schemas (JSON objects as text, for resolve_params).
extern const char* const kHateXplainSchema;
extern const char* const kEraserSchema;
extern const char* const kJsonlSchema;
extern const char* const kTabularCommon;  ///< members shared by csv: and arff:, without braces
extern const char* const kCsvOnly;        ///< members of csv: only, without braces
extern const char* const kIdxSchema;
extern const char* const kImagesSchema;

// As DatasetReadFn (data/formats.h): `argument` is the PATH of the spec.
Dataset read_hatexplain(const std::string& name, const std::string& dir, const nlohmann::json& p,
                        nlohmann::json& report);
Dataset read_eraser(const std::string& name, const std::string& dir, const nlohmann::json& p,
                    nlohmann::json& report);
Dataset read_jsonl(const std::string& name, const std::string& file, const nlohmann::json& p,
                   nlohmann::json& report);
Dataset read_csv_dense(const std::string& name, const std::string& path, const nlohmann::json& p,
                       nlohmann::json& report);
Dataset read_arff(const std::string& name, const std::string& path, const nlohmann::json& p,
                  nlohmann::json& report);
/// An empty `dir` is kFashionMnistDir (readers/idx.h).
Dataset read_idx_dataset(const std::string& name, const std::string& dir, const nlohmann::json& p,
                         nlohmann::json& report);
Dataset read_images(const std::string& name, const std::string& dir, const nlohmann::json& p,
                    nlohmann::json& report);

}  // namespace attrib::readers
