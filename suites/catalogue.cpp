// The one list of metric families and analyses. The host knows metrics and analyses only through
// metric.h / analysis.h and these catalogues; a new family is one line here.
#include "agreement/agreement.h"
#include "analysis.h"
#include "complexity/complexity.h"
#include "faithfulness/faithfulness.h"
#include "metric.h"
#include "plausibility/plausibility.h"
#include "randomisation/randomisation.h"
#include "throughput/throughput.h"

namespace attrib {

const std::vector<MetricSpec>& metric_catalogue() {
  static const std::vector<MetricSpec> catalogue = [] {
    std::vector<MetricSpec> all;
    for (auto family :
         {faithfulness_metrics, plausibility_metrics, localisation_metrics, complexity_metrics})
      for (auto& m : family()) all.push_back(std::move(m));
    return all;
  }();
  return catalogue;
}

const std::vector<AnalysisSpec>& analysis_catalogue() {
  // Run order: agreement reads only the explanations; randomisation and throughput re-explain.
  static const std::vector<AnalysisSpec> catalogue = {
      agreement_analysis(), randomisation_analysis(), throughput_analysis()};
  return catalogue;
}

}  // namespace attrib
