#include "report/html.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <sstream>

namespace attrib::report {

std::string escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string fmt(double x, int digits) {
  if (!std::isfinite(x)) return "—";
  // Whole numbers (counts, ranks, seeds) in full: 1500, not 1.5e+03.
  if (x == std::round(x) && std::abs(x) < 1e12) return std::to_string(static_cast<int64_t>(x));
  std::ostringstream os;
  os.precision(digits);
  os << x;
  return os.str();
}

std::string coord(double x) {
  if (!std::isfinite(x)) return "0";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", x);
  std::string s = buf;
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return s == "-0" ? "0" : s;
}

std::string anchor(std::initializer_list<std::string> parts) {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += "--";
    for (char c : p) {
      const unsigned char u = static_cast<unsigned char>(c);
      out += std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '-';
    }
  }
  return out;
}

int colour_step(double value, double scale) {
  if (!std::isfinite(value) || !std::isfinite(scale) || scale <= 0) return 0;
  const double s = std::round(value / scale * kColourSteps);
  return static_cast<int>(std::clamp(s, -double{kColourSteps}, double{kColourSteps}));
}

namespace {

struct Rgb {
  double r, g, b;
};

// ColorBrewer RdBu (11 classes), from strong blue (-1) through near white (0) to strong red (+1).
constexpr std::array<Rgb, 11> kRdBu = {{{5, 48, 97},
                                        {33, 102, 172},
                                        {67, 147, 195},
                                        {146, 197, 222},
                                        {209, 229, 240},
                                        {247, 247, 247},
                                        {253, 219, 199},
                                        {244, 165, 130},
                                        {214, 96, 77},
                                        {178, 24, 43},
                                        {103, 0, 31}}};

std::string hex(const Rgb& c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", static_cast<int>(std::lround(c.r)),
                static_cast<int>(std::lround(c.g)), static_cast<int>(std::lround(c.b)));
  return buf;
}

}  // namespace

std::string step_colour(int s) {
  s = std::clamp(s, -kColourSteps, kColourSteps);
  // The outermost anchors (near black) are left out: the strongest steps stay recognisably blue
  // or red, and light text on them stays readable.
  const double t = (static_cast<double>(s) / kColourSteps + 1.0) / 2.0;  // 0..1
  const double pos = 1.0 + t * 8.0;                                      // anchors 1..9
  const size_t i = std::min<size_t>(static_cast<size_t>(pos), kRdBu.size() - 2);
  const double f = pos - static_cast<double>(i);
  const Rgb& a = kRdBu[i];
  const Rgb& b = kRdBu[i + 1];
  return hex({a.r + (b.r - a.r) * f, a.g + (b.g - a.g) * f, a.b + (b.b - a.b) * f});
}

std::string colour_classes_css() {
  std::string css;
  for (int s = -kColourSteps; s <= kColourSteps; ++s) {
    const std::string n = std::to_string(s), colour = step_colour(s);
    css += ".c" + n + "{background:" + colour;
    if (std::abs(s) * 4 >= kColourSteps * 3) css += ";color:#fff";
    css += "}.f" + n + "{fill:" + colour + "}";
  }
  return css;
}

std::string series_colour(size_t i) {
  static const char* kOkabeIto[] = {"#0072b2", "#d55e00", "#009e73", "#cc79a7",
                                    "#e69f00", "#56b4e9", "#000000", "#f0e442"};
  return kOkabeIto[i % 8];
}

}  // namespace attrib::report
