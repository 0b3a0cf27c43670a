#include "data/io/python_literal.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "attrib/error.h"
#include "data/io/text_errors.h"

namespace attrib {

using nlohmann::json;

namespace {

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// ---------------------------------------------------------------------------------------------
// Python literals

class PyLiteralParser {
 public:
  PyLiteralParser(const std::string& text, const std::string& file, size_t line,
                  const std::string& what)
      : t_(text), file_(file), line_(line), what_(what) {}

  json parse() {
    skip();
    json v = value();
    skip();
    if (pos_ != t_.size()) fail("end of " + what_ + " after the value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& expected) const { fail_at(pos_, expected); }
  [[noreturn]] void fail_at(size_t pos, const std::string& expected) const {
    const size_t end = std::min(pos, t_.size());
    const size_t line = line_ + std::count(t_.begin(), t_.begin() + end, '\n');
    throw Error(file_line(file_, line) + what_ + ": expected " + expected + ", found " +
                describe_char(t_, pos) + " (character " + std::to_string(pos + 1) + ")");
  }
  bool eof() const { return pos_ >= t_.size(); }
  char peek() const { return eof() ? '\0' : t_[pos_]; }
  void skip() {
    while (!eof() && (t_[pos_] == ' ' || t_[pos_] == '\t' || t_[pos_] == '\n' || t_[pos_] == '\r'))
      ++pos_;
  }
  bool word(const char* w) {
    const size_t n = std::strlen(w);
    if (t_.compare(pos_, n, w) != 0) return false;
    if (pos_ + n < t_.size() &&
        (std::isalnum(static_cast<unsigned char>(t_[pos_ + n])) || t_[pos_ + n] == '_'))
      return false;
    pos_ += n;
    return true;
  }

  json value() {
    if (depth_ > 256) fail("nesting depth <= 256");
    const char c = peek();
    if (c == '[') return sequence(']');
    if (c == '(') return sequence(')');
    if (c == '{') return dict();
    if (c == '\'' || c == '"') return string(false);
    if ((c == 'u' || c == 'U' || c == 'r' || c == 'R') && pos_ + 1 < t_.size() &&
        (t_[pos_ + 1] == '\'' || t_[pos_ + 1] == '"')) {
      ++pos_;
      return string(c == 'r' || c == 'R');
    }
    if (c == '-' || c == '+' || c == '.' || std::isdigit(static_cast<unsigned char>(c)))
      return number();
    if (word("True")) return true;
    if (word("False")) return false;
    if (word("None")) return nullptr;
    fail("a value (string, number, list, tuple, dict, True, False or None)");
  }

  json sequence(char close) {
    ++pos_;
    ++depth_;
    json out = json::array();
    skip();
    while (peek() != close || eof()) {
      out.push_back(value());
      skip();
      if (peek() == ',') {
        ++pos_;
        skip();
      } else if (peek() != close || eof()) {
        fail(std::string("',' or '") + close + "'");
      }
    }
    ++pos_;
    --depth_;
    return out;
  }

  json dict() {
    ++pos_;
    ++depth_;
    json out = json::object();
    skip();
    while (peek() != '}' || eof()) {
      const size_t key_pos = pos_;
      const json key = value();
      std::string k;
      if (key.is_string())
        k = key.get<std::string>();
      else if (key.is_number_integer())
        k = key.dump();
      else
        fail_at(key_pos, "a string or integer dict key");
      skip();
      if (peek() != ':') fail("':' after a dict key");
      ++pos_;
      skip();
      out[k] = value();
      skip();
      if (peek() == ',') {
        ++pos_;
        skip();
      } else if (peek() != '}' || eof()) {
        fail("',' or '}'");
      }
    }
    ++pos_;
    --depth_;
    return out;
  }

  uint32_t hex(size_t digits, const char* esc) {
    uint32_t v = 0;
    for (size_t i = 0; i < digits; ++i) {
      const char c = peek();
      int d;
      if (c >= '0' && c <= '9')
        d = c - '0';
      else if (c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
      else
        fail(std::to_string(digits) + " hex digits after \\" + esc);
      v = v * 16 + d;
      ++pos_;
    }
    return v;
  }

  json string(bool raw) {
    const char q = t_[pos_];
    const bool triple = t_.compare(pos_, 3, std::string(3, q)) == 0;
    const size_t start = pos_;
    pos_ += triple ? 3 : 1;
    std::string out;
    for (;;) {
      if (eof())
        fail_at(pos_, std::string("closing ") + (triple ? std::string(3, q) : std::string(1, q)) +
                          " of the string starting at character " + std::to_string(start + 1));
      const char c = t_[pos_];
      if (c == q && (!triple || t_.compare(pos_, 3, std::string(3, q)) == 0)) {
        pos_ += triple ? 3 : 1;
        break;
      }
      if (c == '\n' && !triple) fail(std::string("closing ") + q + " before the end of the line");
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      ++pos_;
      if (eof()) fail("a character after '\\'");
      const char e = t_[pos_];
      if (raw) {  // raw strings keep the backslash; \' still does not end the string
        out += '\\';
        out += e;
        ++pos_;
        continue;
      }
      ++pos_;
      switch (e) {
        case '\n':
          break;  // line continuation
        case '\\':
          out += '\\';
          break;
        case '\'':
          out += '\'';
          break;
        case '"':
          out += '"';
          break;
        case 'a':
          out += '\a';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'v':
          out += '\v';
          break;
        case 'x':
          append_utf8(out, hex(2, "x"));
          break;
        case 'u':
        case 'U': {
          uint32_t cp = hex(e == 'u' ? 4 : 8, e == 'u' ? "u" : "U");
          // A UTF-16 surrogate pair written as two \u escapes is one character.
          if (cp >= 0xD800 && cp < 0xDC00 && t_.compare(pos_, 2, "\\u") == 0) {
            const size_t save = pos_;
            pos_ += 2;
            const uint32_t lo = hex(4, "u");
            if (lo >= 0xDC00 && lo < 0xE000)
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            else
              pos_ = save;
          }
          if (cp > 0x10FFFF) fail_at(pos_ - 8, "a code point <= 0x10FFFF after \\U");
          append_utf8(out, cp);
          break;
        }
        case 'N':
          fail_at(pos_ - 2, "a supported escape (\\N{...} is not supported)");
        default:
          if (e >= '0' && e <= '7') {
            uint32_t v = e - '0';
            for (int i = 0; i < 2 && peek() >= '0' && peek() <= '7'; ++i)
              v = v * 8 + (t_[pos_++] - '0');
            append_utf8(out, v);
          } else {  // Python keeps unknown escapes verbatim
            out += '\\';
            out += e;
          }
      }
    }
    return out;
  }

  json number() {
    const size_t start = pos_;
    if (peek() == '-' || peek() == '+') ++pos_;
    bool digits = false, real = false;
    while (std::isdigit(static_cast<unsigned char>(peek()))) ++pos_, digits = true;
    if (peek() == '.') {
      real = true;
      ++pos_;
      while (std::isdigit(static_cast<unsigned char>(peek()))) ++pos_, digits = true;
    }
    if (!digits) fail_at(start, "a number");
    if (peek() == 'e' || peek() == 'E') {
      real = true;
      ++pos_;
      if (peek() == '-' || peek() == '+') ++pos_;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("digits of an exponent");
      while (std::isdigit(static_cast<unsigned char>(peek()))) ++pos_;
    }
    if (std::isalpha(static_cast<unsigned char>(peek())) || peek() == '_')
      fail("a delimiter after the number");
    const std::string s = t_.substr(start, pos_ - start);
    errno = 0;
    if (real) return std::strtod(s.c_str(), nullptr);
    const long long v = std::strtoll(s.c_str(), nullptr, 10);
    if (errno == ERANGE) fail_at(start, "an integer within 64 bits");
    return static_cast<int64_t>(v);
  }

  const std::string& t_;
  const std::string& file_;
  size_t line_;
  const std::string& what_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

json parse_python_literal(const std::string& text, const std::string& file, size_t line,
                          const std::string& what) {
  return PyLiteralParser(text, file, line, what).parse();
}

}  // namespace attrib
