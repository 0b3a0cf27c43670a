// The report page: the sections in one self-contained HTML file.
#include "report/report.h"

#include <filesystem>
#include <memory>

#include "attrib/error.h"
#include "config.h"
#include "files.h"
#include "json_values.h"
#include "report/html.h"
#include "report/sections.h"
#include "store/store.h"

namespace attrib {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Inline style: system fonts only (nothing is fetched), print-friendly, tables beside charts
// when the window is wide enough.
constexpr const char* kStyle = R"css(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
max-width:1280px;padding:0 16px 40px;color:#222;background:#fff}
h1{font-size:22px;margin:18px 0 4px}h2{font-size:19px;border-bottom:2px solid #ddd;
padding-bottom:3px;margin-top:34px}h3{font-size:16px;margin:22px 0 6px}h4{font-size:14px;
margin:14px 0 4px}small{color:#666;font-weight:normal}
nav a{margin-right:12px}.note{color:#555;font-size:13px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:8px 0}
dl.facts dt{color:#555}dl.facts dd{margin:0;font-family:ui-monospace,monospace;font-size:13px}
table{border-collapse:collapse;font-size:12.5px;margin:4px 0}
th,td{padding:2px 7px;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}
table.sort th{cursor:pointer;background:#f4f4f4;white-space:nowrap}td.n{text-align:right;
font-variant-numeric:tabular-nums}tr.top td{font-weight:600}tr.error td{background:#fff3f3}
.err{color:#b00020}.msg{max-width:36em}td.pass{color:#1a7a3a}td.fail{color:#b00020;font-weight:600}
.pair{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}
.charts{display:flex;flex-wrap:wrap;gap:14px}
svg.chart{background:#fff;border:1px solid #eee;max-width:100%;height:auto}
svg text{font:11px system-ui,sans-serif;fill:#333}svg .ct{font-weight:600;font-size:12px}
svg .tick{fill:#555;font-size:10px}svg .lb.best{font-weight:700}svg .vl{writing-mode:vertical-rl}
svg .grid{stroke:#eee}svg .thr{stroke:#b00020;stroke-dasharray:5 3;stroke-width:1.3}
svg .thrl{fill:#b00020;font-size:10px}svg .ci{stroke:#4a6fa5;stroke-width:2}
svg .ci.best{stroke:#000;stroke-width:2.5}svg .pt{fill:#4a6fa5}svg .pt.best{fill:#000}
svg .pt.tied{fill:#fff;stroke:#000;stroke-width:1.5}svg .err{fill:#b00020}
svg .bar{fill:#4a6fa5}svg .bar.ref{fill:#999}svg .wh{stroke:#222;stroke-width:1}
svg .na{fill:#ddd}svg .cv{font-size:9.5px;fill:#222}svg .cv.light{fill:#fff}
details{margin:6px 0}summary{cursor:pointer;font-weight:600}
.ex{border-top:1px solid #eee;padding:4px 0}.ex h4{margin:6px 0 2px}
table.lines th{font-weight:600;white-space:nowrap;background:none;font-size:12px}
table.lines td.sc{font-size:11px;color:#555}.scale{font-size:11px;color:#555;white-space:nowrap}
.toks i{font-style:normal;padding:1px 2px;border-radius:2px;line-height:1.9}
.toks i.sp{font-style:italic;opacity:.75}.toks .w{border-bottom:2px solid #888;padding-bottom:1px}
.cap{font-size:12px;color:#555}svg.map{border:1px solid #ccc;vertical-align:middle}
)css";

// Sorting and the example filter. The page is complete without it.
constexpr const char* kScript = R"js(
(function(){
function key(c){return c&&c.dataset.v!==undefined?(c.dataset.v===''?Infinity:+c.dataset.v):null;}
document.querySelectorAll('table.sort th').forEach(function(th){
th.addEventListener('click',function(){
var t=th.closest('table'),b=t.tBodies[0],i=Array.prototype.indexOf.call(th.parentNode.children,th);
var d=th.dataset.d=th.dataset.d==='a'?'d':'a';
var rows=Array.prototype.slice.call(b.rows);
rows.sort(function(x,y){var p=x.cells[i],q=y.cells[i],a=key(p),c=key(q),r;
if(a!==null&&c!==null){r=a-c;if(isNaN(r))r=0;}
else r=(p?p.textContent:'').localeCompare(q?q.textContent:'');
return d==='a'?r:-r;});
rows.forEach(function(r){b.appendChild(r);});});});
var f=document.getElementById('exfilter');
if(f)f.addEventListener('input',function(){var q=f.value.toLowerCase();
document.querySelectorAll('.ex').forEach(function(e){
e.style.display=(e.dataset.tags||'').toLowerCase().indexOf(q)>=0?'':'none';});});
})();
)js";

}  // namespace

std::string report_html(const json& doc, RunStore* store, const ReportOptions& options) {
  using namespace report;
  const json& ctx = at_or_null(doc, "context");
  const std::string suite =
      at_or_null(ctx, "suite").is_string() ? ctx["suite"].get<std::string>() : std::string("run");
  std::string nav = "<nav>";
  for (const char* id : kSectionIds) nav += std::string("<a href=\"#") + id + "\">" + id + "</a>";
  nav += "</nav>";
  std::string page =
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
      "content=\"width=device-width,initial-scale=1\"><title>attrib report: " +
      escape(suite) + "</title><style>" + kStyle + colour_classes_css() +
      "</style></head><body><h1>attrib report: " + escape(suite) + "</h1>" + nav;
  page += run_section(doc);
  page += leaderboards_section(doc);
  page += curves_section(store);
  page += randomisation_section(doc);
  page += throughput_section(doc);
  page += cost_section(doc);
  page += agreement_section(doc);
  page += examples_section(doc, store, options);
  page += std::string("<script>") + kScript + "</script></body></html>\n";
  return page;
}

size_t write_report(const std::string& run_dir, const std::string& out_path,
                    const ReportOptions& options, bool use_store) {
  const std::string results = (fs::path(run_dir) / "results.json").string();
  ATTRIB_CHECK(fs::exists(results), results, ": no results (run `attrib run ... --out ", run_dir,
               "` first)");
  const json doc = read_json_file(results);
  ATTRIB_CHECK(doc.is_object() && doc.contains("context") && doc.contains("rows"), results,
               ": not an attrib results document (expected an object with \"context\" and "
               "\"rows\")");
  const std::string store_path = (fs::path(run_dir) / "store.sqlite").string();
  std::unique_ptr<RunStore> store;
  if (use_store && fs::exists(store_path))
    store = std::make_unique<RunStore>(store_path, /*read_only=*/true);
  const std::string page = report_html(doc, store.get(), options);
  write_file_atomically(out_path, page);
  return page.size();
}

}  // namespace attrib
