// The suite parser: suite JSON text -> SuiteConfig, as `attrib run SUITE` reads it
// (parse_json_text, then parse_suite, then the resolved document that a run records). Plugins,
// metrics and analyses come from the small stand-in catalogue of suite_stubs.cpp; the dataset
// schemas are the real ones.
#include <string>

#include "config.h"
#include "fuzz_common.h"
#include "registry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace attrib;
  static const Registry registry;
  const std::string text(reinterpret_cast<const char*>(data), size);
  return fuzz::run_one([&] {
    const SuiteConfig c = parse_suite(parse_json_text(text, "suite.json"), registry);
    c.resolved.dump(2);
  });
}
