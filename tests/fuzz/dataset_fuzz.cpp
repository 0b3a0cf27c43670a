// One dataset reader (FORMAT:PATH spec) on a generated file or folder, through load_dataset and
// dataset_summary as `attrib data [--json]` calls them. Compiled once and linked into one target
// per reader, each with a one-line source defining kFuzzFormat (tests/fuzz/CMakeLists.txt).
// Input (fuzz_common.h): the params JSON, then the files. File readers (csv, arff, jsonl) read the
// first file; folder readers (eraser, hatexplain, idx, images) read the scratch folder.
#include <set>
#include <string>

#include "attrib/user_input.h"
#include "data/dataset.h"
#include "data/summary.h"
#include "fuzz_common.h"

/// The reader's FORMAT, e.g. "csv" (defined by the target's generated source).
extern const char* const kFuzzFormat;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace attrib;
  fuzz::Input in;
  if (!fuzz::split_input(data, size, in) || in.files.empty()) return 0;
  return fuzz::run_one([&] {
    const nlohmann::json params = in.params.find_first_not_of(" \t\r\n") == std::string::npos
                                      ? nlohmann::json::object()
                                      : parse_json_checked(in.params, "params");
    fuzz::Scratch& scratch = fuzz::Scratch::get();
    scratch.reset(in.files);
    static const std::set<std::string> kFolderReaders = {"eraser", "hatexplain", "idx", "images"};
    const std::string path =
        kFolderReaders.count(kFuzzFormat) ? scratch.dir() : scratch.path(in.files.front().name);
    nlohmann::json report;
    const Dataset d =
        load_dataset_reported("fuzz", std::string(kFuzzFormat) + ":" + path, params, &report);
    // What `attrib data [--json]` does next.
    const nlohmann::json summary = dataset_summary(d, report);
    render_dataset_summary(summary);
    summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  });
}
