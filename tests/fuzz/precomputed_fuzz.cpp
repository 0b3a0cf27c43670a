// The precomputed method's JSONL reader (plugins/precomputed): the plugin's source is compiled
// into the target, so that its reader is called directly rather than through dlopen.
// Input (fuzz_common.h): the params JSON ({"method": ...}), then the JSONL file.
#include "../../plugins/precomputed/precomputed.cpp"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace attrib;
  fuzz::Input in;
  if (!fuzz::split_input(data, size, in) || in.files.empty()) return 0;
  return fuzz::run_one([&] {
    nlohmann::json given = in.params.find_first_not_of(" \t\r\n") == std::string::npos
                               ? nlohmann::json::object()
                               : parse_json_checked(in.params, "params");
    fuzz::Scratch& scratch = fuzz::Scratch::get();
    scratch.reset(in.files);
    if (given.is_object()) given["file"] = scratch.path(in.files.front().name);
    // As the registry does before creating a plugin: params resolved against its schema.
    const nlohmann::json params =
        resolve_params(nlohmann::json::parse(kMetadata)["params"], given, "params");
    Precomputed method(params);
  });
}
