#pragma once
// Text helpers shared by the report's sections and charts: escaping, number formatting, anchor
// ids and the diverging colour scale. The report is one self-contained page (report.h), so every
// piece of it is built as a string.
#include <initializer_list>
#include <string>

namespace attrib::report {

/// `text` with &, <, >, " and ' escaped: safe in element content and in quoted attributes.
std::string escape(const std::string& text);

/// `x` with `digits` significant digits ("0.123", "1.5e-05"), whole numbers in full ("1500");
/// "—" when x is NaN or infinite.
std::string fmt(double x, int digits = 3);

/// A short fixed-point number for SVG coordinates (one decimal, no trailing ".0").
std::string coord(double x);

/// A stable HTML id from parts: lower-case letters, digits and '-' (other characters become '-'),
/// joined by '--', so that links into the page survive re-rendering, e.g.
/// anchor({"lb", "planted", "transformer"}) == "lb--planted--transformer".
std::string anchor(std::initializer_list<std::string> parts);

/// Number of steps on each side of zero of the diverging scale (colour classes c-N .. cN).
constexpr int kColourSteps = 8;

/// The step of `value` on a symmetric scale of half-width `scale`: round(value / scale * steps),
/// clamped to [-kColourSteps, kColourSteps]; 0 when scale is 0 or either is undefined.
int colour_step(double value, double scale);

/// The diverging colour of step `s` (ColorBrewer RdBu, colour-blind safe: negative blue, zero
/// near white, positive red), as "#rrggbb".
std::string step_colour(int s);

/// CSS rules for every step: ".cS" (HTML: background, light text on the darkest steps) and
/// ".fS" (SVG fill), so that a coloured cell costs a class name, not a colour.
std::string colour_classes_css();

/// A categorical colour for series `i` (Okabe–Ito, colour-blind safe; repeats after 8).
std::string series_colour(size_t i);

}  // namespace attrib::report
