// Text dataset readers (hatexplain:, eraser:, jsonl:), their parsers (Python literals, CSV,
// tar.gz) and the `attrib data` summary. Bad input must be reported as FILE:LINE: what was
// expected, what was found. The last tests read the shared research data (../shared/data or
// $ATTRIB_DATA_DIR) and are skipped when it is absent.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "attrib/error.h"
#include "data/dataset.h"
#include "data/io/csv.h"
#include "data/io/python_literal.h"
#include "data/io/tar.h"
#include "data/readers/hatexplain.h"
#include "data/summary.h"
#include "test_files.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

using attrib_test::files::error_of;
using attrib_test::files::write;

fs::path temp_dir(const std::string& name) {
  return attrib_test::files::fresh_dir("datasets", name);
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

attrib::Dataset load(const std::string& spec, const json& params = json::object(),
                     json* report = nullptr) {
  json local;
  return attrib::load_dataset_reported("d", spec, params, report ? report : &local);
}

std::vector<float> mask(std::initializer_list<int> bits) {
  std::vector<float> out;
  for (int b : bits) out.push_back(static_cast<float>(b));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Python literals

TEST(PythonLiteral, ParsesTheHateXplainFields) {
  const json v = attrib::parse_python_literal(
      "{'label': [1, 1, 1], 'annotator_id': [9, 17, 64], 'target': [['None'], ['Arab', "
      "'Islam'], []]}");
  EXPECT_EQ(v, json::parse(R"({"label": [1, 1, 1], "annotator_id": [9, 17, 64],
                                "target": [["None"], ["Arab", "Islam"], []]})"));
  EXPECT_EQ(attrib::parse_python_literal("[[0, 1,\n 0], [1, 0, 0]]"),
            json::parse("[[0, 1, 0], [1, 0, 0]]"));
  EXPECT_EQ(attrib::parse_python_literal("[]"), json::array());
  EXPECT_EQ(attrib::parse_python_literal("  {}  "), json::object());
}

TEST(PythonLiteral, StringsQuotesAndEscapes) {
  // repr() picks double quotes for strings with a single quote.
  const json v = attrib::parse_python_literal(
      R"(["don't", 'it\'s', 'a\\b', 'tab\there', '\x41\u00e9\U0001F600', 'caf\xe9', "say \"hi\"",
          '<user>', '’', u'uni', r'raw\d', '\ud83d\ude00', '\q'])");
  ASSERT_EQ(v.size(), 13u);
  EXPECT_EQ(v[0], "don't");
  EXPECT_EQ(v[1], "it's");
  EXPECT_EQ(v[2], "a\\b");
  EXPECT_EQ(v[3], "tab\there");
  EXPECT_EQ(v[4], "A\xC3\xA9\xF0\x9F\x98\x80");  // A, é, 😀 in UTF-8
  EXPECT_EQ(v[5], "caf\xC3\xA9");                // \xe9 is the code point U+00E9
  EXPECT_EQ(v[6], "say \"hi\"");
  EXPECT_EQ(v[7], "<user>");
  EXPECT_EQ(v[8], "\xE2\x80\x99");  // raw UTF-8 passes through
  EXPECT_EQ(v[9], "uni");
  EXPECT_EQ(v[10], "raw\\d");
  EXPECT_EQ(v[11], "\xF0\x9F\x98\x80");  // surrogate pair joined
  EXPECT_EQ(v[12], "\\q");               // unknown escapes are kept, as Python does
}

TEST(PythonLiteral, ScalarsTuplesAndTrailingCommas) {
  const json v = attrib::parse_python_literal(
      "(1, -2, 3.5, -1e3, True, False, None, [1,], {'a': 1,}, {3: 'x'})");
  EXPECT_EQ(v,
            json::parse(R"([1, -2, 3.5, -1000.0, true, false, null, [1], {"a": 1}, {"3": "x"}])"));
  EXPECT_TRUE(v[0].is_number_integer());
  EXPECT_TRUE(v[2].is_number_float());
}

TEST(PythonLiteral, ErrorsNameFileLineWhatWasExpectedAndFound) {
  auto err = [](const std::string& text, size_t line = 7) {
    return error_of([&] { attrib::parse_python_literal(text, "f.csv", line, "column 'x'"); });
  };
  EXPECT_THAT(err("[1, 2"),
              HasSubstr("f.csv:7: column 'x': expected ',' or ']', found end of text"));
  EXPECT_THAT(err("[1 2]"),
              HasSubstr("f.csv:7: column 'x': expected ',' or ']', found '2' (character 4)"));
  // The line advances with the newlines inside the field.
  EXPECT_THAT(err("[0,\n1,\n@]", 10), HasSubstr("f.csv:12: column 'x': expected a value"));
  EXPECT_THAT(err("['abc"), HasSubstr("expected closing ' of the string starting at character 2"));
  EXPECT_THAT(err("{'a' 1}"), HasSubstr("expected ':' after a dict key, found '1'"));
  EXPECT_THAT(err("{[1]: 2}"), HasSubstr("expected a string or integer dict key"));
  EXPECT_THAT(err("[1] x"), HasSubstr("expected end of column 'x' after the value, found 'x'"));
  EXPECT_THAT(err("nan"), HasSubstr("expected a value (string, number"));
  EXPECT_THAT(err("'\\x4'"), HasSubstr("expected 2 hex digits after \\x"));
  EXPECT_THAT(err("99999999999999999999"), HasSubstr("expected an integer within 64 bits"));
  EXPECT_THAT(err(""), HasSubstr("found end of text"));
}

// ---------------------------------------------------------------------------------------------
// CSV

TEST(Csv, QuotingMultiLineFieldsAndLineNumbers) {
  const std::string text =
      "\xEF\xBB\xBF"
      "id,text,n\r\n"
      "a,\"x, y\",1\r\n"
      "\n"
      "b,\"he said \"\"hi\"\"\nand left\",2\n"
      "c,,\"\"\n"
      "d,\"multi\n"
      "line\n"
      "field\",4";
  const auto rows = attrib::parse_csv(text, "t.csv");
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].fields, (std::vector<std::string>{"id", "text", "n"}));
  EXPECT_EQ(rows[1].fields, (std::vector<std::string>{"a", "x, y", "1"}));
  EXPECT_EQ(rows[1].line, 2u);
  EXPECT_EQ(rows[2].fields, (std::vector<std::string>{"b", "he said \"hi\"\nand left", "2"}));
  EXPECT_EQ(rows[2].line, 4u);  // the blank line 3 is skipped
  EXPECT_EQ(rows[2].field_lines, (std::vector<size_t>{4, 4, 5}));
  EXPECT_EQ(rows[3].fields, (std::vector<std::string>{"c", "", ""}));
  EXPECT_EQ(rows[3].line, 6u);
  EXPECT_EQ(rows[4].fields, (std::vector<std::string>{"d", "multi\nline\nfield", "4"}));
  EXPECT_EQ(rows[4].line, 7u);
  EXPECT_EQ(rows[4].field_lines, (std::vector<size_t>{7, 7, 9}));
}

TEST(Csv, BadQuotingIsReportedWithTheLine) {
  EXPECT_THAT(error_of([] { attrib::parse_csv("a,b\n1,\"open\nstill open", "t.csv"); }),
              HasSubstr("t.csv:2: quoted field: expected a closing '\"', found end of file"));
  EXPECT_THAT(error_of([] { attrib::parse_csv("a,b\n1,\"x\"y\n", "t.csv"); }),
              HasSubstr("t.csv:2: quoted field: expected ',' or end of line after the closing "
                        "'\"', found 'y'"));
}

// ---------------------------------------------------------------------------------------------
// HateXplain rules

TEST(HateXplainRules, MajorityVote) {
  EXPECT_EQ(attrib::majority_vote({0, 0, 1}), 0);
  EXPECT_EQ(attrib::majority_vote({2, 1, 2}), 2);
  EXPECT_EQ(attrib::majority_vote({1, 1, 1}), 1);
  EXPECT_EQ(attrib::majority_vote({0, 1, 2}), -1);  // no majority: undecided
  EXPECT_EQ(attrib::majority_vote({0, 2}), -1);
  EXPECT_EQ(attrib::majority_vote({0, 0, 2, 2}), -1);
  EXPECT_EQ(attrib::majority_vote({}), -1);
}

TEST(HateXplainRules, RationaleIsTheTokensMarkedByAtLeastHalf) {
  // The sample post of the HateXplain README (29 tokens): all three annotators mark token 8
  // ("nigger"), annotator 3 also token 9, annotator 1 also tokens 11..20. Only token 8 reaches a
  // mean of 0.5.
  std::vector<std::vector<int64_t>> lists(3, std::vector<int64_t>(29, 0));
  for (auto& l : lists) l[8] = 1;
  for (int t = 11; t <= 20; ++t) lists[0][t] = 1;
  lists[2][9] = 1;
  std::vector<float> expected(29, 0.0f);
  expected[8] = 1.0f;
  EXPECT_EQ(attrib::vote_rationale(lists), expected);
  // Two lists: a mark by one of two is a mean of 0.5 (kept); by one of three annotators is not.
  const std::vector<std::vector<int64_t>> two = {{1, 0, 1, 0}, {1, 1, 0, 0}};
  EXPECT_EQ(attrib::vote_rationale(two), mask({1, 1, 1, 0}));
  EXPECT_EQ(attrib::vote_rationale(two, 3), mask({1, 0, 0, 0}));
  EXPECT_TRUE(attrib::vote_rationale({}).empty());
}

// A small HateXplain folder in the processed-CSV layout. Rows (line numbers in comments):
const char* kHxHeader = "id,annotators,rationales,post_tokens,masked_tokens\n";

/// A field quoted for CSV: "..." with inner quotes doubled.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string hx_row(const std::string& id, const std::string& labels, const std::string& rationales,
                   const std::string& tokens) {
  return id + "," +
         quoted("{'label': [" + labels +
                "], 'annotator_id': [1, 2, 3], 'target': [['None'], ['None'], ['None']]}") +
         "," + (rationales == "[]" ? "[]" : quoted(rationales)) + "," + quoted(tokens) + ",[]\n";
}

fs::path hx_fixture(const std::string& name) {
  const fs::path dir = temp_dir(name);
  write(
      dir / "df_test_processed.csv",
      std::string(kHxHeader) +
          // line 2: hatespeech (3/3), three lists: token 1 by all, token 2 by one => [0,1,0]
          hx_row("p1", "0, 0, 0", "[[0, 1, 0], [0, 1, 1], [0, 1, 0]]",
                 "['you', 'idiot', \"don't\"]") +
          // line 3: offensive (2/3), two lists: mean over the lists >= 0.5 => [1,1,0,0]
          hx_row("p2", "2, 1, 2", "[[1, 0, 0, 0], [1, 1, 0, 0]]", "['a', 'b', 'c', 'd']") +
          // line 4: normal
          hx_row("p3", "1, 1, 0", "[]", "['hello', 'world']") +
          // line 5: undecided (one vote each) => dropped in three classes, toxic in binary
          hx_row("p4", "0, 1, 2", "[[1, 0], [0, 0]]", "['x', 'y']") +
          // line 6-7: a quoted field spanning two lines, normal
          "p5,\"{'label': [1, 1, 1],\n 'annotator_id': [4, 5, 6]}\",[],\"['multi', 'line']\",[]\n");
  write(dir / "df_val_processed.csv",
        std::string(kHxHeader) + hx_row("v1", "2, 2, 2", "[[1, 1], [0, 1], [0, 0]]", "['m', 'n']"));
  return dir;
}

TEST(HateXplain, ReadsTheProcessedCsvLayout) {
  const fs::path dir = hx_fixture("hx_csv");
  json report;
  const attrib::Dataset d = load("hatexplain:" + dir.string(), json::object(), &report);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"hatespeech", "normal", "offensive"}));
  EXPECT_TRUE(d.train.empty());  // the train posts are not in the processed CSVs
  ASSERT_EQ(d.test.size(), 4u);
  EXPECT_EQ(d.test[0].id, "p1");
  EXPECT_EQ(d.test[0].label, 0);
  EXPECT_EQ(d.test[0].tokens, (std::vector<std::string>{"you", "idiot", "don't"}));
  EXPECT_EQ(d.test[0].rationale, mask({0, 1, 0}));
  EXPECT_EQ(d.test[1].label, 2);
  EXPECT_EQ(d.test[1].rationale, mask({1, 1, 0, 0}));
  EXPECT_EQ(d.test[2].label, 1);
  EXPECT_TRUE(d.test[2].rationale.empty());  // non-toxic: no annotation
  EXPECT_EQ(d.test[3].id, "p5");
  EXPECT_EQ(d.test[3].tokens, (std::vector<std::string>{"multi", "line"}));
  ASSERT_EQ(d.val.size(), 1u);
  EXPECT_EQ(d.val[0].rationale, mask({0, 1}));
  EXPECT_EQ(report["splits"]["test"]["rows"], 5);
  EXPECT_EQ(report["splits"]["test"]["dropped"]["undecided"], 1);
  EXPECT_EQ(report["source"], "csv");

  const json s = attrib::dataset_summary(d, report);
  EXPECT_EQ(s["splits"]["test"]["examples"], 4);
  EXPECT_EQ(s["splits"]["test"]["labels"],
            json::parse(R"({"hatespeech":1,"normal":2,"offensive":1})"));
  EXPECT_EQ(s["splits"]["test"]["annotated"], 2);
  EXPECT_DOUBLE_EQ(s["splits"]["test"]["mean_rationale_tokens"].get<double>(), 1.5);  // (1 + 2) / 2
  EXPECT_EQ(s["splits"]["test"]["dropped_total"], 1);
  EXPECT_EQ(s["dropped_total"], 1);
  const std::string text = attrib::render_dataset_summary(s);
  EXPECT_THAT(text, HasSubstr("test: 4 examples (5 rows read, 1 dropped; undecided 1)"));
  EXPECT_THAT(text, HasSubstr("hatespeech 1 (25.0%), normal 2 (50.0%), offensive 1 (25.0%)"));
  EXPECT_THAT(text, HasSubstr("annotated: 2 (50.0%), mean rationale length 1.50 tokens"));
}

TEST(HateXplain, BinaryClassesAndTheAnnotatorVote) {
  const fs::path dir = hx_fixture("hx_binary");
  const attrib::Dataset d =
      load("hatexplain:" + dir.string(), {{"classes", "binary"}, {"rationale_vote", "annotators"}});
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"non-toxic", "toxic"}));
  ASSERT_EQ(d.test.size(), 5u);  // p4 (0, 1, 2) has a toxic majority of the binarised votes
  EXPECT_EQ(d.test[0].label, 1);
  EXPECT_EQ(d.test[1].label, 1);
  EXPECT_EQ(d.test[2].label, 0);
  EXPECT_EQ(d.test[3].id, "p4");
  EXPECT_EQ(d.test[3].label, 1);
  // Over the three annotators, p2's token 1 (marked once) falls below 0.5; token 0 stays.
  EXPECT_EQ(d.test[1].rationale, mask({1, 0, 0, 0}));
  EXPECT_EQ(d.test[3].rationale, mask({0, 0}));
}

TEST(HateXplain, BadInputNamesFileAndLine) {
  const fs::path dir = temp_dir("hx_bad");
  const std::string spec = "hatexplain:" + dir.string();
  const std::string file = (dir / "df_test_processed.csv").string();
  write(dir / "df_val_processed.csv", kHxHeader);
  // Rationale length does not match the tokens.
  write(dir / "df_test_processed.csv",
        std::string(kHxHeader) + hx_row("p1", "1, 1, 1", "[]", "['a']") +
            hx_row("p2", "0, 0, 0", "[[1, 0, 0], [1, 0]]", "['a', 'b', 'c']"));
  EXPECT_THAT(error_of([&] { load(spec); }),
              HasSubstr(file + ":3: column 'rationales'[1]: expected 3 marks (one per token of "
                               "post_tokens), found 2"));
  // Label outside the label set.
  write(dir / "df_test_processed.csv",
        std::string(kHxHeader) + hx_row("p1", "1, 3, 1", "[]", "['a']"));
  EXPECT_THAT(error_of([&] { load(spec); }),
              HasSubstr(file + ":2: column 'annotators'.label[1]: expected a label in the label "
                               "set {0 hatespeech, 1 normal, 2 offensive}, found 3"));
  // Malformed literal on the second line of a multi-line field.
  write(dir / "df_test_processed.csv",
        std::string(kHxHeader) + "p1,\"{'label': [1, 1, 1]}\",[],\"['a',\n 'b' 'c']\",[]\n");
  EXPECT_THAT(error_of([&] { load(spec); }),
              HasSubstr(file + ":3: column 'post_tokens': expected ',' or ']', found '''"));
  // Missing field in the annotators dict.
  write(dir / "df_test_processed.csv",
        std::string(kHxHeader) + "p1,\"{'labels': [1, 1, 1]}\",[],\"['a']\",[]\n");
  EXPECT_THAT(error_of([&] { load(spec); }),
              HasSubstr(file + ":2: column 'annotators': label: expected a field \"label\""));
  // Missing column.
  write(dir / "df_test_processed.csv", "id,annotators,post_tokens\n");
  EXPECT_THAT(error_of([&] { load(spec); }),
              HasSubstr(file + ":1: header: expected a column 'rationales', found columns: id, "
                               "annotators, post_tokens"));
  // Wrong number of fields.
  write(dir / "df_test_processed.csv", std::string(kHxHeader) + "p1,\"{'label': [1]}\",[]\n");
  EXPECT_THAT(error_of([&] { load(spec); }),
              HasSubstr(file + ":2: row: expected 5 fields (as in the header), found 3"));
  // Duplicate ids.
  write(dir / "df_test_processed.csv", std::string(kHxHeader) +
                                           hx_row("p1", "1, 1, 1", "[]", "['a']") +
                                           hx_row("p1", "1, 1, 1", "[]", "['b']"));
  EXPECT_THAT(error_of([&] { load(spec); }),
              HasSubstr(file +
                        ":3: id: expected ids unique across the dataset, found \"p1\" "
                        "again (first at " +
                        file + ":2)"));
  // Missing file, unknown parameter, missing path.
  fs::remove(dir / "df_val_processed.csv");
  write(dir / "df_test_processed.csv", kHxHeader);
  EXPECT_THAT(error_of([&] { load(spec); }),
              HasSubstr("df_val_processed.csv: expected a readable file"));
  EXPECT_THAT(error_of([&] {
                load(spec, {{"classes", "four"}});
              }),
              HasSubstr("d.params.classes: expected one of \"three\", \"binary\""));
  EXPECT_THAT(error_of([] { attrib::dataset_params_schema("hatexplain:"); }),
              HasSubstr("expected hatexplain:DIR, found no path"));
  EXPECT_THAT(error_of([] { attrib::dataset_params_schema("tsv:x"); }),
              HasSubstr("unknown dataset spec 'tsv:x'"));
}

TEST(HateXplain, PublishedDatasetJsonWithDivisions) {
  const fs::path dir = temp_dir("hx_json");
  write(dir / "dataset.json", R"({
  "t1": {"post_id": "t1", "annotators": [
           {"label": "hatespeech", "annotator_id": 1, "target": ["African"]},
           {"label": "hatespeech", "annotator_id": 2, "target": ["African"]},
           {"label": "offensive", "annotator_id": 3, "target": ["African"]}],
         "rationales": [[0, 1, 1], [0, 1, 0], [0, 0, 1]],
         "post_tokens": ["go", "away", "now"]},
  "t2": {"post_id": "t2", "annotators": [
           {"label": "normal", "annotator_id": 1, "target": ["None"]},
           {"label": "normal", "annotator_id": 2, "target": ["None"]},
           {"label": "offensive", "annotator_id": 3, "target": ["None"]}],
         "rationales": [], "post_tokens": ["nice", "day"]},
  "t3": {"post_id": "t3", "annotators": [
           {"label": "normal", "annotator_id": 1, "target": []},
           {"label": "hatespeech", "annotator_id": 2, "target": []},
           {"label": "offensive", "annotator_id": 3, "target": []}],
         "rationales": [], "post_tokens": ["hmm"]},
  "t4": {"post_id": "t4", "annotators": [
           {"label": "offensive", "annotator_id": 1, "target": []},
           {"label": "offensive", "annotator_id": 2, "target": []},
           {"label": "offensive", "annotator_id": 3, "target": []}],
         "rationales": [[1], [1], [0]], "post_tokens": ["ugh"]}
})");
  write(dir / "post_id_divisions.json",
        R"({"train": ["t1", "t3"], "val": ["t2"], "test": ["t4"]})");
  json report;
  const attrib::Dataset d = load("hatexplain:" + dir.string(), json::object(), &report);
  EXPECT_EQ(report["source"], "json");
  ASSERT_EQ(d.train.size(), 1u);  // t3 is undecided
  EXPECT_EQ(d.train[0].id, "t1");
  EXPECT_EQ(d.train[0].label, 0);
  EXPECT_EQ(d.train[0].rationale, mask({0, 1, 1}));
  EXPECT_EQ(report["splits"]["train"]["dropped"]["undecided"], 1);
  ASSERT_EQ(d.val.size(), 1u);
  EXPECT_EQ(d.val[0].label, 1);
  ASSERT_EQ(d.test.size(), 1u);
  EXPECT_EQ(d.test[0].rationale, mask({1}));
  // Errors point at the post's line in dataset.json.
  std::string text = slurp(dir / "dataset.json");
  text.replace(text.find("\"ugh\""), 5, "\"ugh\", \"extra\"");
  write(dir / "dataset.json", text);
  EXPECT_THAT(error_of([&] { load("hatexplain:" + dir.string()); }),
              HasSubstr((dir / "dataset.json").string() +
                        ":18: post 't4': rationales[0]: expected 2 marks (one per token of "
                        "post_tokens), found 1"));
}

// ---------------------------------------------------------------------------------------------
// ERASER

void eraser_fixture(const fs::path& dir) {
  write(
      dir / "test.jsonl",
      R"({"annotation_id": "d1", "classification": "toxic", "evidences": [[{"docid": "d1", "end_sentence": -1, "end_token": 3, "start_sentence": -1, "start_token": 1, "text": "b c"}, {"docid": "d1", "end_token": 5, "start_token": 4, "text": "e"}]], "query": "What is the class?", "query_type": null}
{"annotation_id": "d2", "classification": "non-toxic", "evidences": [[]], "query": "What is the class?", "query_type": null}
)");
  write(
      dir / "val.jsonl",
      "\n"
      R"({"annotation_id": "d3", "classification": "neutral", "evidences": [{"docid": "d3", "start_token": 0, "end_token": 1, "text": "WRONG"}]})"
      "\n");
}

TEST(Eraser, SpansBecomeTokenMasksAndLabelsAreSorted) {
  const fs::path dir = temp_dir("eraser_docs");
  eraser_fixture(dir);
  write(dir / "docs" / "d1", "a b c\nd e f\n");  // sentences on lines; tokens over the document
  write(dir / "docs" / "d2", "x y");
  write(dir / "docs" / "d3", "p q");
  json report;
  const attrib::Dataset d = load("eraser:" + dir.string(), json::object(), &report);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"neutral", "non-toxic", "toxic"}));
  ASSERT_EQ(d.test.size(), 2u);
  EXPECT_EQ(d.test[0].id, "d1");
  EXPECT_EQ(d.test[0].label, 2);
  EXPECT_EQ(d.test[0].tokens, (std::vector<std::string>{"a", "b", "c", "d", "e", "f"}));
  EXPECT_EQ(d.test[0].rationale, mask({0, 1, 1, 0, 1, 0}));
  EXPECT_EQ(d.test[1].label, 1);
  EXPECT_TRUE(d.test[1].rationale.empty());
  ASSERT_EQ(d.val.size(), 1u);
  EXPECT_EQ(d.val[0].label, 0);
  EXPECT_EQ(d.val[0].rationale, mask({1, 0}));
  EXPECT_TRUE(d.train.empty());
  EXPECT_EQ(report["notes"]["with_query"], 2);
  EXPECT_EQ(report["notes"]["evidence_text_mismatch"], 1);  // d3's "WRONG"

  // The query can be kept as tokens after a [SEP].
  const attrib::Dataset q = load("eraser:" + dir.string(), {{"query", "append"}});
  EXPECT_EQ(q.test[0].tokens, (std::vector<std::string>{"a", "b", "c", "d", "e", "f", "[SEP]",
                                                        "What", "is", "the", "class?"}));
  EXPECT_EQ(q.test[0].rationale, mask({0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0}));
  // A fixed label set.
  const attrib::Dataset f =
      load("eraser:" + dir.string(), {{"classes", {"toxic", "non-toxic", "neutral"}}});
  EXPECT_EQ(f.test[0].label, 0);
}

TEST(Eraser, DocsJsonlAndDocsTarGz) {
  const fs::path dir = temp_dir("eraser_jsonl");
  eraser_fixture(dir);
  write(dir / "docs.jsonl", R"({"docid": "d1", "document": "a b c\nd e f"}
{"docid": "d2", "document": "x y"}
{"docid": "d3", "document": "p q"}
{"docid": "unused", "document": "z"}
)");
  const attrib::Dataset a = load("eraser:" + dir.string());
  EXPECT_EQ(a.test[0].rationale, mask({0, 1, 1, 0, 1, 0}));

  // docs.tar.gz made by the system's tar, when there is one (an independent writer).
  const fs::path tdir = temp_dir("eraser_tar");
  eraser_fixture(tdir);
  write(tdir / "src" / "docs" / "d1", "a b c\nd e f\n");
  write(tdir / "src" / "docs" / "d2", "x y");
  write(tdir / "src" / "docs" / ("d3"), "p q");
  const std::string cmd = "tar -C '" + (tdir / "src").string() + "' -czf '" +
                          (tdir / "docs.tar.gz").string() + "' docs 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "no tar command to build docs.tar.gz";
  json report;
  const attrib::Dataset b = load("eraser:" + tdir.string(), json::object(), &report);
  EXPECT_EQ(b.test[0].tokens, a.test[0].tokens);
  EXPECT_EQ(b.test[0].rationale, a.test[0].rationale);
  EXPECT_EQ(b.val[0].tokens, a.val[0].tokens);
  EXPECT_THAT(report["sources"]["docs"].get<std::string>(), HasSubstr("docs.tar.gz"));
}

TEST(Eraser, TarReaderHandlesLongNamesAndRejectsGarbage) {
  const fs::path dir = temp_dir("tar_reader");
  const std::string long_name(150, 'n');
  write(dir / "src" / "docs" / long_name, "long");
  write(dir / "src" / "docs" / "short", "s");
  const std::string cmd = "tar -C '" + (dir / "src").string() + "' -czf '" +
                          (dir / "a.tar.gz").string() + "' docs 2>/dev/null";
  if (std::system(cmd.c_str()) == 0) {
    const auto files = attrib::read_tar_gz((dir / "a.tar.gz").string());
    ASSERT_EQ(files.count("docs/" + long_name), 1u);
    EXPECT_EQ(files.at("docs/" + long_name), "long");
    EXPECT_EQ(files.at("docs/short"), "s");
    const auto some = attrib::read_tar_gz((dir / "a.tar.gz").string(),
                                          [](const std::string& p) { return p == "docs/short"; });
    EXPECT_EQ(some.size(), 1u);
  }
  // Not a tar archive: gzip data whose first block fails the header checksum.
  gzFile gz = gzopen((dir / "bad.tar.gz").string().c_str(), "wb");
  const std::string junk(1024, 'j');
  gzwrite(gz, junk.data(), static_cast<unsigned>(junk.size()));
  gzclose(gz);
  EXPECT_THAT(error_of([&] { attrib::read_tar_gz((dir / "bad.tar.gz").string()); }),
              HasSubstr("bad.tar.gz: tar header at byte 0: expected checksum"));
}

/// A gzip-compressed tar holding one regular entry `name` whose header claims `claimed` bytes
/// (GNU base-256 size field), followed by `data` and nothing else.
void write_claiming_tar(const fs::path& path, const std::string& name, uint64_t claimed,
                        const std::string& data) {
  std::array<char, 512> h{};
  std::copy(name.begin(), name.end(), h.begin());
  std::copy_n("0000644", 7, h.begin() + 100);
  h[124] = static_cast<char>(0x80);  // base-256: the size in the last 8 bytes, big-endian
  for (int k = 0; k < 8; ++k) h[135 - k] = static_cast<char>((claimed >> (8 * k)) & 0xFF);
  h[156] = '0';
  std::fill(h.begin() + 148, h.begin() + 156, ' ');
  unsigned sum = 0;
  for (char c : h) sum += static_cast<unsigned char>(c);
  std::snprintf(h.data() + 148, 8, "%06o", sum);
  gzFile gz = gzopen(path.string().c_str(), "wb");
  gzwrite(gz, h.data(), 512);
  gzwrite(gz, data.data(), static_cast<unsigned>(data.size()));
  gzclose(gz);
}

TEST(Eraser, TarEntriesAreBoundedAndTruncationIsDetected) {
  const fs::path dir = temp_dir("tar_claims");
  const fs::path tar = dir / "docs.tar.gz";
  // An 8 GiB claim is refused before anything is allocated (was std::bad_alloc).
  write_claiming_tar(tar, "docs/d1", uint64_t{8} << 30, "a b c");
  EXPECT_THAT(error_of([&] { attrib::read_tar_gz(tar.string()); }),
              HasSubstr(tar.string() +
                        ": entry 'docs/d1': expected at most 268435456 bytes (256 MiB), found a "
                        "header claiming 8589934592"));
  // The same through the eraser: reader, for a document it needs.
  write(dir / "test.jsonl", "{\"annotation_id\": \"d1\", \"classification\": \"toxic\"}\n");
  EXPECT_THAT(error_of([&] { load("eraser:" + dir.string()); }),
              HasSubstr("docs.tar.gz: entry 'docs/d1': expected at most 268435456 bytes"));
  // An entry that is not wanted is skipped, and the skip still finds the archive cut short.
  EXPECT_THAT(error_of([&] {
                attrib::read_tar_gz(tar.string(), [](const std::string&) { return false; });
              }),
              HasSubstr("entry 'docs/d1': expected 8589934592 bytes, found end of archive "
                        "(truncated)"));
  write_claiming_tar(tar, "docs/d1", 1000, std::string(100, 'x'));
  EXPECT_THAT(
      error_of([&] { attrib::read_tar_gz(tar.string()); }),
      HasSubstr(tar.string() + ": entry 'docs/d1': expected 1000 bytes, found end of archive "
                               "(truncated)"));
  write_claiming_tar(tar, "docs/d1", 5, "a b c" + std::string(507, '\0') + std::string(1024, '\0'));
  EXPECT_EQ(attrib::read_tar_gz(tar.string()).at("docs/d1"), "a b c");
}

// An uncompressed tar header (zlib reads plain data as is) with an octal size.
std::string tar_header(const std::string& name, size_t size, char type) {
  std::string h(512, '\0');
  h.replace(0, name.size(), name);
  h.replace(100, 7, "0000644");
  char field[16];
  std::snprintf(field, sizeof field, "%011zo", size);
  h.replace(124, 11, field);
  h[156] = type;
  h.replace(148, 8, 8, ' ');
  unsigned sum = 0;
  for (char c : h) sum += static_cast<unsigned char>(c);
  std::snprintf(field, sizeof field, "%06o", sum);
  h.replace(148, 7, field, 7);  // six digits and a NUL, then the space
  return h;
}

std::string tar_data(std::string s) {
  s.resize((s.size() + 511) / 512 * 512, '\0');
  return s;
}

// Found by fuzzing (tests/fuzz): a pax record of length "-1" wrapped the record offset around and
// read_tar_gz looped forever. Bad records end the pax header; a good one still names the entry.
TEST(Eraser, TarPaxRecordsWithBadLengthsEndTheHeaderWithoutHanging) {
  const fs::path tar = temp_dir("tar_pax") / "docs.tar.gz";
  for (const std::string bad : {"1-1 x\n", "-1 path=x\n", "99 path=x\n", "2 path=x\n", "0 \n"}) {
    write(tar, tar_header("pax", bad.size(), 'x') + tar_data(bad) + tar_header("docs/d1", 5, '0') +
                   tar_data("a b c") + std::string(1024, '\0'));
    EXPECT_EQ(attrib::read_tar_gz(tar.string()).at("docs/d1"), "a b c") << bad;
  }
  const std::string good = "18 path=docs/long\n";
  write(tar, tar_header("pax", good.size(), 'x') + tar_data(good) + tar_header("d", 5, '0') +
                 tar_data("a b c") + std::string(1024, '\0'));
  EXPECT_EQ(attrib::read_tar_gz(tar.string()).at("docs/long"), "a b c");
}

TEST(Eraser, BadInputNamesFileAndLine) {
  const fs::path dir = temp_dir("eraser_bad");
  write(dir / "docs" / "d1", "a b c");
  const std::string spec = "eraser:" + dir.string();
  const std::string file = (dir / "test.jsonl").string();
  write(dir / "test.jsonl", R"({"annotation_id": "d1", "classification": "toxic"}
{"annotation_id": "d1", "classification": "toxic", "evidences": [[{"docid": "d1", "start_token": 1, "end_token": 4}]]}
)");
  EXPECT_THAT(error_of([&] { load(spec); }),
              HasSubstr(file + ":2: evidences[0][0]: expected 0 <= start_token <= end_token <= 3 "
                               "(tokens of document 'd1'), found [1, 4)"));
  write(dir / "test.jsonl", "{\"annotation_id\": \"d1\", \"classification\": \"toxic\"}\n{oops\n");
  EXPECT_THAT(error_of([&] { load(spec); }),
              HasSubstr(file + ":2: expected valid JSON, found malformed JSON ("));
  // A line nested 100,000 deep is refused by the depth limit, never parsed recursively.
  write(dir / "test.jsonl", std::string(100000, '[') + std::string(100000, ']') + "\n");
  EXPECT_THAT(error_of([&] { load(spec); }), HasSubstr("nesting deeper than 512 levels"));
  write(dir / "test.jsonl", "{\"annotation_id\": \"d1\"}\n");
  EXPECT_THAT(error_of([&] { load(spec); }),
              HasSubstr(file + ":1: classification: expected a field \"classification\" (a label "
                               "string), found none"));
  write(dir / "test.jsonl", "{\"annotation_id\": \"d9\", \"classification\": \"toxic\"}\n");
  EXPECT_THAT(error_of([&] { load(spec); }),
              HasSubstr(file + ":1: document 'd9': expected a document in "));
  write(dir / "test.jsonl", "{\"annotation_id\": \"d1\", \"classification\": \"rude\"}\n");
  EXPECT_THAT(error_of([&] {
                load(spec, {{"classes", {"toxic", "non-toxic"}}});
              }),
              HasSubstr(file + ":1: classification: expected a label in the label set "
                               "[\"toxic\",\"non-toxic\"], found \"rude\""));
  write(
      dir / "test.jsonl",
      R"({"annotation_id": "d1", "classification": "t", "evidences": [[{"docid": "d2", "start_token": 0, "end_token": 1}]]})");
  EXPECT_THAT(error_of([&] { load(spec); }),
              HasSubstr(file + ":1: evidences[0][0].docid: expected one of the example's "
                               "documents [\"d1\"], found \"d2\""));
  fs::remove(dir / "test.jsonl");
  EXPECT_THAT(error_of([&] { load(spec); }),
              HasSubstr("expected train.jsonl, val.jsonl or test.jsonl, found none of them"));
}

// ---------------------------------------------------------------------------------------------
// jsonl

TEST(Jsonl, LabelsRationalesAndCharacterSpans) {
  const fs::path dir = temp_dir("jsonl");
  // "é" is one character (two bytes): spans count characters as Python does.
  write(dir / "a.jsonl",
        R"({"id": "x", "text": "the movie was great", "label": "pos", "rationale": [0, 0, 0, 1]}
{"text": "café  was bad", "label": "neg", "rationale_spans": [[6, 9]]}

{"id": 7, "text": "meh", "label": "neu", "split": "train"}
{"text": "a bc d", "label": "pos", "rationale_spans": [[1, 3], [5, 6]], "split": "val"}
)");
  json report;
  const attrib::Dataset d = load("jsonl:" + (dir / "a.jsonl").string(), json::object(), &report);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"neg", "neu", "pos"}));
  ASSERT_EQ(d.test.size(), 2u);
  EXPECT_EQ(d.test[0].id, "x");
  EXPECT_EQ(d.test[0].label, 2);
  EXPECT_EQ(d.test[0].rationale, mask({0, 0, 0, 1}));
  EXPECT_EQ(d.test[1].id, "a-2");  // file stem and line
  EXPECT_EQ(d.test[1].tokens, (std::vector<std::string>{"café", "was", "bad"}));
  EXPECT_EQ(d.test[1].rationale, mask({0, 1, 0}));  // chars [6, 9) = "was"
  ASSERT_EQ(d.train.size(), 1u);
  EXPECT_EQ(d.train[0].id, "7");
  EXPECT_TRUE(d.train[0].rationale.empty());
  ASSERT_EQ(d.val.size(), 1u);
  EXPECT_EQ(d.val[0].rationale, mask({0, 1, 1}));  // [1,3) touches "bc" only; [5,6) is "d"
  EXPECT_EQ(report["splits"]["test"]["rows"], 2);

  write(dir / "b.jsonl", "{\"text\": \"a b\", \"label\": 2}\n{\"text\": \"c\", \"label\": 0}\n");
  const attrib::Dataset n = load("jsonl:" + (dir / "b.jsonl").string(), {{"split", "val"}});
  EXPECT_EQ(n.class_names, (std::vector<std::string>{"0", "1", "2"}));
  ASSERT_EQ(n.val.size(), 2u);
  EXPECT_EQ(n.val[0].label, 2);
}

TEST(Jsonl, BadInputNamesFileAndLine) {
  const fs::path dir = temp_dir("jsonl_bad");
  const std::string file = (dir / "a.jsonl").string();
  const std::string spec = "jsonl:" + file;
  auto err = [&](const std::string& text, const json& params = json::object()) {
    write(file, text);
    return error_of([&] { load(spec, params); });
  };
  EXPECT_THAT(err("{\"text\": \"a b\", \"label\": \"x\"}\n{\"text\": \"a b c\", \"label\": \"y\", "
                  "\"rationale\": [0, 1]}\n"),
              HasSubstr(file + ":2: rationale: expected 3 marks (one per whitespace token of "
                               "text), found 2"));
  EXPECT_THAT(err("{\"text\": \"a\", \"label\": \"x\", \"rationale\": [2]}\n"),
              HasSubstr(file + ":1: rationale[0]: expected 0 or 1, found 2"));
  EXPECT_THAT(err("{\"text\": \"a\", \"label\": \"z\"}\n", {{"classes", {"x", "y"}}}),
              HasSubstr(file + ":1: label: expected a label in the label set [\"x\",\"y\"], "
                               "found \"z\""));
  EXPECT_THAT(err("{\"text\": \"a\", \"label\": 2}\n", {{"classes", {"x", "y"}}}),
              HasSubstr(file + ":1: label: expected a class index < 2"));
  EXPECT_THAT(err("{\"text\": \"a\", \"label\": \"x\"}\n{\"text\": \"b\", \"label\": 1}\n"),
              HasSubstr(file + ":2: label: expected a string like the label on " + file + ":1"));
  EXPECT_THAT(err("{\"text\": \"a\"}\n"),
              HasSubstr(file + ":1: label: expected a field \"label\""));
  EXPECT_THAT(err("\n\n{\"text\": \"a\", \"label\": }\n"),
              HasSubstr(file + ":3: expected valid JSON, found malformed JSON ("));
  EXPECT_THAT(err("{\"text\": \"abc\", \"label\": \"x\", \"rationale_spans\": [[1, 9]]}\n"),
              HasSubstr(file + ":1: rationale_spans[0]: expected 0 <= start < end <= 3 "
                               "(characters of text), found [1,9]"));
  EXPECT_THAT(
      err("{\"text\": \"a\", \"label\": \"x\", \"split\": \"dev\"}\n"),
      HasSubstr(file + ":1: split: expected \"train\", \"val\" or \"test\", found \"dev\""));
  EXPECT_THAT(err("{\"id\": \"q\", \"text\": \"a\", \"label\": \"x\"}\n{\"id\": \"q\", \"text\": "
                  "\"b\", \"label\": \"x\"}\n"),
              HasSubstr(file + ":2: id: expected ids unique across the dataset"));
  EXPECT_THAT(error_of([&] { load("jsonl:" + (dir / "missing.jsonl").string()); }),
              HasSubstr("missing.jsonl: expected a JSON-lines file, found none"));
}

TEST(Jsonl, HugeLabelSetsAreRefusedBeforeTheyAreBuilt) {
  const fs::path dir = temp_dir("jsonl_labels");
  const std::string file = (dir / "a.jsonl").string();
  // An integer label makes the label set 0..max: 10^8 classes once took gigabytes.
  write(file, "{\"text\": \"a\", \"label\": 0}\n{\"text\": \"b\", \"label\": 100000000}\n");
  EXPECT_THAT(error_of([&] { load("jsonl:" + file); }),
              HasSubstr(file + ":2: label: expected a class index < 100000 (at most 100000 "
                               "classes), found 100000000"));
  write(file, "{\"text\": \"a\", \"label\": \"" + std::string(10 << 20, 'x') + "\"}\n");
  EXPECT_THAT(error_of([&] { load("jsonl:" + file); }),
              HasSubstr(file + ":1: label: expected a label of at most 1000 bytes, found 10485760 "
                               "bytes"));
  std::string lines;
  for (int k = 0; k <= 100000; ++k)
    lines += "{\"text\": \"a\", \"label\": \"c" + std::to_string(k) + "\"}\n";
  write(file, lines);
  EXPECT_THAT(error_of([&] { load("jsonl:" + file); }),
              HasSubstr(file + ":100001: label: expected at most 100000 distinct labels, found "
                               "one more, \"c100000\""));
  EXPECT_THAT(error_of([&] {
                load("jsonl:" + file, {{"classes", std::vector<std::string>(100001, "c")}});
              }),
              HasSubstr("params.classes: expected at most 100000 class names, found 100001"));
}

TEST(DatasetSummary, PlantedGeneratorHasNoDrops) {
  json report;
  const attrib::Dataset d = attrib::load_dataset_reported(
      "p", "synthetic:planted_text", {{"n_train", 20}, {"n_val", 10}, {"n_test", 5}}, &report);
  const json s = attrib::dataset_summary(d, report);
  EXPECT_EQ(s["splits"]["train"]["examples"], 20);
  EXPECT_EQ(s["splits"]["test"]["annotated"], 5);
  EXPECT_EQ(s["dropped_total"], 0);
  EXPECT_EQ(d.hash, attrib::load_dataset("p", "synthetic:planted_text",
                                         {{"n_train", 20}, {"n_val", 10}, {"n_test", 5}})
                        .hash);
}

// ---------------------------------------------------------------------------------------------
// The shared research data (../shared/data, or $ATTRIB_DATA_DIR).

fs::path shared_data() {
  if (const char* env = std::getenv("ATTRIB_DATA_DIR")) return env;
  return ATTRIB_SHARED_DATA_DEFAULT;
}

/// Second, independent count of the processed CSV: scans the raw text for each annotators dict
/// "{'label': [a, b, c]" and the rationales field right after it, without the CSV or literal
/// parsers. Returns {hatespeech, normal, offensive, undecided, toxic with rationales, posts}.
std::array<int64_t, 6> raw_count(const std::string& text) {
  std::array<int64_t, 6> c{};
  const std::string key = "\"{'label': [";
  for (size_t pos = text.find(key); pos != std::string::npos; pos = text.find(key, pos + 1)) {
    size_t p = pos + key.size();
    std::map<int, int> votes;
    int n = 0;
    while (text[p] != ']') {
      if (text[p] >= '0' && text[p] <= '9') ++votes[text[p] - '0'], ++n;
      ++p;
    }
    int label = -1;
    for (const auto& [l, k] : votes)
      if (2 * k > n) label = l;
    ++c[5];
    if (label < 0) {
      ++c[3];
      continue;
    }
    ++c[label];
    const size_t end = text.find("}\",", p);  // end of the annotators field
    const bool has_rationales = text.compare(end + 3, 2, "[]") != 0;
    if (label != 1 && has_rationales) ++c[4];
  }
  return c;
}

TEST(SharedData, HateXplainProcessedCsv) {
  const fs::path dir = shared_data() / "text" / "hatexplain";
  if (!fs::exists(dir / "df_test_processed.csv"))
    GTEST_SKIP() << "HateXplain data not found at " << dir
                 << " (set ATTRIB_DATA_DIR to the shared data folder)";
  json report;
  const attrib::Dataset d = load("hatexplain:" + dir.string(), json::object(), &report);
  const json s = attrib::dataset_summary(d, report);
  const json divisions = json::parse(slurp(dir / "post_id_divisions.json"));
  struct Expected {
    const char* split;
    const char* file;
    int64_t posts, hate, normal, offensive, annotated;
    double mean_lists, mean_annotators;
  };
  // Hand-verified with Python's csv + ast.literal_eval: majority of the three votes, rationale =
  // mean over the given lists >= 0.5 (lists) or over the three annotators (annotators).
  const Expected expected[] = {
      {"test", "df_test_processed.csv", 1924, 594, 782, 548, 1142, 8906.0 / 1142, 3619.0 / 1142},
      {"val", "df_val_processed.csv", 1922, 593, 781, 548, 1141, 9246.0 / 1141, 3898.0 / 1141}};
  const attrib::Dataset by_annot =
      load("hatexplain:" + dir.string(), {{"rationale_vote", "annotators"}});
  for (const auto& x : expected) {
    SCOPED_TRACE(x.split);
    const auto raw = raw_count(slurp(dir / x.file));
    const json& js = s["splits"][x.split];
    EXPECT_EQ(js["rows"], x.posts);
    EXPECT_EQ(raw[5], x.posts);
    EXPECT_EQ(js["examples"].get<int64_t>() + js["dropped_total"].get<int64_t>(), x.posts);
    EXPECT_EQ(js["dropped"].value("undecided", int64_t{0}), raw[3]);
    EXPECT_EQ(raw[3], 0);  // the official splits hold no undecided posts
    EXPECT_EQ(js["labels"]["hatespeech"], raw[0]);
    EXPECT_EQ(js["labels"]["normal"], raw[1]);
    EXPECT_EQ(js["labels"]["offensive"], raw[2]);
    EXPECT_EQ(raw[0], x.hate);
    EXPECT_EQ(raw[1], x.normal);
    EXPECT_EQ(raw[2], x.offensive);
    EXPECT_EQ(js["annotated"], raw[4]);
    EXPECT_EQ(raw[4], x.annotated);
    EXPECT_NEAR(js["mean_rationale_tokens"].get<double>(), x.mean_lists, 1e-9);
    EXPECT_NEAR(attrib::dataset_summary(by_annot,
                                        json::object())["splits"][x.split]["mean_rationale_tokens"]
                    .get<double>(),
                x.mean_annotators, 1e-9);
    // Ids, in order, are the official division.
    const auto& ex = d.split(x.split);
    ASSERT_EQ(ex.size(), divisions[x.split].size());
    for (size_t i = 0; i < ex.size(); ++i) ASSERT_EQ(ex[i].id, divisions[x.split][i]);
    // Every annotated example is toxic and its rationale covers its tokens.
    for (const auto& e : ex) {
      if (e.rationale.empty()) continue;
      ASSERT_NE(e.label, 1) << e.id;
      ASSERT_EQ(e.rationale.size(), e.tokens.size()) << e.id;
    }
  }
  EXPECT_TRUE(d.train.empty());
  EXPECT_EQ(report["notes"].value("toxic_without_rationales", 0), 0);
  EXPECT_EQ(report["notes"].value("toxic_with_empty_vote", 0), 1);  // one test post (lists vote)

  const attrib::Dataset binary = load("hatexplain:" + dir.string(), {{"classes", "binary"}});
  const json sb = attrib::dataset_summary(binary, json::object());
  EXPECT_EQ(sb["splits"]["test"]["labels"]["toxic"], 594 + 548);
  EXPECT_EQ(sb["splits"]["test"]["labels"]["non-toxic"], 782);
  EXPECT_EQ(sb["splits"]["val"]["labels"]["toxic"], 593 + 548);
  EXPECT_EQ(sb["splits"]["test"]["annotated"], 1142);
}

TEST(SharedData, HateXplainEraserFormat) {
  const fs::path dir = shared_data() / "text" / "hatexplain" / "eraser_format";
  if (!fs::exists(dir / "docs.tar.gz"))
    GTEST_SKIP() << "HateXplain ERASER data not found at " << dir
                 << " (set ATTRIB_DATA_DIR to the shared data folder)";
  json report;
  const attrib::Dataset d = load("eraser:" + dir.string(), json::object(), &report);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"non-toxic", "toxic"}));
  const json s = attrib::dataset_summary(d, report);
  // Independent count: lines and "classification": "toxic" occurrences in the raw files.
  // Hand-verified with Python (json + tarfile): test 1922 = 1133 toxic (all with evidence, mean
  // rationale 10458 / 1133 tokens) + 789 non-toxic; val 1924 = 1125 + 799, 10369 / 1125 tokens.
  struct Expected {
    const char* split;
    int64_t n, toxic;
    double mean;
  } expected[] = {{"test", 1922, 1133, 10458.0 / 1133}, {"val", 1924, 1125, 10369.0 / 1125}};
  for (const auto& x : expected) {
    SCOPED_TRACE(x.split);
    const std::string raw = slurp(dir / (std::string(x.split) + ".jsonl"));
    int64_t lines = 0, toxic = 0;
    for (char c : raw) lines += c == '\n';
    for (size_t p = raw.find("\"classification\": \"toxic\""); p != std::string::npos;
         p = raw.find("\"classification\": \"toxic\"", p + 1))
      ++toxic;
    EXPECT_EQ(lines, x.n);
    EXPECT_EQ(toxic, x.toxic);
    const json& js = s["splits"][x.split];
    EXPECT_EQ(js["examples"], x.n);
    EXPECT_EQ(js["labels"]["toxic"], x.toxic);
    EXPECT_EQ(js["labels"]["non-toxic"], x.n - x.toxic);
    EXPECT_EQ(js["annotated"], x.toxic);
    EXPECT_NEAR(js["mean_rationale_tokens"].get<double>(), x.mean, 1e-9);
  }
  EXPECT_TRUE(d.train.empty());
  EXPECT_EQ(report["notes"].value("evidence_text_mismatch", 0), 0);
  EXPECT_EQ(report["notes"]["with_query"], 1922 + 1924);
}

}  // namespace
