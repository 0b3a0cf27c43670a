#include "analysis.h"

#include "attrib/error.h"

namespace attrib {

const AnalysisSpec& find_analysis(const std::string& name) {
  std::string known;
  for (const auto& a : analysis_catalogue()) {
    if (a.name == name) return a;
    known += (known.empty() ? "" : ", ") + a.name;
  }
  throw Error("unknown analysis '" + name + "' (available: " + known + ")");
}

}  // namespace attrib
