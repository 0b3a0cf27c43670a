#pragma once
// How freed memory is kept. glibc serves every allocation above its mmap threshold (128 KiB at
// first, adjusted as blocks are freed) with a fresh mmap and unmaps it on free, so a model call
// whose tensors are larger than that faults in and zeroes new pages every time: on the
// development VM a third of integrated gradients' time went to the kernel's page handling and
// IG ran at 0.4 of the model's limit. attrib keeps freed memory in the heap for reuse instead.
#include <nlohmann/json.hpp>

namespace attrib {

/// Raises glibc's mmap threshold to 32 MiB (fixed) and its trim threshold to 1 GiB, unless the
/// user tuned malloc (GLIBC_TUNABLES with "malloc", or MALLOC_MMAP_THRESHOLD_ /
/// MALLOC_TRIM_THRESHOLD_): then theirs stands; ATTRIB_MALLOC=default keeps glibc's behaviour. Call
/// once, first thing in main. Only where memory comes from changes, never a number; the peak
/// resident set stays the peak of live data plus what the heap keeps for reuse.
void keep_freed_memory();

/// What keep_freed_memory() did, for the run context: {"malloc": "kept" | "user" | "default",
/// "mmap_threshold_bytes", "trim_threshold_bytes" (when kept)}.
nlohmann::json memory_policy();

}  // namespace attrib
