// The HTML report (harness/src/report): every section is on the page, a failing method's error
// is shown and linked, the page fetches nothing, and headless Chromium renders it (with and
// without JavaScript) without console errors.
#include "report/report.h"

#include <gtest/gtest.h>
#include <png.h>

#include <regex>
#include <set>
#include <vector>

#include "cli_support.h"
#include "report/sections.h"
#include "store/store.h"

using namespace attrib_test;

namespace {

constexpr const char* kChromium = "/usr/bin/chromium";

/// The small suite with a method that fails (its file is missing) and the three analyses, so
/// that every section has content; run once for all tests of this file.
class Report : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    json suite = small_suite();
    suite["name"] = "report";
    suite["methods"].push_back({{"plugin", "precomputed"},
                                {"name", "missing_file"},
                                {"params", {{"file", "/nonexistent/attributions.jsonl"}}}});
    suite["agreement"] = {{"k", 0.25}};
    suite["randomisation"] = {{"tests", {"cascading", "random_logit"}},
                              {"similarity", {"spearman_abs"}},
                              {"max_examples", 8}};
    suite["throughput"] = {{"batch_sizes", {8}}, {"repetitions", 2}, {"examples", 8}};
    dir_ = fs::path(ATTRIB_TEST_TMP) / "report" / per_process("run");
    fs::remove_all(dir_);
    run_ = new Result(attrib_test::attrib("run '" + write_suite("report.json", suite).string() +
                                              "' --out '" + dir_.string() + "' --quiet",
                                          per_process("report-run")));
  }
  static void TearDownTestSuite() {
    delete run_;
    if (!::testing::UnitTest::GetInstance()->Failed()) fs::remove_all(dir_);
  }
  static fs::path dir_;
  static Result* run_;
};

fs::path Report::dir_;
Result* Report::run_ = nullptr;

/// Distinct RGB colours of a PNG (0 when it cannot be read).
size_t distinct_colours(const fs::path& file) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, file.c_str())) return 0;
  image.format = PNG_FORMAT_RGB;
  std::vector<png_byte> pixels(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, pixels.data(), 0, nullptr)) return 0;
  std::set<uint32_t> colours;
  for (size_t i = 0; i + 2 < pixels.size() && colours.size() < 1000; i += 3)
    colours.insert(pixels[i] << 16 | pixels[i + 1] << 8 | pixels[i + 2]);
  return colours.size();
}

/// Runs Chromium headless on `page` with the network blocked; returns its exit code, and its
/// stdout and stderr through `out`/`err`.
int chromium(const std::string& flags, const fs::path& page, const std::string& tag,
             std::string* out, std::string* err) {
  const fs::path dir = fs::path(ATTRIB_TEST_TMP) / "report";
  const fs::path o = dir / (tag + ".out"), e = dir / (tag + ".err");
  const std::string cmd =
      std::string("timeout 60 ") + kChromium +
      " --headless=new --no-sandbox --disable-gpu --no-first-run --user-data-dir='" +
      (dir / ("profile-" + tag)).string() +
      "' --host-resolver-rules='MAP * ~NOTFOUND' --proxy-server=127.0.0.1:9"
      " --enable-logging=stderr --v=0 " +
      flags + " 'file://" + page.string() + "' >'" + o.string() + "' 2>'" + e.string() + "'";
  const int status = std::system(cmd.c_str());
  *out = slurp(o);
  *err = slurp(e);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// Lines of Chromium's log that report a problem in the page's own scripts or console.
std::string page_errors(const std::string& log) {
  std::string found;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);)
    if (line.find("Uncaught") != std::string::npos || line.find(":CONSOLE") != std::string::npos)
      found += line + "\n";
  return found;
}

/// The http(s) URLs in Chromium's net log that the page asked for: those of the browser's own
/// background services (update checks, time, accounts) are left out, since a headless Chromium
/// makes them on its own, whatever it opens.
std::vector<std::string> page_requests(const fs::path& net_log) {
  const std::string log = slurp(net_log);
  const std::regex url(R"re("url":"(https?)://([^/":]+)[^"]*")re");
  const std::regex browser_own(
      R"re((^|\.)(google\.com|googleapis\.com|gvt1\.com|gstatic\.com)$)re");
  std::vector<std::string> found;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), url); it != std::sregex_iterator();
       ++it)
    if (!std::regex_search((*it)[2].str(), browser_own)) found.push_back((*it)[0].str());
  return found;
}

}  // namespace

TEST_F(Report, PageHasEverySectionAndShowsTheFailingMethod) {
  ASSERT_EQ(run_->code, 5) << run_->err;  // the precomputed method's rows failed
  const fs::path page = dir_ / "report.html";
  ASSERT_TRUE(fs::exists(page)) << run_->out << run_->err;
  EXPECT_NE(run_->out.find("report:"), std::string::npos);
  const std::string html = slurp(page);
  for (const char* id : attrib::report::kSectionIds)
    EXPECT_NE(html.find(std::string("<section id=\"") + id + "\""), std::string::npos) << id;

  // The error is listed in the header and linked to its row in the leaderboard.
  const json results = json::parse(slurp(dir_ / "results.json"));
  ASSERT_FALSE(results["errors"].empty());
  EXPECT_NE(html.find("missing_file"), std::string::npos);
  EXPECT_NE(html.find("/nonexistent/attributions.jsonl"), std::string::npos);
  const std::string row = "row--planted--tiny--deletion--missing-file";
  EXPECT_NE(html.find("href=\"#" + row + "\""), std::string::npos);
  EXPECT_NE(html.find("id=\"" + row + "\""), std::string::npos);

  // Charts and the explorer have content: forest plots, a randomisation line, throughput bars,
  // agreement cells, coloured tokens.
  EXPECT_NE(html.find("class=\"pt best\""), std::string::npos);
  EXPECT_NE(html.find("<polyline"), std::string::npos);
  EXPECT_NE(html.find("class=\"bar ref\""), std::string::npos);
  EXPECT_NE(html.find("class=\"cv"), std::string::npos);
  EXPECT_NE(html.find("class=\"toks\""), std::string::npos);

  // Where the time went: the run's explanations and metrics, with their model rows.
  const size_t cost = html.find("<section id=\"cost\"");
  ASSERT_NE(cost, std::string::npos);
  const std::string cost_html = html.substr(cost, html.find("</section>", cost) - cost);
  EXPECT_NE(cost_html.find("id=\"cost--planted--tiny\""), std::string::npos);
  EXPECT_NE(cost_html.find("<td>metric</td><td>deletion</td>"), std::string::npos);
  EXPECT_NE(cost_html.find("<td>explain</td>"), std::string::npos);

  // Self-contained: no src/href/url() that leaves the file.
  const std::regex external(R"((src|href)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?(https?:)?//)",
                            std::regex::icase);
  EXPECT_FALSE(std::regex_search(html, external));
  EXPECT_LT(html.size(), 1000000u);

  // `attrib report` rebuilds it, with fewer examples.
  const fs::path small = dir_ / "small.html";
  const Result r = attrib_test::attrib(
      "report '" + dir_.string() + "' --out '" + small.string() + "' --examples 3",
      "report-rebuild");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string rebuilt = slurp(small);
  size_t examples = 0;
  for (size_t p = 0; (p = rebuilt.find("<div class=\"ex\"", p)) != std::string::npos; ++p)
    ++examples;
  EXPECT_EQ(examples, 3u);
}

TEST(ReportRun, BadRunFoldersAreInvalidInputNamingTheFile) {
  const Result missing = attrib_test::attrib("report /nonexistent/run", "report-missing");
  EXPECT_EQ(missing.code, 3);
  EXPECT_NE(missing.err.find("/nonexistent/run"), std::string::npos) << missing.err;
  const fs::path bad = fs::path(ATTRIB_TEST_TMP) / "report" / "bad";
  fs::create_directories(bad);
  std::ofstream(bad / "results.json") << "{\"rows\": [";
  const Result malformed = attrib_test::attrib("report '" + bad.string() + "'", "report-malformed");
  EXPECT_EQ(malformed.code, 3);
  EXPECT_NE(malformed.err.find((bad / "results.json").string()), std::string::npos)
      << malformed.err;
  std::ofstream(bad / "results.json") << "[1, 2]";
  const Result foreign = attrib_test::attrib("report '" + bad.string() + "'", "report-foreign");
  EXPECT_EQ(foreign.code, 3);
  EXPECT_NE(foreign.err.find("not an attrib results document"), std::string::npos) << foreign.err;
}

// The report is a view of the results: when it cannot be written (here a folder is in its way)
// the run warns and keeps its exit code and its other files.
TEST(ReportRun, AReportThatCannotBeWrittenOnlyWarns) {
  const fs::path out = fs::path(ATTRIB_TEST_TMP) / "report" / "blocked";
  fs::remove_all(out);
  fs::create_directories(out / "report.html" / "x");
  const Result r =
      attrib_test::attrib("run '" + write_suite("report-blocked.json", small_suite()).string() +
                              "' --out '" + out.string() + "' --no-store --quiet",
                          "report-blocked");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: report.html not written"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(out / "results.json"));
  EXPECT_TRUE(fs::exists(out / "leaderboard.md"));
}

TEST_F(Report, ChromiumRendersEverySectionWithAndWithoutJavaScript) {
  if (!fs::exists(kChromium))
    GTEST_SKIP() << kChromium << " is not installed (scripts/setup.sh installs it): the browser "
                 << "check of the report is skipped";
  const fs::path page = dir_ / "report.html";
  ASSERT_TRUE(fs::exists(page)) << run_->err;
  std::string out, err;

  // The DOM after the scripts ran has every section; the page logged nothing and asked for
  // nothing on the network (the net log would show it even though the requests are blocked).
  const fs::path net_log = fs::path(ATTRIB_TEST_TMP) / "report" / "net-log.json";
  fs::remove(net_log);
  ASSERT_EQ(
      chromium("--dump-dom --log-net-log='" + net_log.string() + "'", page, "dom", &out, &err), 0)
      << err;
  ASSERT_TRUE(fs::exists(net_log));
  EXPECT_EQ(page_requests(net_log), std::vector<std::string>{});
  for (const char* id : attrib::report::kSectionIds)
    EXPECT_NE(out.find(std::string("<section id=\"") + id + "\""), std::string::npos) << id;
  EXPECT_EQ(page_errors(err), "");

  // Screenshots with and without JavaScript are not blank: the charts are static SVG. Without
  // JavaScript means the page with its one <script> element cut out: Chromium 156's headless
  // screenshot writes no file at all under --blink-settings=scriptEnabled=false.
  const std::string html = slurp(page);
  const size_t open = html.find("<script>"), close = html.find("</script>");
  ASSERT_NE(open, std::string::npos);
  ASSERT_EQ(html.find("<script", open + 1), std::string::npos) << "one script element expected";
  const fs::path no_js = dir_ / "report-no-js.html";
  std::ofstream(no_js) << html.substr(0, open) + html.substr(close + 9);
  for (const std::string tag : {"js", "no-js"}) {
    const fs::path png = fs::path(ATTRIB_TEST_TMP) / "report" / ("shot-" + tag + ".png");
    fs::remove(png);
    ASSERT_EQ(chromium("--window-size=1280,2400 --screenshot='" + png.string() + "'",
                       tag == "js" ? page : no_js, "shot-" + tag, &out, &err),
              0)
        << err;
    EXPECT_GT(distinct_colours(png), 16u) << tag << ": the screenshot is (nearly) one colour";
    EXPECT_EQ(page_errors(err), "") << tag;
  }
}

// The explorer reads the store's token scores and word ids: WordPiece pieces share their word's
// box ("##" dropped after the first piece), special tokens are greyed, and each token's colour
// step is its score on the line's symmetric scale (here ±0.9).
TEST(ReportExplorer, WordPiecesAreGroupedUnderTheirWordAndColouredOnTheLinesScale) {
  const fs::path dir = fs::path(ATTRIB_TEST_TMP) / "report" / "wordpiece";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "store.sqlite").string();
  {
    attrib::RunStore store(path);
    store.begin_run({{"suite", "t"}});
    attrib::ExplanationUnit u;
    u.key = "k1";
    u.identity = {{"unit", "explanation"}};
    u.dataset = "d";
    u.model = "m";
    u.method = "saliency";
    u.plugin = "saliency";
    u.ids = {"e0"};
    u.token_scores = at::tensor({0.1f, 0.9f, -0.5f, 0.2f, 0.0f, 0.0f}).reshape({1, 6});
    u.word_ids = at::tensor({-1, 0, 0, 1, -1, -1}, at::kLong).reshape({1, 6});
    u.tokens = {{"[CLS]", "play", "##ing", "ball", "[SEP]"}};  // unpadded: 5 of 6 positions
    store.put_explanation(u);
    store.end_run("complete");
  }
  const json doc = {{"context", {{"seed", 0}}},
                    {"rows",
                     {{{"dataset", "d"},
                       {"model", "m"},
                       {"method", "saliency"},
                       {"metric", "deletion"},
                       {"direction", -1},
                       {"example_ids", {"e0"}},
                       {"scores", {0.25}},
                       {"error", nullptr}}}}};
  attrib::RunStore store(path, /*read_only=*/true);
  const std::string html = attrib::report_html(doc, &store);
  EXPECT_NE(html.find("<span class=\"w\"><i class=\"c8\" title=\"play: 0.9\">play</i><i "
                      "class=\"c-4\" title=\"##ing: -0.5\">ing</i></span>"),
            std::string::npos);
  EXPECT_NE(html.find("<i class=\"c1 sp\" title=\"[CLS]: 0.1\">[CLS]</i>"), std::string::npos);
  EXPECT_NE(html.find(">ball</i>"), std::string::npos);
  EXPECT_EQ(html.find(">[PAD]<"), std::string::npos);
  EXPECT_NE(html.find("deletion 0.25"), std::string::npos);
  EXPECT_NE(html.find("best deletion"), std::string::npos);
}

// Dense maps (images, tabular rows) are drawn as a grid per method: channels summed, one path per
// colour step, step 0 left to the white background.
TEST(ReportExplorer, DenseMapsAreGridsWithChannelsSummed) {
  const fs::path dir = fs::path(ATTRIB_TEST_TMP) / "report" / "dense";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "store.sqlite").string();
  {
    attrib::RunStore store(path);
    store.begin_run({{"suite", "t"}});
    attrib::ExplanationUnit u;
    u.key = "k1";
    u.identity = {{"unit", "explanation"}};
    u.dataset = "d";
    u.model = "m";
    u.method = "gradient";
    u.plugin = "saliency";
    u.ids = {"img"};
    // [1, C=2, H=2, W=2]: the channel sums are {2, 0; 0, -2}.
    u.token_scores = at::tensor({1.f, 0.f, 0.f, -1.f, 1.f, 0.f, 0.f, -1.f}).reshape({1, 2, 2, 2});
    store.put_explanation(u);
    store.end_run("complete");
  }
  const json doc = {{"context", {{"seed", 0}}},
                    {"rows",
                     {{{"dataset", "d"},
                       {"model", "m"},
                       {"method", "gradient"},
                       {"metric", "deletion"},
                       {"direction", -1},
                       {"example_ids", {"img"}},
                       {"scores", {0.5}},
                       {"error", nullptr}}}}};
  attrib::RunStore store(path, /*read_only=*/true);
  const std::string html = attrib::report_html(doc, &store);
  EXPECT_NE(html.find("viewBox=\"0 0 2 2\""), std::string::npos);
  EXPECT_NE(html.find("<path class=\"f8\" d=\"M0 0h1v1h-1z\"/>"), std::string::npos);
  EXPECT_NE(html.find("<path class=\"f-8\" d=\"M1 1h1v1h-1z\"/>"), std::string::npos);
  EXPECT_NE(html.find("±2</span>"), std::string::npos);
}
