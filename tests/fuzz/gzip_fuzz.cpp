// Whole-file gzip reading (data/io/gzip.h): csv:, arff: and idx: files may be gzip or plain.
#include <string>

#include "data/io/gzip.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace attrib;
  fuzz::Scratch& scratch = fuzz::Scratch::get();
  scratch.reset({{"file.gz", std::string(reinterpret_cast<const char*>(data), size)}});
  return fuzz::run_one([&] { read_maybe_gz(scratch.path("file.gz")); });
}
