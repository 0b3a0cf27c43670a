#pragma once
namespace attrib {
/// The default suite (suites/default/suite.json), embedded at build time.
const char* default_suite_json();
}  // namespace attrib
