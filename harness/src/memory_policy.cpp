#include "memory_policy.h"

#include <malloc.h>

#include <cstdlib>
#include <cstring>

namespace attrib {

namespace {

constexpr int kMmapThreshold = 32 << 20;  // glibc's largest allowed value on 64-bit
constexpr int kTrimThreshold = 1 << 30;
const char* g_policy = "default";

bool user_tuned_malloc() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  return (tunables && std::strstr(tunables, "malloc")) || std::getenv("MALLOC_MMAP_THRESHOLD_") ||
         std::getenv("MALLOC_TRIM_THRESHOLD_");
}

}  // namespace

void keep_freed_memory() {
  const char* choice = std::getenv("ATTRIB_MALLOC");
  if (choice && std::strcmp(choice, "default") == 0) return;  // glibc's own behaviour
  if (user_tuned_malloc()) {
    g_policy = "user";
    return;
  }
  if (mallopt(M_MMAP_THRESHOLD, kMmapThreshold) == 1 &&
      mallopt(M_TRIM_THRESHOLD, kTrimThreshold) == 1)
    g_policy = "kept";
}

nlohmann::json memory_policy() {
  nlohmann::json j = {{"malloc", g_policy}};
  if (std::strcmp(g_policy, "kept") == 0) {
    j["mmap_threshold_bytes"] = kMmapThreshold;
    j["trim_threshold_bytes"] = kTrimThreshold;
  }
  return j;
}

}  // namespace attrib
