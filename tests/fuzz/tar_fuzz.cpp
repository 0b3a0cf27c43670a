// gzip-compressed tar archives (data/io/tar.h), as the eraser: reader reads docs.tar.gz.
#include <string>

#include "data/io/tar.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace attrib;
  fuzz::Scratch& scratch = fuzz::Scratch::get();
  scratch.reset({{"docs.tar.gz", std::string(reinterpret_cast<const char*>(data), size)}});
  return fuzz::run_one([&] {
    // Once keeping every entry, once through a filter on the name (as eraser: filters docids).
    read_tar_gz(scratch.path("docs.tar.gz"));
    read_tar_gz(scratch.path("docs.tar.gz"),
                [](const std::string& path) { return path.find('a') != std::string::npos; });
  });
}
