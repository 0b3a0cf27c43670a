#pragma once
// The report's charts as inline SVG: static markup that renders without JavaScript, sized in
// pixels with a viewBox so that it scales with the page. Undefined values (NaN) are left out of
// a chart, never drawn at 0.
#include <cmath>
#include <string>
#include <vector>

namespace attrib::report {

/// One row of a forest plot: a point estimate with its confidence interval.
struct ForestRow {
  std::string label;
  double mean = 0, low = 0, high = 0;
  bool best = false;  ///< drawn filled and bold
  bool tied = false;  ///< tied with the best: drawn hollow, with the label marked "="
  std::string note;   ///< shown instead of a point when the row has no value (an error)
};

/// Means with CIs, one row per item, on a shared axis. `direction` (+1 higher is better, -1 lower)
/// is written on the axis; `threshold` (when finite) is drawn as a dashed vertical line labelled
/// `threshold_label`.
std::string forest_plot(const std::vector<ForestRow>& rows, int direction, const std::string& title,
                        double threshold = NAN, const std::string& threshold_label = "");

/// One line of a line chart: y per x position with an optional CI band (empty: none).
struct Series {
  std::string name;
  std::vector<double> y, low, high;
};

/// Lines over categorical x positions (`x_labels`), y axis [y_min, y_max] (widened to the data),
/// a legend, and `threshold` as a dashed horizontal line when finite.
std::string line_chart(const std::vector<std::string>& x_labels, const std::vector<Series>& series,
                       const std::string& title, const std::string& y_label, double y_min,
                       double y_max, double threshold = NAN,
                       const std::string& threshold_label = "");

/// One bar of a bar chart.
struct Bar {
  std::string label;
  double value = 0, low = NAN, high = NAN;  ///< low/high: a range drawn as a whisker
  bool reference = false;                   ///< drawn in grey: the reference itself
};

/// Horizontal bars on a log10 axis (throughput spans orders of magnitude), the value printed at
/// each bar's end, and `reference` as a dashed vertical line when finite.
std::string log_bar_chart(const std::vector<Bar>& bars, const std::string& title,
                          const std::string& unit, double reference = NAN,
                          const std::string& reference_label = "");

/// A labelled square matrix coloured on the diverging scale of half-width `scale` (values in
/// [-scale, scale]), each cell's value printed in it; NaN cells are grey with "—".
std::string heatmap(const std::vector<std::string>& labels,
                    const std::vector<std::vector<double>>& values, const std::string& title,
                    double scale = 1.0);

/// A rows x cols grid of cells (a dense attribution map) coloured on the diverging scale of
/// half-width `scale`; `values` is row-major.
std::string grid_map(const std::vector<double>& values, int rows, int cols, double scale,
                     const std::string& title, int cell = 8);

/// The diverging colour legend: a bar from -scale to +scale with `caption` under it.
std::string colour_legend(const std::string& caption, const std::string& low_label,
                          const std::string& high_label);

}  // namespace attrib::report
