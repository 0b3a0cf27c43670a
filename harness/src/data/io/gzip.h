#pragma once
// gzip (zlib) reading: whole files and bounded reads. zlib passes plain data through unchanged,
// so every caller reads compressed and uncompressed files alike.
#include <cstddef>
#include <string>

namespace attrib {

/// Up to `len` bytes from the zlib stream `gz` (a gzFile: gzip or plain data) into `buf`, read in
/// chunks of at most 1 MiB; fewer only at the end of the data. A read error throws attrib::Error
/// naming `path`. Readers check sizes that headers claim against what this returns, never
/// allocating what a header claims.
size_t gz_read_upto(void* gz, char* buf, size_t len, const std::string& path);

/// A whole file, gunzipped when it is gzip data. Errors name `path`.
std::string read_maybe_gz(const std::string& path);

}  // namespace attrib
