#pragma once
// The dataset generators (synthetic:GENERATOR specs): their parameter schemas and entry points,
// registered in the format table (data/formats.cpp). Every generator has its own seed parameter,
// independent of the run seed, so that a suite's data stay fixed when its seed changes.
#include <nlohmann/json.hpp>
#include <string>

#include "data/dataset.h"

namespace attrib::synthetic {

extern const char* const kPlantedSchema;
extern const char* const kTabularSynthSchema;
extern const char* const kBlockMnistSchema;
extern const char* const kFactsSchema;

// As DatasetReadFn (data/formats.h); `argument` is always empty.
Dataset planted_text(const std::string& name, const std::string& argument, const nlohmann::json& p,
                     nlohmann::json& report);
Dataset tabular_linear(const std::string& name, const std::string& argument,
                       const nlohmann::json& p, nlohmann::json& report);
Dataset tabular_nonlinear(const std::string& name, const std::string& argument,
                          const nlohmann::json& p, nlohmann::json& report);
/// Prompts for a causal LM whose answer (the animal's sound) is fixed by one slot (facts.cpp).
Dataset facts(const std::string& name, const std::string& argument, const nlohmann::json& p,
              nlohmann::json& report);
Dataset block_mnist(const std::string& name, const std::string& argument, const nlohmann::json& p,
                    nlohmann::json& report);

}  // namespace attrib::synthetic
