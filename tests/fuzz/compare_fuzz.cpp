// `attrib compare`'s reading of two results documents and everything it derives from them: the
// checks, the comparison (statistics included) and the Markdown and JSON reports.
// Input (fuzz_common.h): the options JSON, then the baseline and (optionally) the current
// results.json; with one file, the file is compared with itself.
#include <algorithm>

#include "attrib/user_input.h"
#include "compare.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace attrib;
  fuzz::Input in;
  if (!fuzz::split_input(data, size, in) || in.files.empty()) return 0;
  // The options the command line accepts (compare.cpp checks their ranges), from the params.
  CompareOptions o;
  nlohmann::json p;
  try {
    p = nlohmann::json::parse(in.params);
  } catch (const std::exception&) {
  }
  if (p.is_object()) {
    auto number = [&](const char* key, double lo, double hi, double fallback) {
      const auto it = p.find(key);
      return it != p.end() && it->is_number() ? std::clamp(it->get<double>(), lo, hi) : fallback;
    };
    o.tolerance = number("tolerance", 0, 1e6, o.tolerance);
    o.relative_tolerance =
        p.value("relative", nlohmann::json(false)).is_boolean() && p.value("relative", false);
    o.speed_tolerance = number("speed_tolerance", 0, 1e6, o.speed_tolerance);
    o.alpha = number("alpha", 1e-9, 1, o.alpha);
    // Few resamples: the bootstrap's cost is not what is fuzzed.
    o.bootstrap_resamples = static_cast<int>(number("resamples", 0, 50, 20));
    o.seed = static_cast<uint64_t>(number("seed", 0, 1e6, 0));
  } else {
    o.bootstrap_resamples = 20;
  }
  const fuzz::File& base = in.files.front();
  const fuzz::File& cur = in.files.size() > 1 ? in.files[1] : base;
  return fuzz::run_one([&] {
    // As read_json_file: the same checked parser, errors naming the file.
    const nlohmann::json baseline = parse_json_checked(base.data, base.name);
    const nlohmann::json current = parse_json_checked(cur.data, cur.name);
    const nlohmann::json report = compare_results(baseline, current, o, base.name, cur.name);
    compare_markdown(report);
    report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  });
}
