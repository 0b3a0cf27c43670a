#include "attrib/user_input.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstddef>

#include "attrib/error.h"

namespace attrib {

using nlohmann::json;

namespace {

// Builds the document through nlohmann's own DOM builder, counting the depth: a container that
// would be nested deeper than kMaxJsonDepth stops the (iterative) parser at once. Errors are
// recorded, not thrown, so that the caller can name the position.
class LimitedSax {
 public:
  explicit LimitedSax(json& result) : dom_(result, /*allow_exceptions=*/false) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(json::number_float_t v, const json::string_t& s) {
    return dom_.number_float(v, s);
  }
  bool string(json::string_t& v) { return dom_.string(v); }
  bool binary(json::binary_t& v) { return dom_.binary(v); }
  bool key(json::string_t& v) { return dom_.key(v); }
  bool start_object(std::size_t n) { return enter() && dom_.start_object(n); }
  bool end_object() {
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) { return enter() && dom_.start_array(n); }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t position, const std::string& token,
                   const nlohmann::detail::exception& e) {
    position_ = position;
    token_ = token;
    id_ = e.id;
    what_ = e.what();
    return false;
  }

  bool too_deep() const { return too_deep_; }
  int id() const { return id_; }
  std::size_t position() const { return position_; }
  const std::string& token() const { return token_; }
  const std::string& what() const { return what_; }

 private:
  bool enter() {
    if (++depth_ <= kMaxJsonDepth) return true;
    too_deep_ = true;
    return false;
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  int depth_ = 0;
  bool too_deep_ = false;
  int id_ = 0;
  std::size_t position_ = 0;
  std::string token_, what_;
};

// Byte offset (0-based) of the bracket that opens level kMaxJsonDepth + 1, skipping strings.
std::size_t too_deep_offset(const std::string& text) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return text.size();
}

std::string where(const std::string& text, const std::string& source, std::size_t offset) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  if (source.empty() && line == 1) return "column " + std::to_string(col);
  return (source.empty() ? std::string("<value>") : source) + ":" + std::to_string(line) + ":" +
         std::to_string(col);
}

}  // namespace

json parse_json_checked(const std::string& text, const std::string& source, bool* syntax_error) {
  json result;
  LimitedSax sax(result);
  if (json::sax_parse(text, &sax)) return result;
  if (sax.too_deep())
    throw Error(where(text, source, too_deep_offset(text)) + ": nesting deeper than " +
                std::to_string(kMaxJsonDepth) + " levels");
  // The position is the number of bytes read, the offending token included.
  const std::size_t end = std::min(sax.position(), text.size());
  if (sax.id() == 406)  // out_of_range: number overflow
    throw Error(where(text, source, end - std::min(end, sax.token().size())) +
                ": expected a finite number, got " + sax.token());
  if (syntax_error) {
    *syntax_error = true;
    return json(json::value_t::discarded);
  }
  std::string what = sax.what();
  const auto pos = what.find("parse error");
  if (pos != std::string::npos) what = what.substr(pos);
  throw Error(where(text, source, end ? end - 1 : 0) + ": invalid JSON (" + what + ")");
}

bool is_safe_path_component(const std::string& name) {
  if (name.empty() || name.size() > 100 || name == "." || name == "..") return false;
  for (const char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-')
      return false;
  return true;
}

}  // namespace attrib
