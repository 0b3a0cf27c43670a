// RFC 4180 CSV records (data/io/csv.h), under csv: and hatexplain:.
#include <cstdlib>
#include <string>

#include "data/io/csv.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace attrib;
  const std::string text(reinterpret_cast<const char*>(data), size);
  return fuzz::run_one([&] {
    size_t last_line = 0;
    for (const CsvRecord& r : parse_csv(text, "fuzz.csv")) {
      // The documented shape: one line per field, records in line order.
      if (r.fields.size() != r.field_lines.size() || r.line <= last_line) std::abort();
      last_line = r.line;
    }
  });
}
