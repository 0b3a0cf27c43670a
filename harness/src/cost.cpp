#include "cost.h"

#include <cctype>
#include <cmath>
#include <set>
#include <sstream>

#include "attrib/error.h"

namespace attrib {
namespace {

// Recursive descent over: expr = term {(+|-) term}; term = power {(*|/) power};
// power = unary [^ power]; unary = [-] atom; atom = number | name | name(args) | (expr).
class Parser {
 public:
  Parser(const std::string& text, const std::map<std::string, double>& vars)
      : s_(text), vars_(vars) {}

  std::optional<double> parse() {
    const std::optional<double> v = expr();
    skip();
    if (!v || pos_ != s_.size()) return std::nullopt;
    return v;
  }

 private:
  void skip() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool eat(char c) {
    skip();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  std::optional<double> expr() {
    std::optional<double> v = term();
    while (v) {
      if (eat('+')) {
        const auto r = term();
        v = r ? std::optional<double>(*v + *r) : std::nullopt;
      } else if (eat('-')) {
        const auto r = term();
        v = r ? std::optional<double>(*v - *r) : std::nullopt;
      } else {
        break;
      }
    }
    return v;
  }
  std::optional<double> term() {
    std::optional<double> v = power();
    while (v) {
      if (eat('*')) {
        const auto r = power();
        v = r ? std::optional<double>(*v * *r) : std::nullopt;
      } else if (eat('/')) {
        const auto r = power();
        v = r && *r != 0 ? std::optional<double>(*v / *r) : std::nullopt;
      } else {
        break;
      }
    }
    return v;
  }
  std::optional<double> power() {
    const std::optional<double> base = unary();
    if (!base || !eat('^')) return base;
    const std::optional<double> e = power();
    return e ? std::optional<double>(std::pow(*base, *e)) : std::nullopt;
  }
  std::optional<double> unary() {
    if (eat('-')) {
      const auto v = unary();
      return v ? std::optional<double>(-*v) : std::nullopt;
    }
    return atom();
  }
  std::optional<double> atom() {
    skip();
    if (pos_ >= s_.size()) return std::nullopt;
    if (eat('(')) {
      const auto v = expr();
      return v && eat(')') ? v : std::nullopt;
    }
    const char c = s_[pos_];
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      size_t used = 0;
      double v = 0;
      try {
        v = std::stod(s_.substr(pos_), &used);
      } catch (const std::exception&) {
        return std::nullopt;
      }
      pos_ += used;
      return v;
    }
    if (!std::isalpha(static_cast<unsigned char>(c)) && c != '_') return std::nullopt;
    const size_t start = pos_;
    while (pos_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_'))
      ++pos_;
    const std::string name = s_.substr(start, pos_ - start);
    if (eat('(')) {
      std::vector<double> args;
      do {
        const auto a = expr();
        if (!a) return std::nullopt;
        args.push_back(*a);
      } while (eat(','));
      if (!eat(')')) return std::nullopt;
      if (name == "min" && args.size() == 2) return std::min(args[0], args[1]);
      if (name == "max" && args.size() == 2) return std::max(args[0], args[1]);
      if (name == "ceil" && args.size() == 1) return std::ceil(args[0]);
      if (name == "floor" && args.size() == 1) return std::floor(args[0]);
      return std::nullopt;
    }
    const auto it = vars_.find(name);
    if (it == vars_.end()) return std::nullopt;
    return it->second;
  }

  const std::string& s_;
  const std::map<std::string, double>& vars_;
  size_t pos_ = 0;
};

std::string strip_remark(const std::string& formula) {
  const size_t at = formula.find("(+ ");
  return at == std::string::npos ? formula : formula.substr(0, at);
}

}  // namespace

std::optional<double> evaluate_cost(const std::string& formula,
                                    const std::map<std::string, double>& vars) {
  const std::string text = strip_remark(formula);
  return Parser(text, vars).parse();
}

std::optional<double> estimate_rows(const nlohmann::json& metadata, const nlohmann::json& params,
                                    const std::vector<int64_t>& features_per_example) {
  const nlohmann::json cost = metadata.value("cost", nlohmann::json());
  if (!cost.is_object()) return std::nullopt;
  std::map<std::string, double> vars;
  for (const auto& [k, v] : params.items())
    if (v.is_number()) vars[k] = v.get<double>();
  // feature_ablation's groups: their distinct non-negative ids; otherwise one per feature.
  std::optional<double> groups;
  if (params.contains("groups") && params["groups"].is_array() && !params["groups"].empty()) {
    std::set<int64_t> ids;
    for (const auto& g : params["groups"])
      if (g.is_number_integer() && g.get<int64_t>() >= 0) ids.insert(g.get<int64_t>());
    groups = static_cast<double>(ids.size());
  }
  double total = 0;
  for (int64_t n : features_per_example) {
    vars["n_features"] = static_cast<double>(n);
    vars["n_groups"] = groups ? *groups : static_cast<double>(n);
    for (const char* key : {"forward_rows", "backward_rows"}) {
      if (!cost.contains(key)) continue;
      if (!cost[key].is_string()) return std::nullopt;
      const std::optional<double> rows = evaluate_cost(cost[key].get<std::string>(), vars);
      if (!rows) return std::nullopt;
      total += *rows;
    }
  }
  return total;
}

void check_cost(const std::string& method, const nlohmann::json& metadata,
                const nlohmann::json& params, const std::vector<int64_t>& features_per_example,
                double limit) {
  const std::optional<double> rows = estimate_rows(metadata, params, features_per_example);
  if (!rows || *rows <= limit) return;
  const nlohmann::json cost = metadata.value("cost", nlohmann::json::object());
  std::string formulas, used;
  for (const auto& [k, v] : cost.items()) {
    if (!v.is_string()) continue;
    formulas += (formulas.empty() ? "" : ", ") + k + " = " + v.get<std::string>();
    for (const auto& [p, value] : params.items())
      if (value.is_number() && v.get<std::string>().find(p) != std::string::npos &&
          used.find(" " + p + " ") == std::string::npos)
        used += " " + p + " = " + value.dump() + ",";
  }
  if (!used.empty()) used = " (params:" + used.substr(0, used.size() - 1) + ")";
  std::ostringstream msg;
  msg << "method '" << method << "' would need about " << *rows << " model rows on "
      << features_per_example.size() << " examples" << used << ", above the limit of " << limit
      << " (" << formulas << " per explanation); lower the parameter or run with --force";
  throw Error(msg.str());
}

}  // namespace attrib
