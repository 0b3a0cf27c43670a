// Python literals as repr() prints them (data/io/python_literal.h; HateXplain's CSV columns).
#include <nlohmann/json.hpp>
#include <string>

#include "data/io/python_literal.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace attrib;
  const std::string text(reinterpret_cast<const char*>(data), size);
  return fuzz::run_one([&] {
    const nlohmann::json v = parse_python_literal(text, "fuzz.csv", 3, "column 'x'");
    // Walks the whole value (strings may hold any bytes a Python str literal allows).
    v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  });
}
