#pragma once
// Files and folders written by the reader tests (datasets_test.cpp, dense_data_test.cpp).
#include <filesystem>
#include <fstream>
#include <string>

#include "attrib/error.h"

namespace attrib_test::files {

/// The message of the attrib::Error that f() throws, or "(no error)".
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const attrib::Error& e) {
    return e.what();
  }
  return "(no error)";
}

/// A fresh, empty folder ATTRIB_TEST_TMP/<group>/<name> for one test.
inline std::filesystem::path fresh_dir(const std::string& group, const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(ATTRIB_TEST_TMP) / group / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

/// Writes `bytes` to `path`, creating its folder.
inline void write(const std::filesystem::path& path, const std::string& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

}  // namespace attrib_test::files
