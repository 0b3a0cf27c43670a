#include "report/svg.h"

#include <algorithm>
#include <cmath>

#include "report/html.h"

namespace attrib::report {

namespace {

constexpr double kRow = 18;  // row height of forest plots and bar charts

struct Domain {
  double lo = 0, hi = 1;
  /// Position of v in [x0, x1].
  double at(double v, double x0, double x1) const { return x0 + (v - lo) / (hi - lo) * (x1 - x0); }
};

/// The range of the finite values, padded by 5 % (a single value: ±0.5 or ±10 %).
Domain domain_of(const std::vector<double>& values) {
  double lo = HUGE_VAL, hi = -HUGE_VAL;
  for (double v : values)
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (lo > hi) return {0, 1};
  if (hi - lo < 1e-12) {
    const double pad = lo == 0 ? 0.5 : std::abs(lo) * 0.1;
    return {lo - pad, hi + pad};
  }
  const double pad = (hi - lo) * 0.05;
  return {lo - pad, hi + pad};
}

/// About `n` round tick values inside the domain (steps of 1, 2 or 5 times a power of ten).
std::vector<double> ticks(const Domain& d, int n = 5) {
  const double raw = (d.hi - d.lo) / n;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  double step = p;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * p) {
      step = m * p;
      break;
    }
  std::vector<double> out;
  for (double t = std::ceil(d.lo / step) * step; t <= d.hi + step * 1e-9; t += step)
    out.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return out;
}

std::string open_svg(double w, double h, const std::string& title) {
  return "<svg class=\"chart\" width=\"" + coord(w) + "\" height=\"" + coord(h) +
         "\" viewBox=\"0 0 " + coord(w) + " " + coord(h) + "\" role=\"img\" aria-label=\"" +
         escape(title) + "\"><text class=\"ct\" x=\"4\" y=\"14\">" + escape(title) + "</text>";
}

std::string text(double x, double y, const std::string& s, const char* anchor = "start",
                 const std::string& cls = "") {
  return "<text x=\"" + coord(x) + "\" y=\"" + coord(y) + "\"" +
         (std::string(anchor) == "start" ? "" : " text-anchor=\"" + std::string(anchor) + "\"") +
         (cls.empty() ? "" : " class=\"" + cls + "\"") + ">" + escape(s) + "</text>";
}

std::string line(double x1, double y1, double x2, double y2, const std::string& cls) {
  return "<line x1=\"" + coord(x1) + "\" y1=\"" + coord(y1) + "\" x2=\"" + coord(x2) + "\" y2=\"" +
         coord(y2) + "\" class=\"" + cls + "\"/>";
}

/// Vertical grid lines with tick labels under the plot (x axis of forest plots).
std::string x_axis(const Domain& d, double x0, double x1, double top, double bottom,
                   const std::vector<double>& at) {
  std::string out;
  for (double t : at) {
    const double x = d.at(t, x0, x1);
    out += line(x, top, x, bottom, "grid") + text(x, bottom + 12, fmt(t), "middle", "tick");
  }
  return out;
}

std::string shorten(const std::string& s, size_t n) {
  return s.size() <= n ? s : s.substr(0, n - 1) + "…";
}

}  // namespace

std::string forest_plot(const std::vector<ForestRow>& rows, int direction, const std::string& title,
                        double threshold, const std::string& threshold_label) {
  const double label_w = 130, w = 360, top = 24, x0 = label_w + 8, x1 = w - 14;
  const double bottom = top + kRow * static_cast<double>(rows.size()) + 4;
  const double h = bottom + 30;
  std::vector<double> values{threshold};
  for (const ForestRow& r : rows) values.insert(values.end(), {r.mean, r.low, r.high});
  const Domain d = domain_of(values);
  std::string out = open_svg(w, h, title) + x_axis(d, x0, x1, top, bottom, ticks(d, 4));
  out +=
      text((x0 + x1) / 2, h - 4,
           direction < 0 ? "← better (lower is better)" : "higher is better →", "middle", "tick");
  if (std::isfinite(threshold)) {
    const double x = d.at(threshold, x0, x1);
    out +=
        line(x, top - 4, x, bottom, "thr") + text(x + 3, top + 2, threshold_label, "start", "thrl");
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    const ForestRow& r = rows[i];
    const double y = top + kRow * (static_cast<double>(i) + 0.5);
    const std::string label = (r.tied ? "= " : "") + shorten(r.label, 21);
    out += "<g><title>" + escape(r.label) + ": " +
           (r.note.empty() ? fmt(r.mean) + " [" + fmt(r.low) + ", " + fmt(r.high) + "]" +
                                 (r.best   ? " (best)"
                                  : r.tied ? " (tied with the best)"
                                           : "")
                           : r.note) +
           "</title>" + text(label_w, y + 4, label, "end", r.best ? "lb best" : "lb");
    if (!r.note.empty()) {
      out += text(x0, y + 4, shorten(r.note, 48), "start", "err") + "</g>";
      continue;
    }
    if (std::isfinite(r.low) && std::isfinite(r.high))
      out += line(d.at(r.low, x0, x1), y, d.at(r.high, x0, x1), y, r.best ? "ci best" : "ci");
    if (std::isfinite(r.mean))
      out += "<circle cx=\"" + coord(d.at(r.mean, x0, x1)) + "\" cy=\"" + coord(y) +
             "\" r=\"4\" class=\"" +
             (r.best   ? "pt best"
              : r.tied ? "pt tied"
                       : "pt") +
             "\"/>";
    out += "</g>";
  }
  return out + "</svg>";
}

std::string line_chart(const std::vector<std::string>& x_labels, const std::vector<Series>& series,
                       const std::string& title, const std::string& y_label, double y_min,
                       double y_max, double threshold, const std::string& threshold_label) {
  const double left = 46, top = 26, plot_w = std::max(220.0, 56.0 * x_labels.size());
  const double plot_h = 170, legend_w = 170;
  const double x0 = left, x1 = left + plot_w, y0 = top + plot_h, y1 = top;
  const double w = x1 + 16 + legend_w, h = std::max(y0 + 78, top + 16.0 * series.size() + 10);
  std::vector<double> values{y_min, y_max, threshold};
  for (const Series& s : series) {
    values.insert(values.end(), s.y.begin(), s.y.end());
    values.insert(values.end(), s.low.begin(), s.low.end());
    values.insert(values.end(), s.high.begin(), s.high.end());
  }
  Domain d = domain_of(values);
  d.lo = std::min(d.lo, y_min), d.hi = std::max(d.hi, y_max);
  auto xs = [&](size_t i) {
    return x_labels.size() <= 1
               ? (x0 + x1) / 2
               : x0 + (x1 - x0) * static_cast<double>(i) / static_cast<double>(x_labels.size() - 1);
  };
  std::string out = open_svg(w, h, title);
  for (double t : ticks(d, 4)) {
    const double y = d.at(t, y0, y1);
    out += line(x0, y, x1, y, "grid") + text(x0 - 4, y + 3, fmt(t), "end", "tick");
  }
  out += text(12, (y0 + y1) / 2, y_label, "middle", "tick vl");
  for (size_t i = 0; i < x_labels.size(); ++i)
    out += "<text x=\"" + coord(xs(i)) + "\" y=\"" + coord(y0 + 12) +
           "\" text-anchor=\"end\" class=\"tick\" transform=\"rotate(-30 " + coord(xs(i)) + " " +
           coord(y0 + 12) + ")\">" + escape(shorten(x_labels[i], 20)) + "</text>";
  if (std::isfinite(threshold)) {
    const double y = d.at(threshold, y0, y1);
    out += line(x0, y, x1, y, "thr") + text(x1 - 2, y - 3, threshold_label, "end", "thrl");
  }
  for (size_t k = 0; k < series.size(); ++k) {
    const Series& s = series[k];
    const std::string colour = series_colour(k);
    out += "<g><title>" + escape(s.name) + "</title>";
    std::string band_up, band_down, pts, dots;
    for (size_t i = 0; i < s.y.size() && i < x_labels.size(); ++i) {
      if (i < s.low.size() && i < s.high.size() && std::isfinite(s.low[i]) &&
          std::isfinite(s.high[i])) {
        band_up += coord(xs(i)) + "," + coord(d.at(s.high[i], y0, y1)) + " ";
        band_down = coord(xs(i)) + "," + coord(d.at(s.low[i], y0, y1)) + " " + band_down;
      }
      if (!std::isfinite(s.y[i])) continue;
      const std::string p = coord(xs(i)) + "," + coord(d.at(s.y[i], y0, y1));
      pts += p + " ";
      dots += "<circle cx=\"" + coord(xs(i)) + "\" cy=\"" + coord(d.at(s.y[i], y0, y1)) +
              "\" r=\"2.5\" fill=\"" + colour + "\"/>";
    }
    if (!band_up.empty())
      out += "<polygon points=\"" + band_up + band_down + "\" fill=\"" + colour +
             "\" fill-opacity=\".12\"/>";
    out += "<polyline points=\"" + pts + "\" fill=\"none\" stroke=\"" + colour +
           "\" stroke-width=\"1.6\"" + (k >= 8 ? " stroke-dasharray=\"5 3\"" : "") + "/>" + dots +
           "</g>";
    const double ly = top + 16.0 * static_cast<double>(k);
    out += "<line x1=\"" + coord(x1 + 16) + "\" y1=\"" + coord(ly) + "\" x2=\"" + coord(x1 + 34) +
           "\" y2=\"" + coord(ly) + "\" stroke=\"" + colour + "\" stroke-width=\"3\"" +
           (k >= 8 ? " stroke-dasharray=\"5 3\"" : "") + "/>" +
           text(x1 + 38, ly + 4, shorten(s.name, 22), "start", "tick");
  }
  return out + "</svg>";
}

namespace {

std::string si(double v) {
  const char* suffix[] = {"", "k", "M", "G"};
  int i = 0;
  while (std::abs(v) >= 1000 && i < 3) v /= 1000, ++i;
  return fmt(v, 3) + suffix[i];
}

}  // namespace

std::string log_bar_chart(const std::vector<Bar>& bars, const std::string& title,
                          const std::string& unit, double reference,
                          const std::string& reference_label) {
  const double label_w = 170, w = 500, top = 36, x0 = label_w + 8, x1 = w - 70;
  const double bottom = top + kRow * static_cast<double>(bars.size()) + 4, h = bottom + 30;
  double lo = HUGE_VAL, hi = -HUGE_VAL;
  for (const Bar& b : bars)
    for (double v : {b.value, b.low, b.high})
      if (std::isfinite(v) && v > 0) lo = std::min(lo, v), hi = std::max(hi, v);
  if (std::isfinite(reference) && reference > 0)
    lo = std::min(lo, reference), hi = std::max(hi, reference);
  if (lo > hi) lo = 1, hi = 10;
  const Domain d{std::floor(std::log10(lo)),
                 std::max(std::ceil(std::log10(hi)), std::floor(std::log10(lo)) + 1)};
  std::string out = open_svg(w, h, title);
  for (double e = d.lo; e <= d.hi + 1e-9; ++e) {
    const double x = d.at(e, x0, x1);
    out += line(x, top, x, bottom, "grid") +
           text(x, bottom + 12, si(std::pow(10, e)), "middle", "tick");
  }
  out += text((x0 + x1) / 2, h - 4, unit + " (log scale)", "middle", "tick");
  auto xv = [&](double v) { return d.at(std::log10(v), x0, x1); };
  for (size_t i = 0; i < bars.size(); ++i) {
    const Bar& b = bars[i];
    const double y = top + kRow * static_cast<double>(i);
    out += "<g><title>" + escape(b.label) + ": " + fmt(b.value) + " " + escape(unit) +
           (std::isfinite(b.low) ? " (min " + fmt(b.low) + ", max " + fmt(b.high) + ")" : "") +
           "</title>" + text(label_w, y + 13, shorten(b.label, 26), "end", "lb");
    if (std::isfinite(b.value) && b.value > 0) {
      out += "<rect x=\"" + coord(x0) + "\" y=\"" + coord(y + 3) + "\" width=\"" +
             coord(std::max(1.0, xv(b.value) - x0)) + "\" height=\"12\" class=\"" +
             (b.reference ? "bar ref" : "bar") + "\"/>";
      if (std::isfinite(b.low) && std::isfinite(b.high) && b.low > 0)
        out += line(xv(b.low), y + 9, xv(b.high), y + 9, "wh");
      out += text(std::max(xv(b.value), std::isfinite(b.high) && b.high > 0 ? xv(b.high) : 0) + 4,
                  y + 13, si(b.value), "start", "tick");
    }
    out += "</g>";
  }
  if (std::isfinite(reference) && reference > 0) {
    const double x = xv(reference);
    out += line(x, top - 10, x, bottom, "thr") +
           text(x + 3, top - 3, reference_label, "start", "thrl");
  }
  return out + "</svg>";
}

std::string heatmap(const std::vector<std::string>& labels,
                    const std::vector<std::vector<double>>& values, const std::string& title,
                    double scale) {
  const double cell = 36, left = 140, top = 110;
  const double n = static_cast<double>(labels.size());
  // Room on the right for the last rotated column label.
  const double w = left + cell * n + 90, h = top + cell * n + 8;
  std::string out = open_svg(w, h, title);
  for (size_t i = 0; i < labels.size(); ++i) {
    const double y = top + cell * (static_cast<double>(i) + 0.5);
    const double x = left + cell * (static_cast<double>(i) + 0.5);
    out += text(left - 4, y + 4, shorten(labels[i], 22), "end", "lb");
    out += "<text x=\"" + coord(x) + "\" y=\"" + coord(top - 4) +
           "\" class=\"lb\" transform=\"rotate(-45 " + coord(x) + " " + coord(top - 4) + ")\">" +
           escape(shorten(labels[i], 18)) + "</text>";
  }
  for (size_t i = 0; i < labels.size() && i < values.size(); ++i)
    for (size_t j = 0; j < labels.size() && j < values[i].size(); ++j) {
      const double v = values[i][j];
      const double x = left + cell * static_cast<double>(j),
                   y = top + cell * static_cast<double>(i);
      const int s = colour_step(v, scale);
      out += "<g><title>" + escape(labels[i]) + " × " + escape(labels[j]) + ": " + fmt(v) +
             "</title><rect x=\"" + coord(x) + "\" y=\"" + coord(y) + "\" width=\"" +
             coord(cell - 1) + "\" height=\"" + coord(cell - 1) + "\" class=\"" +
             (std::isfinite(v) ? "f" + std::to_string(s) : std::string("na")) + "\"/>" +
             text(x + cell / 2, y + cell / 2 + 3, std::isfinite(v) ? fmt(v, 2) : "—", "middle",
                  std::abs(s) * 4 >= kColourSteps * 3 ? "cv light" : "cv") +
             "</g>";
    }
  return out + "</svg>";
}

std::string grid_map(const std::vector<double>& values, int rows, int cols, double scale,
                     const std::string& title, int cell) {
  // One path per colour step (cells in viewBox units of one cell each): a 28 x 28 map costs a
  // few kB instead of one element per cell. Step 0 is the white background.
  std::vector<std::string> paths(2 * kColourSteps + 1);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const size_t k = static_cast<size_t>(r) * static_cast<size_t>(cols) + static_cast<size_t>(c);
      if (k >= values.size()) break;
      const int s = colour_step(values[k], scale);
      if (s != 0)
        paths[static_cast<size_t>(s + kColourSteps)] +=
            "M" + std::to_string(c) + " " + std::to_string(r) + "h1v1h-1z";
    }
  const int w = cols * cell, h = rows * cell;
  std::string out = "<svg class=\"map\" width=\"" + std::to_string(w) + "\" height=\"" +
                    std::to_string(h) + "\" viewBox=\"0 0 " + std::to_string(cols) + " " +
                    std::to_string(rows) +
                    "\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"" + escape(title) +
                    "\"><title>" + escape(title) + "</title><rect width=\"" + std::to_string(cols) +
                    "\" height=\"" + std::to_string(rows) + "\" class=\"f0\"/>";
  for (size_t i = 0; i < paths.size(); ++i)
    if (!paths[i].empty())
      out += "<path class=\"f" + std::to_string(static_cast<int>(i) - kColourSteps) + "\" d=\"" +
             paths[i] + "\"/>";
  return out + "</svg>";
}

std::string colour_legend(const std::string& caption, const std::string& low_label,
                          const std::string& high_label) {
  const double cell = 14, n = 2 * kColourSteps + 1, w = cell * n + 4;
  std::string out = "<svg class=\"legend\" width=\"" + coord(w) +
                    "\" height=\"34\" viewBox=\"0 0 " + coord(w) +
                    " 34\" role=\"img\" aria-label=\"" + escape(caption) + "\">";
  for (int s = -kColourSteps; s <= kColourSteps; ++s)
    out += "<rect x=\"" + coord(2 + cell * (s + kColourSteps)) + "\" y=\"2\" width=\"" +
           coord(cell) + "\" height=\"12\" class=\"f" + std::to_string(s) + "\"/>";
  out += text(2, 28, low_label, "start", "tick") + text(w / 2, 28, "0", "middle", "tick") +
         text(w - 2, 28, high_label, "end", "tick");
  return out + "</svg> <span class=\"cap\">" + escape(caption) + "</span>";
}

}  // namespace attrib::report
