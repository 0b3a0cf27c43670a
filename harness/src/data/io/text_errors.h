#pragma once
// Pieces of the "FILE:LINE: what: expected ..., found ..." messages every parser and reader of
// user data gives, written once so that all of them name places and characters alike.
#include <cstddef>
#include <string>

namespace attrib {

/// "FILE:LINE: ", the prefix of an error about line `line` of `file`.
std::string file_line(const std::string& file, size_t line);

/// The character at `pos` of `s` for "found ..." messages: 'x' (a whole UTF-8 sequence), "a line
/// break", "byte 0x1f" for other control bytes, or "end of text".
std::string describe_char(const std::string& s, size_t pos);

}  // namespace attrib
