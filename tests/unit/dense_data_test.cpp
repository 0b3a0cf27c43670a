// Dense datasets: csv:, arff:, idx:, images: readers, the synthetic tabular and block_mnist
// generators, collation into Batch/Annotations, the dataset hash and the `attrib data` summary.
// Small files with hand-known contents are written into ATTRIB_TEST_TMP; the last tests read the
// shared research data ($ATTRIB_SHARED_DATA, $ATTRIB_DATA_DIR or ../shared/data) and the
// dataset-fashion-mnist package, and are skipped when they are absent.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "attrib/error.h"
#include "data/dataset.h"
#include "data/io/image.h"
#include "data/readers/idx.h"
#include "data/summary.h"
#include "test_files.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

using attrib_test::files::error_of;
using attrib_test::files::write;

fs::path temp_dir(const std::string& name) {
  return attrib_test::files::fresh_dir("dense_data", name);
}

void write_gz(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  gzFile gz = gzopen(path.string().c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(gz);
}

attrib::Dataset load(const std::string& spec, const json& params = json::object(),
                     json* report = nullptr) {
  json local;
  return attrib::load_dataset_reported("d", spec, params, report ? report : &local);
}

const attrib::DenseExample* find(const std::vector<attrib::DenseExample>& v,
                                 const std::string& id) {
  for (const auto& e : v)
    if (e.id == id) return &e;
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// csv:

const char* kToyCsv =
    "id,color,size,label,split\n"
    "a,red,1,yes,train\n"
    "b,blue,3,no,train\n"
    "c,red,5,yes,train\n"
    "d,green,2,no,val\n"
    "e,blue,4,yes,test\n";

TEST(DenseDataCsv, OneHotMappingAndTrainStandardisation) {
  const fs::path f = temp_dir("csv_toy") / "toy.csv";
  write(f, kToyCsv);
  json report;
  const attrib::Dataset d = load("csv:" + f.string(), json::object(), &report);
  EXPECT_EQ(d.modality, attrib::Modality::kDense);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"no", "yes"}));  // sorted strings
  // Categories sorted: blue, green, red; then the numeric column.
  EXPECT_EQ(d.feature_names,
            (std::vector<std::string>{"color=blue", "color=green", "color=red", "size"}));
  EXPECT_EQ(d.feature_shape, (std::vector<int64_t>{4}));
  ASSERT_EQ(d.dense_train.size(), 3u);
  ASSERT_EQ(d.dense_val.size(), 1u);
  ASSERT_EQ(d.dense_test.size(), 1u);
  // size: train values 1, 3, 5 -> mean 3, population std sqrt((4 + 0 + 4) / 3) = 1.632993.
  const double sd = std::sqrt(8.0 / 3.0);
  const auto* a = find(d.dense_train, "a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->label, 1);
  EXPECT_EQ(a->x[0], 0.0f);
  EXPECT_EQ(a->x[1], 0.0f);
  EXPECT_EQ(a->x[2], 1.0f);
  EXPECT_NEAR(a->x[3], (1 - 3) / sd, 1e-6);  // -1.224745
  EXPECT_TRUE(a->mask.empty());
  const auto& dv = d.dense_val[0];
  EXPECT_EQ(dv.id, "d");
  EXPECT_EQ(dv.label, 0);
  EXPECT_EQ(dv.x, (std::vector<float>{0, 1, 0, static_cast<float>((2 - 3) / sd)}));
  EXPECT_NEAR(d.dense_test[0].x[3], (4 - 3) / sd, 1e-6);  // 0.612372: test uses train stats
  const json& cols = d.encoding["columns"];
  ASSERT_EQ(cols.size(), 2u);
  EXPECT_EQ(cols[0]["name"], "color");
  EXPECT_EQ(cols[0]["categories"], json({"blue", "green", "red"}));
  EXPECT_EQ(cols[0]["features"], json({0, 3}));
  EXPECT_EQ(cols[1]["features"], json({3, 4}));
  EXPECT_DOUBLE_EQ(cols[1]["mean"].get<double>(), 3.0);
  EXPECT_NEAR(cols[1]["std"].get<double>(), sd, 1e-12);
  EXPECT_EQ(report["notes"]["split_by"], "column 'split'");

  // standardize = false keeps the raw numbers.
  const attrib::Dataset raw = load("csv:" + f.string(), {{"standardize", false}});
  EXPECT_EQ(find(raw.dense_train, "a")->x[3], 1.0f);
  EXPECT_EQ(raw.dense_test[0].x, (std::vector<float>{1, 0, 0, 4}));
  // A numeric column forced categorical is one-hot over its sorted values 1..5.
  const attrib::Dataset cat = load("csv:" + f.string(), {{"categorical", {"size"}}});
  EXPECT_EQ(cat.feature_shape, (std::vector<int64_t>{8}));
  EXPECT_EQ(cat.feature_names[3], "size=1");
}

TEST(DenseDataCsv, ErrorsNameFileLineExpectedAndFound) {
  const fs::path dir = temp_dir("csv_errors");
  const fs::path f = dir / "toy.csv";
  write(f, kToyCsv);
  const std::string spec = "csv:" + f.string();
  EXPECT_THAT(error_of([&] {
                load(spec, {{"label", "target"}});
              }),
              HasSubstr(f.string() +
                        ":1: params.label: expected a column 'target', found columns: id, color, "
                        "size, label, split"));
  EXPECT_THAT(error_of([&] {
                load(spec, {{"numeric", {"color"}}});
              }),
              HasSubstr(f.string() + ":2: column 'color': expected a number, found 'red'"));
  EXPECT_THAT(error_of([&] {
                load(spec, {{"ignore", {"nope"}}});
              }),
              HasSubstr("params.ignore: expected a column 'nope'"));

  const fs::path bad = dir / "bad.csv";
  write(bad, "x,label\n1,a\n2,b,3\n");
  EXPECT_THAT(error_of([&] { load("csv:" + bad.string()); }),
              HasSubstr(bad.string() + ":3: row: expected 2 fields (as in the header), found 3"));
  write(bad, "x,label\n1,a\n?,b\n");
  EXPECT_THAT(error_of([&] { load("csv:" + bad.string()); }),
              HasSubstr(bad.string() + ":3: column 'x': expected a value, found a missing value"));
  write(bad, "x,label\n1,a\n2,\n");
  EXPECT_THAT(
      error_of([&] { load("csv:" + bad.string()); }),
      HasSubstr(bad.string() + ":3: column 'label': expected a label, found a missing value"));
  write(bad, "x,label,split\n1,a,train\n2,b,holdout\n");
  EXPECT_THAT(error_of([&] { load("csv:" + bad.string()); }),
              HasSubstr(":3: column 'split': expected train, val or test, found 'holdout'"));
  write(bad, "id,x,label\nq,1,a\nq,2,b\n");
  EXPECT_THAT(error_of([&] { load("csv:" + bad.string()); }),
              HasSubstr(":3: id: expected ids unique across the dataset, found 'q' again"));
  write(bad, "x,label\n1,a\n2,b\n");
  EXPECT_THAT(
      error_of([&] {
        load("csv:" + bad.string(), {{"classes", {"a"}}});
      }),
      HasSubstr(":3: column 'label': expected a label in the label set [\"a\"], found 'b'"));
  write(bad, "");
  EXPECT_THAT(error_of([&] { load("csv:" + bad.string()); }),
              HasSubstr(bad.string() + ":1: expected a header line or data, found an empty file"));
  EXPECT_THAT(error_of([&] { load("csv:" + (dir / "absent.csv").string()); }),
              HasSubstr("absent.csv: expected a readable file, found none"));
}

TEST(DenseDataCsv, ImputationUsesTrainMeanAndMode) {
  const fs::path f = temp_dir("csv_impute") / "m.csv";
  write(f,
        "x,c,label,split\n"
        "1,u,a,train\n"
        "3,u,b,train\n"
        "?,v,a,train\n"   // x imputed with the train mean (1 + 3) / 2 = 2
        "10,,b,test\n");  // c imputed with the train mode u (2 of 3)
  json report;
  const attrib::Dataset d =
      load("csv:" + f.string(), {{"missing", "impute"}, {"standardize", false}}, &report);
  EXPECT_EQ(d.dense_train[2].x, (std::vector<float>{2, 0, 1}));
  EXPECT_EQ(d.dense_test[0].x, (std::vector<float>{10, 1, 0}));
  EXPECT_EQ(report["notes"]["imputed_values"], 2);
  EXPECT_EQ(d.encoding["columns"][0]["impute"], 2.0);
  EXPECT_EQ(d.encoding["columns"][1]["impute"], "u");
}

TEST(DenseDataCsv, NonFiniteNumbersAreMissingValues) {
  const fs::path f = temp_dir("csv_nan") / "n.csv";
  write(f,
        "x,label,split\n"
        "1,a,train\n"
        "nan,b,train\n"
        "3,a,train\n"
        "-Infinity,b,test\n");
  // Once a one-hot column with categories 1, 3, nan and -Infinity; now numeric.
  EXPECT_THAT(error_of([&] { load("csv:" + f.string()); }),
              HasSubstr(f.string() + ":3: column 'x': expected a finite number, found 'nan'"));
  for (const char* bad : {"NaN", "inf", "1e999"}) {
    write(f, std::string("x,label\n1,a\n") + bad + ",b\n");
    EXPECT_THAT(
        error_of([&] { load("csv:" + f.string()); }),
        HasSubstr(":3: column 'x': expected a finite number, found '" + std::string(bad) + "'"))
        << bad;
  }
  write(f, "x,label,split\n1,a,train\nnan,b,train\n3,a,train\n-Infinity,b,test\n");
  json report;
  const attrib::Dataset d =
      load("csv:" + f.string(), {{"missing", "impute"}, {"standardize", false}}, &report);
  EXPECT_EQ(d.encoding["columns"][0]["type"], "numeric");
  EXPECT_EQ(d.dense_train[1].x, (std::vector<float>{2}));  // the train mean of 1 and 3
  EXPECT_EQ(d.dense_test[0].x, (std::vector<float>{2}));
  EXPECT_EQ(report["notes"]["imputed_values"], 2);
  // A column with words besides nan stays categorical, nan one of its categories.
  write(f, "x,label\nred,a\nnan,b\n");
  EXPECT_EQ(load("csv:" + f.string()).encoding["columns"][0]["categories"], json({"nan", "red"}));
}

TEST(DenseDataCsv, HugeLabelSetsAreRefusedBeforeTheyAreBuilt) {
  const fs::path f = temp_dir("csv_labels") / "l.csv";
  // An integer label makes the label set 0..max: 10^8 classes once took gigabytes.
  write(f, "x,label\n1,0\n2,100000000\n3,1\n");
  EXPECT_THAT(
      error_of([&] { load("csv:" + f.string()); }),
      HasSubstr(f.string() + ":3: column 'label': expected a class index < 100000 (at most 100000 "
                             "classes), found 100000000"));
  write(f, "x,label\n1,a\n2," + std::string(1001, 'b') + "\n");
  EXPECT_THAT(error_of([&] { load("csv:" + f.string()); }),
              HasSubstr(f.string() +
                        ":3: column 'label': expected a label of at most 1000 bytes, found 1001 "
                        "bytes"));
  std::string rows = "x,label\n";
  for (int k = 0; k <= 100000; ++k) rows += "1,c" + std::to_string(k) + "\n";
  write(f, rows);
  EXPECT_THAT(error_of([&] { load("csv:" + f.string()); }),
              HasSubstr(f.string() +
                        ":100002: column 'label': expected at most 100000 distinct labels, found "
                        "one more, 'c100000'"));
  // 100,000 classes is still fine.
  write(f, "x,label\n1,0\n2,99999\n");
  EXPECT_EQ(load("csv:" + f.string()).class_names.size(), 100000u);
}

TEST(DenseDataCsv, SklearnHeaderPlainRowsAndSeededFractions) {
  const fs::path dir = temp_dir("csv_sklearn");
  // scikit-learn layout: N_SAMPLES,N_FEATURES,CLASS_NAMES then features and a class index.
  write(dir / "s.csv", "4,2,neg,pos\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n");
  const json fr = {{"val_fraction", 0.25}, {"test_fraction", 0.25}, {"standardize", false}};
  json report;
  const attrib::Dataset d = load("csv:" + (dir / "s.csv").string(), fr, &report);
  EXPECT_EQ(report["header"], "sklearn");
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"neg", "pos"}));
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"x0", "x1"}));
  // round(0.25 * 4) = 1 test, 1 val, 2 train.
  EXPECT_EQ(d.dense_train.size(), 2u);
  EXPECT_EQ(d.dense_val.size(), 1u);
  EXPECT_EQ(d.dense_test.size(), 1u);
  EXPECT_EQ(report["notes"]["split_by"], "seeded fractions");
  // Every row lands in exactly one split with its own values: x1 = x0 + 1, label = row parity.
  int seen = 0;
  for (const auto* s : {&d.dense_train, &d.dense_val, &d.dense_test})
    for (const auto& e : *s) {
      ++seen;
      EXPECT_EQ(e.x[1], e.x[0] + 1);
      EXPECT_EQ(e.label, (static_cast<int>(e.x[0]) / 2) % 2);  // 1 -> 0, 3 -> 1, 5 -> 0, 7 -> 1
    }
  EXPECT_EQ(seen, 4);
  // The same seed gives the same split; ids are FILESTEM-LINE.
  EXPECT_EQ(load("csv:" + (dir / "s.csv").string(), fr).hash, d.hash);
  EXPECT_EQ(d.dense_test[0].id.rfind("s-", 0), 0u);
  // No header: all numeric first line -> columns x0.., label = the last column.
  write(dir / "n.csv", "1,2,0\n3,4,1\n");
  report = json();
  const attrib::Dataset n =
      load("csv:" + (dir / "n.csv").string(), {{"val_fraction", 0}, {"test_fraction", 0}}, &report);
  EXPECT_EQ(report["header"], "none");
  EXPECT_EQ(n.class_names, (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(n.dense_train.size(), 2u);
  EXPECT_EQ(n.feature_names, (std::vector<std::string>{"x0", "x1"}));
  // A count mismatch in a scikit-learn header is an error naming the line.
  write(dir / "m.csv", "3,2,a,b\n1,2,0\n");
  EXPECT_THAT(error_of([&] {
                load("csv:" + (dir / "m.csv").string(), {{"header", "sklearn"}});
              }),
              HasSubstr("m.csv:1: header: expected 3 data rows (N_SAMPLES), found 1"));
}

// ---------------------------------------------------------------------------------------------
// arff:

const char* kToyArff =
    "% a comment\n"
    "@RELATION toy\n"
    "\n"
    "@attribute 'width' numeric\n"
    "@attribute colour {red, 'dark blue', green}\n"
    "@attribute n INTEGER\n"
    "@attribute class {neg,pos}\n"
    "@data\n"
    "% inside data\n"
    "1.5,red,2,pos\n"
    "2.5,'dark blue',?,neg\n"
    "3.5, green ,4,pos\n";

TEST(DenseDataArff, NumericNominalQuotesCommentsAndMissing) {
  const fs::path f = temp_dir("arff_toy") / "toy.arff";
  write(f, kToyArff);
  const json all_train = {{"val_fraction", 0}, {"test_fraction", 0}};
  // Line 11 holds the first missing value.
  EXPECT_THAT(
      error_of([&] { load("arff:" + f.string(), all_train); }),
      HasSubstr(f.string() + ":11: column 'n': expected a value, found a missing value '?'"));
  json p = all_train;
  p["missing"] = "impute";
  p["standardize"] = false;
  json report;
  const attrib::Dataset d = load("arff:" + f.string(), p, &report);
  EXPECT_EQ(report["relation"], "toy");
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"neg", "pos"}));  // declared order
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"width", "colour=red", "colour=dark blue",
                                                       "colour=green", "n"}));
  ASSERT_EQ(d.dense_train.size(), 3u);
  EXPECT_EQ(d.dense_train[0].x, (std::vector<float>{1.5, 1, 0, 0, 2}));
  EXPECT_EQ(d.dense_train[0].label, 1);
  // n imputed with the train mean (2 + 4) / 2 = 3.
  EXPECT_EQ(d.dense_train[1].x, (std::vector<float>{2.5, 0, 1, 0, 3}));
  EXPECT_EQ(d.dense_train[1].label, 0);
  EXPECT_EQ(d.dense_train[2].x, (std::vector<float>{3.5, 0, 0, 1, 4}));
  EXPECT_EQ(d.dense_train[1].id, "toy-11");
  // Standardised width: mean 2.5, population std sqrt((1 + 0 + 1) / 3) = 0.816497.
  p["standardize"] = true;
  const attrib::Dataset s = load("arff:" + f.string(), p);
  EXPECT_NEAR(s.dense_train[0].x[0], -1.0 / std::sqrt(2.0 / 3.0), 1e-6);  // -1.224745
}

TEST(DenseDataArff, ErrorsNameFileLineExpectedAndFound) {
  const fs::path f = temp_dir("arff_errors") / "bad.arff";
  const std::string head = "@relation r\n@attribute x numeric\n@attribute c {a,b}\n@data\n";
  auto err = [&](const std::string& text, const json& params = json::object()) {
    write(f, text);
    return error_of([&] { load("arff:" + f.string(), params); });
  };
  EXPECT_THAT(
      err(head + "1,a\n2,z\n"),
      HasSubstr(f.string() + ":6: attribute 'c': expected one of [\"a\",\"b\"], found 'z'"));
  EXPECT_THAT(err(head + "1,a\nabc,b\n"),
              HasSubstr(f.string() + ":6: attribute 'x': expected a number, found 'abc'"));
  EXPECT_THAT(err(head + "1,a\n2\n"),
              HasSubstr(":6: row: expected 2 values (one per @attribute), found 1"));
  EXPECT_THAT(err(head + "{0 1, 1 a}\n"), HasSubstr(":5: expected a dense data row"));
  EXPECT_THAT(err(head + "1,'a\n"), HasSubstr(":5: expected a closing ', found end of line"));
  EXPECT_THAT(err("@relation r\n@attribute x numeric\n1,2\n"),
              HasSubstr(":3: expected @relation, @attribute or @data, found '1,2'"));
  EXPECT_THAT(err("@relation r\n@attribute x numeric\n@attribute c {a,b}\n"),
              HasSubstr(":3: expected @data, found end of file"));
  EXPECT_THAT(err("@relation r\n@attribute d date\n@data\n"),
              HasSubstr(":2: @attribute d: expected type numeric, real, integer, string or "
                        "{nominal values}, found 'date'"));
  EXPECT_THAT(err(head + "1,a\n", {{"label", "y"}}),
              HasSubstr(":3: params.label: expected a column 'y', found columns: x, c"));
}

// ---------------------------------------------------------------------------------------------
// idx:

std::string idx_bytes(int ndims, const std::vector<int64_t>& dims, const std::string& data) {
  std::string out = {0, 0, 0x08, static_cast<char>(ndims)};
  for (int64_t d : dims)
    for (int s = 24; s >= 0; s -= 8) out += static_cast<char>((d >> s) & 0xFF);
  return out + data;
}

/// n images of h x w, image i filled with the byte `fill(i)`, label i % 10.
void write_idx_set(const fs::path& dir, const std::string& part, int64_t n, int64_t h, int64_t w,
                   bool gz, unsigned char (*fill)(int64_t)) {
  std::string images, labels;
  for (int64_t i = 0; i < n; ++i) {
    images += std::string(h * w, static_cast<char>(fill(i)));
    labels += static_cast<char>(i % 10);
  }
  const std::string ib = idx_bytes(3, {n, h, w}, images), lb = idx_bytes(1, {n}, labels);
  if (gz) {
    write_gz(dir / (part + "-images-idx3-ubyte.gz"), ib);
    write_gz(dir / (part + "-labels-idx1-ubyte.gz"), lb);
  } else {
    write(dir / (part + "-images-idx3-ubyte"), ib);
    write(dir / (part + "-labels-idx1-ubyte"), lb);
  }
}

unsigned char fill51(int64_t i) { return static_cast<unsigned char>(51 * (i % 6)); }

// Found by fuzzing (tests/fuzz): data files need not be UTF-8, and a Latin-1 label or category
// made the error messages and the `attrib data` summary throw nlohmann's type_error 316.
TEST(DenseDataCsv, NonUtf8LabelsAndCategoriesGiveMessagesAndSummaries) {
  const fs::path dir = temp_dir("non_utf8");
  const fs::path f = dir / "latin1.csv";
  write(f, "colour,label\nrouge,caf\xe9\nvert,b\nbleu\xe8,b\n");
  EXPECT_THAT(error_of([&] {
                load("csv:" + f.string(), {{"classes", {"b"}}});
              }),
              HasSubstr(":2: column 'label': expected a label in the label set [\"b\"]"));
  json report;
  const attrib::Dataset d = load("csv:" + f.string(), json::object(), &report);
  const json summary = attrib::dataset_summary(d, report);
  EXPECT_THAT(attrib::render_dataset_summary(summary), HasSubstr("\xEF\xBF\xBD"));  // U+FFFD
  EXPECT_NO_THROW(summary.dump(2, ' ', false, json::error_handler_t::replace));

  const fs::path a = dir / "latin1.arff";
  write(a, "@relation r\n@attribute x {caf\xe9,b}\n@attribute c {p,q}\n@data\nb,p\nz,q\n");
  EXPECT_THAT(
      error_of([&] { load("arff:" + a.string()); }),
      HasSubstr(":6: attribute 'x': expected one of [\"caf\xEF\xBF\xBD\",\"b\"], found 'z'"));
}

TEST(DenseDataIdx, ReadsGzippedAndPlainFilesScaledToUnitRange) {
  const fs::path dir = temp_dir("idx");
  write_idx_set(dir, "train", 3, 2, 3, /*gz=*/true, fill51);
  write_idx_set(dir, "t10k", 2, 2, 3, /*gz=*/false, fill51);
  json report;
  const attrib::Dataset d =
      load("idx:" + dir.string(), {{"val_fraction", 1.0 / 3}}, &report);  // round(1) val
  EXPECT_EQ(d.feature_shape, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(d.dense_train.size(), 2u);
  EXPECT_EQ(d.dense_val.size(), 1u);
  ASSERT_EQ(d.dense_test.size(), 2u);
  EXPECT_EQ(d.class_names.size(), 10u);  // not a fashion folder: 0..9
  EXPECT_EQ(d.class_names[3], "3");
  // t10k item 1: every pixel 51 -> 51 / 255 = 0.2; label 1 % 10 = 1.
  EXPECT_EQ(d.dense_test[1].id, "t10k-1");
  EXPECT_EQ(d.dense_test[1].label, 1);
  EXPECT_EQ(d.dense_test[1].x, std::vector<float>(6, 51 / 255.0f));
  EXPECT_EQ(d.dense_test[0].x, std::vector<float>(6, 0.0f));
  for (const auto* s : {&d.dense_train, &d.dense_val})
    for (const auto& e : *s) EXPECT_EQ(e.x[0], 51 * std::stoi(e.id.substr(6)) / 255.0f);
  // max_train keeps the first items of the file.
  const attrib::Dataset few = load("idx:" + dir.string(), {{"max_train", 1}, {"val_fraction", 0}});
  ASSERT_EQ(few.dense_train.size(), 1u);
  EXPECT_EQ(few.dense_train[0].id, "train-0");
}

TEST(DenseDataIdx, BadFilesAreErrorsNamingTheFileAndByte) {
  const fs::path dir = temp_dir("idx_bad");
  write_idx_set(dir, "train", 3, 2, 3, false, fill51);
  write_idx_set(dir, "t10k", 2, 2, 3, false, fill51);
  const std::string spec = "idx:" + dir.string();
  const fs::path labels = dir / "t10k-labels-idx1-ubyte";
  write(labels, idx_bytes(1, {3}, std::string(3, '\0')));
  EXPECT_THAT(error_of([&] { load(spec); }),
              HasSubstr(labels.string() + ": expected 2 labels (one per image in"));
  write(labels, idx_bytes(1, {2}, std::string(1, '\0')));
  EXPECT_THAT(
      error_of([&] { load(spec); }),
      HasSubstr(labels.string() + ": byte 8: expected 2 data bytes (dimensions [2]), found 1"));
  write(labels, std::string("\0\0\x0d\x01", 4) + std::string(6, '\0'));
  EXPECT_THAT(error_of([&] { load(spec); }),
              HasSubstr(labels.string() + ": byte 0: expected IDX magic 0x00000801"));
  fs::remove(labels);
  EXPECT_THAT(error_of([&] { load(spec); }),
              HasSubstr("expected t10k-labels-idx1-ubyte or t10k-labels-idx1-ubyte.gz, found "
                        "neither"));
}

TEST(DenseDataIdx, HeadersClaimingMoreThanTheFileHoldsAreErrorsNotAllocations) {
  const fs::path dir = temp_dir("idx_claims");
  write_idx_set(dir, "t10k", 2, 2, 3, false, fill51);
  const std::string spec = "idx:" + dir.string();
  const fs::path train = dir / "train-images-idx3-ubyte";
  // 16 items of 3*2^30 x 3*2^30: the product wraps to 0 in 64 bits, which matched the empty data
  // and then asked for a negative item size (vector::_M_default_append, exit 1).
  const int64_t big = int64_t{3} << 30;
  write(train, idx_bytes(3, {16, big, big}, ""));
  write(dir / "train-labels-idx1-ubyte", idx_bytes(1, {16}, std::string(16, '\0')));
  EXPECT_THAT(error_of([&] { load(spec); }),
              HasSubstr(train.string() +
                        ": byte 4: expected dimensions of 1 to 67108864 elements per item, found "
                        "[16,3221225472,3221225472]"));
  write(train, idx_bytes(3, {16, 0, 3}, ""));
  EXPECT_THAT(error_of([&] { load(spec); }),
              HasSubstr(train.string() + ": byte 4: expected dimensions of 1 to"));
  write_idx_set(dir, "train", 3, 2, 3, false, fill51);
  const fs::path images = dir / "t10k-images-idx3-ubyte";
  // A Fashion-MNIST header over 2 items: refused from the file size, plain or gzip.
  write(dir / "t10k-labels-idx1-ubyte", idx_bytes(1, {2}, std::string(2, '\0')));
  write(images, idx_bytes(3, {60000, 28, 28}, std::string(2 * 28 * 28, '\0')));
  EXPECT_THAT(error_of([&] { load(spec); }),
              HasSubstr(images.string() +
                        ": byte 16: expected 47040000 data bytes (dimensions [60000,28,28]), "
                        "found 1568"));
  fs::remove(images);
  write_gz(dir / "t10k-images-idx3-ubyte.gz",
           idx_bytes(3, {60000, 28, 28}, std::string(2 * 28 * 28, '\0')));
  EXPECT_THAT(error_of([&] { load(spec); }),
              HasSubstr("t10k-images-idx3-ubyte.gz: byte 16: expected 47040000 data bytes "
                        "(dimensions [60000,28,28]), found 1568"));
  // gzip data longer than the header says, and a header cut short.
  write_gz(dir / "t10k-images-idx3-ubyte.gz", idx_bytes(3, {2, 2, 3}, std::string(13, '\0')));
  EXPECT_THAT(error_of([&] { load(spec); }),
              HasSubstr(": byte 16: expected 12 data bytes (dimensions [2,2,3]), found 13"));
  write_gz(dir / "t10k-images-idx3-ubyte.gz", idx_bytes(3, {2, 2, 3}, "").substr(0, 10));
  EXPECT_THAT(error_of([&] { load(spec); }),
              HasSubstr(": byte 4: expected 3 dimension sizes, found end of file"));
}

// ---------------------------------------------------------------------------------------------
// images:, image_io

attrib::Image grey(int64_t h, int64_t w, std::vector<uint8_t> px) {
  attrib::Image img;
  img.width = w;
  img.height = h;
  img.channels = 1;
  img.pixels = std::move(px);
  return img;
}

TEST(DenseDataImages, BilinearResizeAndGreyConversionKnownValues) {
  // 2 x 2 [[0, 1], [2, 3]] -> 4 x 4, half-pixel centres: source coordinate (i + 0.5) / 2 - 0.5
  // = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1) on each axis, so a row of [0, 1]
  // becomes 0, 0.25, 0.75, 1 and the rows mix with weights 0, 0.25, 0.75, 1 of +2.
  const auto out = attrib::resize_bilinear({0, 1, 2, 3}, 1, 2, 2, 4, 4);
  const std::vector<float> expected = {0,   0.25, 0.75, 1,   0.5, 0.75, 1.25, 1.5,
                                       1.5, 1.75, 2.25, 2.5, 2,   2.25, 2.75, 3};
  ASSERT_EQ(out.size(), expected.size());
  for (size_t i = 0; i < out.size(); ++i) EXPECT_NEAR(out[i], expected[i], 1e-6) << i;
  // Identity size leaves values unchanged.
  EXPECT_EQ(attrib::resize_bilinear({0, 1, 2, 3}, 1, 2, 2, 2, 2), (std::vector<float>{0, 1, 2, 3}));
  // RGB (255, 0, 0) -> luma 0.299; grey 255 -> three planes of 1.
  attrib::Image red;
  red.width = red.height = 1;
  red.channels = 3;
  red.pixels = {255, 0, 0};
  EXPECT_NEAR(attrib::image_planes(red, 1)[0], 0.299f, 1e-6);
  EXPECT_EQ(attrib::image_planes(grey(1, 1, {255}), 3), (std::vector<float>{1, 1, 1}));
}

TEST(DenseDataImages, PngRoundTripAndUnknownFormat) {
  const fs::path dir = temp_dir("png");
  attrib::Image rgb;
  rgb.width = 2;
  rgb.height = 1;
  rgb.channels = 3;
  rgb.pixels = {1, 2, 3, 250, 251, 252};
  attrib::write_png((dir / "a.png").string(), rgb);
  const attrib::Image back = attrib::read_image((dir / "a.png").string());
  EXPECT_EQ(back.width, 2);
  EXPECT_EQ(back.height, 1);
  EXPECT_EQ(back.channels, 3);
  EXPECT_EQ(back.pixels, rgb.pixels);
  write(dir / "b.png", "not an image");
  EXPECT_THAT(error_of([&] { attrib::read_image((dir / "b.png").string()); }),
              HasSubstr("b.png: expected a PNG or JPEG image, found first bytes 6e 6f 74 20"));
  write(dir / "c.jpg", std::string("\xFF\xD8\xFF\xE0garbage", 11));
  EXPECT_THAT(error_of([&] { attrib::read_image((dir / "c.jpg").string()); }),
              HasSubstr("c.jpg: expected a valid JPEG image, found a corrupt one"));
}

// Found by fuzzing (tests/fuzz): a 636-byte JPEG whose header claimed 60000 x 60000 pixels had
// its 10.8 GB pixel buffer allocated (libjpeg fills a truncated image in). Sizes are now checked
// against kMaxImagePixels from the header, before anything is allocated.
TEST(DenseDataImages, HeadersClaimingHugeImagesAreErrorsNotAllocations) {
  const fs::path dir = temp_dir("image_claims");
  // SOI, SOF0 (8-bit, 60000 x 60000, one component) and SOS: all jpeg_read_header needs.
  write(dir / "big.jpg", std::string("\xFF\xD8\xFF\xC0\x00\x0B\x08\xEA\x60\xEA\x60\x01\x01\x11\x00"
                                     "\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00\x00\x00",
                                     27));
  EXPECT_THAT(error_of([&] { attrib::read_image((dir / "big.jpg").string()); }),
              HasSubstr("big.jpg: expected an image of at most 67108864 pixels (8192 x 8192), "
                        "found 60000 x 60000"));
  // A 2 x 2 PNG whose IHDR (CRC updated) says 10000 x 10000.
  attrib::Image img;
  img.width = img.height = 2;
  img.channels = 1;
  img.pixels = {0, 1, 2, 3};
  attrib::write_png((dir / "big.png").string(), img);
  std::ifstream in(dir / "big.png", std::ios::binary);
  std::string png((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (int k = 0; k < 2; ++k) png.replace(16 + 4 * k, 4, std::string("\x00\x00\x27\x10", 4));
  const uLong crc = crc32(0, reinterpret_cast<const Bytef*>(png.data() + 12), 17);
  for (int k = 0; k < 4; ++k) png[29 + k] = static_cast<char>(crc >> (24 - 8 * k));
  write(dir / "big.png", png);
  EXPECT_THAT(error_of([&] { attrib::read_image((dir / "big.png").string()); }),
              HasSubstr("big.png: expected an image of at most 67108864 pixels (8192 x 8192), "
                        "found 10000 x 10000"));
}

TEST(DenseDataImages, ClassSubfoldersMasksAndThreshold) {
  const fs::path dir = temp_dir("images");
  // 4 x 4 images: value v everywhere; cat/a has a mask whose left half is 128 (>= 0.5 after
  // / 255 = 0.502) and right half 127 (0.498 < 0.5): 8 of 16 pixels marked.
  std::vector<uint8_t> m(16);
  for (int k = 0; k < 16; ++k) m[k] = (k % 4) < 2 ? 128 : 127;
  fs::create_directories(dir / "images" / "cat");
  fs::create_directories(dir / "images" / "dog");
  attrib::write_png((dir / "images" / "cat" / "a.png").string(),
                    grey(4, 4, std::vector<uint8_t>(16, 51)));
  attrib::write_png((dir / "images" / "dog" / "b.png").string(),
                    grey(4, 4, std::vector<uint8_t>(16, 102)));
  fs::create_directories(dir / "masks" / "cat");
  attrib::write_png((dir / "masks" / "cat" / "a.png").string(), grey(4, 4, m));
  write(dir / "images" / "dog" / "notes.txt", "ignored");
  json report;
  const json p = {{"height", 4}, {"width", 4}, {"val_fraction", 0}, {"test_fraction", 0}};
  const attrib::Dataset d = load("images:" + dir.string(), p, &report);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(d.feature_shape, (std::vector<int64_t>{1, 4, 4}));
  ASSERT_EQ(d.dense_train.size(), 2u);
  const auto* a = find(d.dense_train, "cat/a");
  const auto* b = find(d.dense_train, "dog/b");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->label, 0);
  EXPECT_EQ(b->label, 1);
  EXPECT_EQ(a->x, std::vector<float>(16, 51 / 255.0f));
  EXPECT_EQ(b->x, std::vector<float>(16, 102 / 255.0f));
  ASSERT_EQ(a->mask.size(), 16u);
  for (int k = 0; k < 16; ++k) EXPECT_EQ(a->mask[k], (k % 4) < 2 ? 1.0f : 0.0f) << k;
  EXPECT_TRUE(b->mask.empty());
  EXPECT_EQ(report["notes"]["without_mask"], 1);
  EXPECT_EQ(report["notes"]["skipped_files"], 1);
  // Summary: 1 of 2 annotated, mean mask area 8 / 16 = 0.5.
  const json s = attrib::dataset_summary(d, report);
  EXPECT_EQ(s["splits"]["train"]["annotated"], 1);
  EXPECT_DOUBLE_EQ(s["splits"]["train"]["mean_mask_area"].get<double>(), 0.5);
  // Three channels repeat the grey plane and the mask.
  json p3 = p;
  p3["channels"] = 3;
  const attrib::Dataset c3 = load("images:" + dir.string(), p3);
  EXPECT_EQ(c3.feature_shape, (std::vector<int64_t>{3, 4, 4}));
  EXPECT_EQ(find(c3.dense_train, "cat/a")->mask.size(), 48u);
  EXPECT_THAT(error_of([&] { load("images:" + (dir / "nope").string()); }),
              HasSubstr("nope: expected a directory with an image folder"));
}

// ---------------------------------------------------------------------------------------------
// synthetic

TEST(DenseDataSynthetic, TabularLabelsFollowTheKnownFunctionAndSeed) {
  const json p = {{"n_train", 50},      {"n_val", 10},  {"n_test", 10}, {"n_features", 6},
                  {"n_informative", 3}, {"noise", 0.0}, {"seed", 7}};
  const attrib::Dataset d = load("synthetic:tabular_linear", p);
  const auto rel = d.encoding["relevant_features"].get<std::vector<int64_t>>();
  const auto w = d.encoding["weights"].get<std::vector<double>>();
  ASSERT_EQ(rel.size(), 3u);
  int positives = 0;
  for (const auto& e : d.dense_train) {
    double score = 0;
    for (size_t k = 0; k < rel.size(); ++k) score += w[k] * e.x[rel[k]];
    EXPECT_EQ(e.label, score > 0 ? 1 : 0);  // noise 0: the label is the sign of w . x_rel
    positives += static_cast<int>(e.label);
    ASSERT_EQ(e.mask.size(), 6u);
    for (int64_t j = 0; j < 6; ++j)
      EXPECT_EQ(e.mask[j], std::count(rel.begin(), rel.end(), j) ? 1.0f : 0.0f);
  }
  EXPECT_GT(positives, 5);
  EXPECT_LT(positives, 45);
  // Reproducible from the seed; another seed gives other data.
  EXPECT_EQ(load("synthetic:tabular_linear", p).hash, d.hash);
  json p2 = p;
  p2["seed"] = 8;
  EXPECT_NE(load("synthetic:tabular_linear", p2).hash, d.hash);
  // Each example depends on (seed, id) only: more training rows leave the first 50 unchanged.
  json more = p;
  more["n_train"] = 80;
  const attrib::Dataset m = load("synthetic:tabular_linear", more);
  EXPECT_EQ(m.dense_train[49].x, d.dense_train[49].x);
  EXPECT_EQ(m.dense_test[3].x, d.dense_test[3].x);

  const attrib::Dataset nl = load("synthetic:tabular_nonlinear", p);
  const auto r = nl.encoding["relevant_features"].get<std::vector<int64_t>>();
  for (const auto& e : nl.dense_val) {
    const double score =
        double(e.x[r[0]]) * e.x[r[1]] + std::fabs(e.x[r[2]]) - std::sqrt(2.0 / 3.141592653589793);
    EXPECT_EQ(e.label, score > 0 ? 1 : 0);
  }
  EXPECT_THAT(error_of([&] {
                load("synthetic:tabular_linear", {{"n_features", 2}, {"n_informative", 3}});
              }),
              HasSubstr("params.n_informative (3) must be <= params.n_features (2)"));
}

unsigned char fill_by_label(int64_t i) { return static_cast<unsigned char>(25 * (i % 10) + 25); }

TEST(DenseDataSynthetic, BlockMnistPlacesTheItemInTheMaskedCell) {
  const fs::path dir = temp_dir("block_idx");
  write_idx_set(dir, "train", 20, 28, 28, false, fill_by_label);  // item i: constant, label i%10
  write_idx_set(dir, "t10k", 10, 28, 28, true, fill_by_label);
  const json p = {
      {"n_train", 30}, {"n_val", 5}, {"n_test", 5}, {"dir", dir.string()}, {"noise", 0.3}};
  const attrib::Dataset d = load("synthetic:block_mnist", p);
  EXPECT_EQ(d.feature_shape, (std::vector<int64_t>{1, 56, 56}));
  for (const auto* s : {&d.dense_train, &d.dense_test})
    for (const auto& e : *s) {
      ASSERT_EQ(e.mask.size(), 3136u);
      EXPECT_EQ(std::count(e.mask.begin(), e.mask.end(), 1.0f), 784);  // one 28 x 28 cell
      const float item = (25 * e.label + 25) / 255.0f;
      for (size_t k = 0; k < e.x.size(); ++k) {
        if (e.mask[k] == 1.0f)
          ASSERT_EQ(e.x[k], item) << e.id << " " << k;
        else
          ASSERT_LE(e.x[k], 0.3f) << e.id << " " << k;  // uniform noise in [0, 0.3]
      }
    }
  EXPECT_EQ(load("synthetic:block_mnist", p).hash, d.hash);
  json items = p;
  items["distractors"] = "items";
  const attrib::Dataset di = load("synthetic:block_mnist", items);
  // Distractor cells hold other items at half brightness: constant per cell, <= 250 / 255 / 2.
  for (const auto& e : di.dense_train)
    for (size_t k = 0; k < e.x.size(); ++k)
      if (e.mask[k] == 0.0f) ASSERT_LE(e.x[k], 0.5f * 250 / 255.0f + 1e-6);
  EXPECT_THAT(error_of([&] {
                load("synthetic:block_mnist", {{"dir", (dir / "absent").string()}});
              }),
              HasSubstr("synthetic:block_mnist needs Fashion-MNIST IDX files"));
}

// ---------------------------------------------------------------------------------------------
// Collation, hash, schema, CLI

TEST(DenseDataCollate, BatchesAndMasks) {
  std::vector<attrib::DenseExample> ex(3);
  for (int i = 0; i < 3; ++i) {
    ex[i].id = "e" + std::to_string(i);
    ex[i].label = i;
    ex[i].x = {float(i), float(i) + 0.5f, 1, 2, 3, 4};
  }
  ex[1].mask = {1, 0, 0, 0, 0, 1};
  const attrib::Batch b = attrib::collate_dense(ex, 1, 3, {1, 2, 3});
  EXPECT_EQ(b.modality, attrib::Modality::kDense);
  EXPECT_EQ(b.ids, (std::vector<std::string>{"e1", "e2"}));
  EXPECT_EQ(b.inputs.sizes(), (std::vector<int64_t>{2, 1, 2, 3}));
  EXPECT_FLOAT_EQ(b.inputs[1][0][0][1].item<float>(), 2.5f);
  EXPECT_EQ(b.labels[0].item<int64_t>(), 1);
  EXPECT_FALSE(b.attention_mask.defined());
  const attrib::Annotations a = attrib::collate_masks(ex, 1, 3, 6);
  EXPECT_EQ(a.mask.sizes(), (std::vector<int64_t>{2, 6}));
  EXPECT_TRUE(a.present[0].item<bool>());
  EXPECT_FALSE(a.present[1].item<bool>());
  EXPECT_EQ(a.mask[0][5].item<float>(), 1.0f);
  EXPECT_EQ(a.mask.sum().item<float>(), 2.0f);
  EXPECT_EQ(attrib::collate_dense(ex, 2, 2, {6}).inputs.sizes(), (std::vector<int64_t>{0, 6}));
  EXPECT_THAT(error_of([&] { attrib::collate_dense(ex, 0, 1, {5}); }),
              HasSubstr("example 'e0': expected 5 values (feature shape), found 6"));
}

TEST(DenseDataHash, CoversMasksAndTextRationales) {
  const fs::path dir = temp_dir("hash");
  // Same ids, tokens and labels; only the rationale differs.
  write(dir / "a.jsonl", R"({"id": "x", "text": "a b", "label": 0, "rationale": [1, 0]})"
                         "\n");
  write(dir / "b.jsonl", R"({"id": "x", "text": "a b", "label": 0, "rationale": [0, 1]})"
                         "\n");
  EXPECT_NE(load("jsonl:" + (dir / "a.jsonl").string()).hash,
            load("jsonl:" + (dir / "b.jsonl").string()).hash);
  fs::create_directories(dir / "img" / "images");
  fs::create_directories(dir / "img" / "masks");
  attrib::write_png((dir / "img" / "images" / "a.png").string(),
                    grey(4, 4, std::vector<uint8_t>(16, 9)));
  attrib::write_png((dir / "img" / "masks" / "a.png").string(),
                    grey(4, 4, std::vector<uint8_t>(16, 255)));
  const json p = {{"height", 4}, {"width", 4}, {"val_fraction", 0}, {"test_fraction", 0}};
  json none = p;
  none["mask_dir"] = "none";
  EXPECT_NE(load("images:" + (dir / "img").string(), p).hash,
            load("images:" + (dir / "img").string(), none).hash);
}

TEST(DenseDataSchema, SpecsAreValidatedLikeTheTextOnes) {
  EXPECT_TRUE(attrib::dataset_params_schema("csv:x.csv").contains("label"));
  EXPECT_TRUE(attrib::dataset_params_schema("arff:x.arff").contains("missing"));
  EXPECT_TRUE(attrib::dataset_params_schema("idx:").contains("val_fraction"));
  EXPECT_TRUE(attrib::dataset_params_schema("images:d").contains("mask_threshold"));
  EXPECT_TRUE(attrib::dataset_params_schema("synthetic:block_mnist").contains("distractors"));
  EXPECT_THAT(error_of([] { attrib::dataset_params_schema("csv:"); }),
              HasSubstr("expected csv:FILE, found no path after ':'"));
  EXPECT_THAT(error_of([] { attrib::dataset_params_schema("tsv:x"); }),
              HasSubstr("csv:FILE, arff:FILE, idx:[DIR], images:DIR"));
  EXPECT_THAT(error_of([] {
                load("synthetic:tabular_linear", {{"n_features", "ten"}});
              }),
              HasSubstr("n_features"));
}

TEST(DenseDataCli, DataCommandPrintsDenseStatistics) {
  const fs::path f = temp_dir("cli") / "toy.csv";
  write(f, kToyCsv);
  const std::string cmd = "'" ATTRIB_BIN "' data csv:'" + f.string() + "' --json 2>&1";
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    EXPECT_EQ(pclose(p), 0) << out;
  }
  const json s = json::parse(out, nullptr, false);
  ASSERT_FALSE(s.is_discarded()) << out;
  EXPECT_EQ(s["modality"], "dense");
  EXPECT_EQ(s["num_features"], 4);
  EXPECT_EQ(s["splits"]["train"]["examples"], 3);
  EXPECT_EQ(s["splits"]["train"]["labels"]["yes"], 2);
  EXPECT_TRUE(s["splits"]["train"]["mean_mask_area"].is_null());
}

// ---------------------------------------------------------------------------------------------
// Shared research data and the Fashion-MNIST package

fs::path shared_data() {
  if (const char* env = std::getenv("ATTRIB_SHARED_DATA")) return env;
  if (const char* env = std::getenv("ATTRIB_DATA_DIR")) return env;
  return ATTRIB_SHARED_DATA_DEFAULT;
}

TEST(DenseDataShared, SklearnCsvFilesMatchTheirHeaderCounts) {
  const fs::path dir = shared_data() / "tabular" / "sklearn";
  if (!fs::exists(dir / "iris.csv"))
    GTEST_SKIP() << "scikit-learn CSVs not found at " << dir << " (set ATTRIB_SHARED_DATA)";
  struct Expected {
    const char* file;
    size_t rows, features, classes;
  };
  // Header lines: iris "150,4,setosa,...", wine "178,13,...", breast_cancer "569,30,...";
  // digits has no header: 1797 rows of 64 pixels and the digit.
  for (const Expected& x :
       {Expected{"iris.csv", 150, 4, 3}, Expected{"wine_data.csv", 178, 13, 3},
        Expected{"breast_cancer.csv", 569, 30, 2}, Expected{"digits.csv.gz", 1797, 64, 10}}) {
    SCOPED_TRACE(x.file);
    const attrib::Dataset d = load("csv:" + (dir / x.file).string());
    EXPECT_EQ(d.dense_train.size() + d.dense_val.size() + d.dense_test.size(), x.rows);
    EXPECT_EQ(d.num_features(), static_cast<int64_t>(x.features));
    EXPECT_EQ(d.class_names.size(), x.classes);
    // round(0.15 * N) rows in each of val and test.
    EXPECT_EQ(d.dense_test.size(), static_cast<size_t>(std::llround(0.15 * x.rows)));
  }
  EXPECT_EQ(load("csv:" + (dir / "iris.csv").string()).class_names,
            (std::vector<std::string>{"setosa", "versicolor", "virginica"}));
}

TEST(DenseDataShared, WekaArffFilesLoadWithTheirUciCounts) {
  const fs::path dir = shared_data() / "tabular" / "weka";
  if (!fs::exists(dir / "iris.arff"))
    GTEST_SKIP() << "Weka ARFF files not found at " << dir << " (set ATTRIB_SHARED_DATA)";
  struct Expected {
    const char* file;
    size_t rows, features, classes;
    bool has_missing;
  };
  // Features count one-hot columns: credit-g has 7 numeric + 13 nominal attributes with 56
  // values in all = 63; vote has 16 {n,y} attributes = 32; breast-cancer 9 nominal attributes
  // with 9 + 3 + 12 + 13 + 2 + 3 + 2 + 5 + 2 = 51 values; labor 8 numeric + 8 nominal with
  // 3 + 3 + 2 + 3 + 2 + 3 + 2 + 3 = 21 values = 29.
  const Expected all[] = {
      {"iris.arff", 150, 4, 3, false},        {"diabetes.arff", 768, 8, 2, false},
      {"credit-g.arff", 1000, 63, 2, false},  {"glass.arff", 214, 9, 7, false},
      {"ionosphere.arff", 351, 34, 2, false}, {"breast-cancer.arff", 286, 51, 2, true},
      {"vote.arff", 435, 32, 2, true},        {"labor.arff", 57, 29, 2, true}};
  for (const Expected& x : all) {
    SCOPED_TRACE(x.file);
    const std::string spec = "arff:" + (dir / x.file).string();
    if (x.has_missing)
      EXPECT_THAT(error_of([&] { load(spec); }),
                  HasSubstr("expected a value, found a missing value '?'"));
    const attrib::Dataset d = load(spec, {{"missing", "impute"}});
    EXPECT_EQ(d.dense_train.size() + d.dense_val.size() + d.dense_test.size(), x.rows);
    EXPECT_EQ(d.num_features(), static_cast<int64_t>(x.features));
    EXPECT_EQ(d.class_names.size(), x.classes);
  }
}

TEST(DenseDataShared, WeizmannHorseImagesWithMasks) {
  const fs::path dir = shared_data() / "image" / "weizmann_horse";
  if (!fs::exists(dir / "gray"))
    GTEST_SKIP() << "Weizmann horses not found at " << dir << " (set ATTRIB_SHARED_DATA)";
  json report;
  const attrib::Dataset d = load("images:" + dir.string(), json::object(), &report);
  const json s = attrib::dataset_summary(d, report);
  EXPECT_EQ(d.dense_train.size() + d.dense_val.size() + d.dense_test.size(), 328u);
  EXPECT_EQ(d.feature_shape, (std::vector<int64_t>{1, 64, 64}));
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"weizmann_horse"}));
  EXPECT_FALSE(report["notes"].contains("without_mask"));  // every image has its mask
  for (const char* split : {"train", "val", "test"}) {
    EXPECT_EQ(s["splits"][split]["annotated"], s["splits"][split]["examples"]);
    // Horses cover a sizeable part of the frame, never all of it.
    const double area = s["splits"][split]["mean_mask_area"];
    EXPECT_GT(area, 0.1);
    EXPECT_LT(area, 0.6);
  }
  // The colour versions have another resolution; resized, they align with the same masks.
  const attrib::Dataset rgb =
      load("images:" + dir.string(), {{"image_dir", "rgb"}, {"channels", 3}});
  EXPECT_EQ(rgb.feature_shape, (std::vector<int64_t>{3, 64, 64}));
  EXPECT_EQ(find(rgb.dense_train, d.dense_train[0].id)->mask.size(), 3u * 64 * 64);
}

TEST(DenseDataShared, FashionMnistIdxLoads60000And10000) {
  if (!fs::exists(fs::path(attrib::kFashionMnistDir) / "train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist not installed at " << attrib::kFashionMnistDir;
  const attrib::Dataset d = load("idx:");
  EXPECT_EQ(d.dense_train.size() + d.dense_val.size(), 60000u);
  EXPECT_EQ(d.dense_val.size(), 6000u);  // round(0.1 * 60000)
  EXPECT_EQ(d.dense_test.size(), 10000u);
  EXPECT_EQ(d.feature_shape, (std::vector<int64_t>{1, 28, 28}));
  EXPECT_EQ(d.class_names[9], "Ankle boot");
  float lo = 1, hi = 0;
  for (float v : d.dense_test[0].x) lo = std::min(lo, v), hi = std::max(hi, v);
  EXPECT_GE(lo, 0.0f);
  EXPECT_LE(hi, 1.0f);
  EXPECT_GT(hi, 0.5f);
  // The Fashion-MNIST test set is balanced: 1000 per class.
  std::vector<int> counts(10, 0);
  for (const auto& e : d.dense_test) ++counts[e.label];
  EXPECT_EQ(counts, std::vector<int>(10, 1000));
}

}  // namespace
