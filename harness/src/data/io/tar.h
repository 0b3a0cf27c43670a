#pragma once
// Regular files of a gzip-compressed tar archive (ERASER ships its documents as docs.tar.gz),
// read in memory without unpacking to disk.
#include <functional>
#include <map>
#include <string>

namespace attrib {

/// Regular files of a gzip-compressed tar archive (ustar/GNU/pax names), keyed by their path in
/// the archive. When `want` is given only entries for which want(path) holds are kept. A kept
/// entry larger than 256 MiB and a truncated archive are errors naming the archive and entry.
std::map<std::string, std::string> read_tar_gz(
    const std::string& path, const std::function<bool(const std::string&)>& want = nullptr);

}  // namespace attrib
