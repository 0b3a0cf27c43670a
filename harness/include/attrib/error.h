#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

#include "attrib/export.h"

namespace attrib {

/// Error raised by the SDK and the harness. The message is one line saying where (file:line,
/// JSON path, plugin name), what was expected and what was found.
class ATTRIB_SDK_API Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// The one-line message of the exception in flight, of any type; call it inside a catch block.
/// Code that calls plugins catches (...) with it: a plugin may throw something that is not a
/// std::exception (`throw 42`), which must become an error row, not end the run. A c10::Error's
/// C++ backtrace (after its first line) is dropped.
ATTRIB_SDK_API std::string in_flight_error();

}  // namespace attrib

/// Throws attrib::Error built from the streamed message parts unless `cond` holds. The message is
/// only built on failure. Say what was expected and what came:
///   ATTRIB_CHECK(x.dim() == 2, "inputs: expected 2 dimensions, got ", x.dim());
#define ATTRIB_CHECK(cond, ...)                                             \
  do {                                                                      \
    if (!(cond)) throw ::attrib::Error(::attrib::detail::cat(__VA_ARGS__)); \
  } while (0)

namespace attrib::detail {
template <typename... Args>
std::string cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace attrib::detail
