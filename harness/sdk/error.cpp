#include "attrib/error.h"

#include <exception>

namespace attrib {

std::string in_flight_error() {
  try {
    throw;
  } catch (const std::exception& e) {
    std::string s = e.what();
    const auto nl = s.find('\n');
    return nl == std::string::npos ? s : s.substr(0, nl);
  } catch (...) {
    return "unknown exception (a type not derived from std::exception)";
  }
}

}  // namespace attrib
