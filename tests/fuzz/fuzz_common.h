#pragma once
// What the libFuzzer targets share: the input format of the file-reading targets, a per-process
// scratch folder, and the rule for what counts as a clean outcome.
//
// Input format of the targets that read files (a dataset folder, a results file, ...):
//   PARAMS            text up to the first marker line (a JSON object; empty = {})
//   --8<-- NAME\n     a marker line: NAME is a file's path in the scratch folder
//   CONTENT           the file's bytes, up to the next marker line (its final '\n' included)
// so that one input can describe a whole dataset folder, and seeds stay readable text.
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <typeinfo>
#include <vector>

#include "attrib/error.h"

namespace attrib::fuzz {

struct File {
  std::string name, data;
};

struct Input {
  std::string params;
  std::vector<File> files;
};

inline constexpr char kMarker[] = "--8<-- ";

/// NAME of a marker line: relative, components of [A-Za-z0-9._-] other than "." and "..", at most
/// 4 deep; anything else could escape the scratch folder or make the file system the bottleneck.
inline bool safe_name(const std::string& name) {
  if (name.empty() || name.size() > 80 || name.front() == '/' || name.back() == '/') return false;
  int depth = 0;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    const std::string part = name.substr(start, end - start);
    if (part.empty() || part == "." || part == ".." || ++depth > 4) return false;
    for (const char c : part)
      if (!isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
    start = end + 1;
  }
  return true;
}

/// Splits an input as described above; false when a marker names an unsafe path.
inline bool split_input(const uint8_t* data, size_t size, Input& out) {
  // A leading '\n' lets a marker at offset 0 (no params) look like any other.
  const std::string text = "\n" + std::string(reinterpret_cast<const char*>(data), size);
  const std::string marker = std::string("\n") + kMarker;
  size_t pos = text.find(marker);
  out.params = text.substr(1, pos == std::string::npos ? std::string::npos : pos);
  while (pos != std::string::npos) {
    const size_t name_at = pos + marker.size();
    const size_t eol = text.find('\n', name_at);
    if (eol == std::string::npos) return false;
    File f;
    f.name = text.substr(name_at, eol - name_at);
    if (!safe_name(f.name)) return false;
    pos = text.find(marker, eol);
    f.data = text.substr(eol + 1, pos == std::string::npos ? std::string::npos : pos - eol);
    out.files.push_back(std::move(f));
  }
  return true;
}

/// A per-process scratch folder (removed at exit); every input starts from an empty one.
class Scratch {
 public:
  static Scratch& get() {
    static Scratch s;
    return s;
  }
  const std::string& dir() const { return dir_; }
  /// Empties the folder and writes `files` into it (later files of the same name win).
  void reset(const std::vector<File>& files) {
    namespace fs = std::filesystem;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir_)) fs::remove_all(entry.path(), ec);
    for (const File& f : files) {
      const fs::path p = fs::path(dir_) / f.name;
      fs::create_directories(p.parent_path(), ec);
      std::ofstream(p, std::ios::binary).write(f.data.data(), f.data.size());
    }
  }
  /// `name` in the folder.
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  Scratch() {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/attrib-fuzz-XXXXXX";
    if (!mkdtemp(templ.data())) std::abort();
    dir_ = templ;
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string dir_;
};

/// Runs `fn` on one input. An attrib::Error is the expected outcome for bad input; any other
/// exception breaks the project's contract ("every error on bad input is an attrib::Error": a
/// library exception such as nlohmann's type_error or std::length_error reaching the user means a
/// check is missing), so it is reported and the process aborts for libFuzzer to keep the input.
template <typename Fn>
int run_one(Fn&& fn) {
  try {
    fn();
  } catch (const attrib::Error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "==fuzz== uncaught %s: %s\n", typeid(e).name(), e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "==fuzz== uncaught exception of a type not derived from std::exception\n");
    std::abort();
  }
  return 0;
}

}  // namespace attrib::fuzz
