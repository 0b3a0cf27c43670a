// `attrib export RUN_DIR`: writes the attributions a run kept in RUN_DIR/store.sqlite.
#include "store/export.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "command.h"
#include "files.h"

namespace fs = std::filesystem;

namespace attrib::cli {

namespace {

void add_options(CLI::App& app) {
  app.description(
      "Writes the attributions of the latest run in RUN_DIR/store.sqlite: one score per word "
      "(text)\nor per input element (dense). jsonl is the `precomputed` method's input format, "
      "so an export\nis evaluated again with {\"plugin\": \"precomputed\", \"params\": {\"file\": "
      "F, \"method\": M}}.");
  add_value(app, "--format", "jsonl|npz", "output format (default jsonl)");
  add_value(app, "--method", "M", "only this method (default: every method)");
  add_value(app, "--dataset", "D", "only this dataset");
  add_value(app, "--model", "M", "only this model");
  add_value(app, "--output", "FILE",
            "output file (default RUN_DIR/attributions.jsonl or .npz; - for stdout with jsonl)");
}

int run(const Args& args) {
  if (args.positional().size() != 1)
    throw UsageError("expected one RUN_DIR, got " + std::to_string(args.positional().size()));
  const std::string dir = args.positional()[0];
  const std::string format = args.value("--format", "jsonl");
  if (format != "jsonl" && format != "npz")
    throw UsageError("--format: expected jsonl or npz, got \"" + format + "\"");
  const fs::path store_path = fs::path(dir) / "store.sqlite";
  if (!fs::exists(store_path))
    throw InputError(store_path.string() + ": no run store (run `attrib run ... --out " + dir +
                     "` first)");
  RunStore store(store_path.string(), /*read_only=*/true);
  const ExportFilter filter{args.value("--method"), args.value("--dataset"), args.value("--model")};
  const std::string output =
      args.value("--output", (fs::path(dir) / ("attributions." + format)).string());
  ExportSummary sum;
  if (format == "npz") {
    if (output == "-") throw UsageError("--output -: npz is written to a file");
    sum = export_npz(store, output, filter);
  } else if (output == "-") {
    sum = export_jsonl(store, std::cout, filter);
  } else {
    std::ostringstream text;
    sum = export_jsonl(store, text, filter);
    write_file_atomically(output, text.str());
  }
  if (sum.examples == 0)
    throw InputError(store_path.string() + ": no explanation matches --dataset/--model");
  std::cerr << "attrib export: " << sum.examples << " explanations of " << sum.methods.size()
            << " method(s)" << (output == "-" ? "" : " -> " + output) << "\n";
  return kOk;
}

}  // namespace

const Command kExportCommand = {
    "export",
    "RUN_DIR",
    "export a run's attributions from its store (jsonl for `precomputed`, or npz)",
    "RUN_DIR [--format jsonl|npz] [--method M] [--output FILE]",
    add_options,
    run,
};

}  // namespace attrib::cli
