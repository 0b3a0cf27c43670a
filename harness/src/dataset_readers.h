#pragma once
// Readers for text datasets on disk (dataset specs `hatexplain:DIR`, `eraser:DIR`,
// `jsonl:FILE`), the small parsers they are built on (CSV, Python literals, tar.gz), and the
// summary printed by `attrib data`. Every error on bad input is an attrib::Error of the form
//   FILE:LINE: what was expected, what was found
//
// `eraser:DIR` reads any dataset published by the ERASER benchmark (movies, boolq, fever,
// multirc, evidence_inference, e-SNLI, cos_e) unchanged: documents from docs/, docs.jsonl or
// docs.tar.gz, evidence token spans (or sentence spans) over the whole document as the rationale.
// An instance's documents are its "docids" (else the document named by its annotation_id, else
// e-SNLI's "<id>_premise" and "<id>_hypothesis", else those its evidences name) and are
// concatenated in that order with a "[SEP]" token between them (premise before hypothesis); the
// query is dropped by default, or appended/prepended after/before a "[SEP]" (param "query").
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dataset.h"

namespace attrib {

/// Limits on a dataset's label set, checked while the labels are read (before the label set and
/// the per-class tables are built), so that a wrong label column (ids, free text) or a corrupt
/// file is an error naming FILE:LINE instead of an allocation failure. 100,000 classes is above
/// every classification benchmark we know of (ImageNet-21k has 21,841) while keeping the
/// models' C-way output layer and the per-class summaries small; 1,000 bytes is far above any
/// real class name (they appear in every report and leaderboard) yet rules out a document or a
/// whole line taken as a label.
constexpr size_t kMaxClasses = 100000;
constexpr size_t kMaxLabelBytes = 1000;

/// Parses a Python literal (as printed by repr()): str ('..' or "..", escapes, u/r prefixes),
/// int, float, True/False/None, list, tuple (as an array) and dict (keys become strings).
/// Errors read "FILE:LINE: WHAT: expected ..., found ..." where LINE is `line` plus the newlines
/// before the error position.
nlohmann::json parse_python_literal(const std::string& text, const std::string& file = "<literal>",
                                    size_t line = 1, const std::string& what = "literal");

/// One CSV record: its fields and the line each field starts on (1-based).
struct CsvRecord {
  size_t line = 0;
  std::vector<std::string> fields;
  std::vector<size_t> field_lines;
};

/// RFC 4180 CSV: comma-separated, fields optionally quoted with ", "" inside quotes is a quote,
/// quoted fields may span lines, LF or CRLF line ends, a leading UTF-8 BOM is skipped and blank
/// lines are ignored. `file` names the source in error messages.
std::vector<CsvRecord> parse_csv(const std::string& text, const std::string& file);

/// Regular files of a gzip-compressed tar archive (ustar/GNU/pax names), keyed by their path in
/// the archive. When `want` is given only entries for which want(path) holds are kept. A kept
/// entry larger than 256 MiB and a truncated archive are errors naming the archive and entry.
/// Up to `len` bytes from the zlib stream `gz` (a gzFile: gzip or plain data) into `buf`, read in
/// chunks of at most 1 MiB; fewer only at the end of the data. A read error throws attrib::Error
/// naming `path`. Readers check sizes that headers claim against what this returns, never
/// allocating what a header claims.
size_t gz_read_upto(void* gz, char* buf, size_t len, const std::string& path);

std::map<std::string, std::string> read_tar_gz(
    const std::string& path, const std::function<bool(const std::string&)>& want = nullptr);

/// HateXplain majority vote: the label chosen by more than half of `votes`, or -1 (undecided).
int64_t majority_vote(const std::vector<int64_t>& votes);

/// HateXplain ground-truth rationale: token t is 1 when mean_k lists[k][t] >= 0.5. The mean is
/// over max(lists.size(), denominator) lists (missing lists count as all-zero); pass 0 to average
/// over the lists given. Lists must all have the same length.
std::vector<float> vote_rationale(const std::vector<std::vector<int64_t>>& lists,
                                  size_t denominator = 0);

/// True for the specs handled here (hatexplain:, eraser:, jsonl:).
bool is_reader_spec(const std::string& spec);

/// Parameter schema of a reader spec.
nlohmann::json reader_params_schema(const std::string& spec);

/// Reads a dataset with resolved `params`. `report`, when given, receives what was read and
/// dropped: {"format", "sources": {split: file}, "splits": {split: {"rows": n, "dropped":
/// {reason: n}}}, "notes": {...}}.
Dataset read_text_dataset(const std::string& name, const std::string& spec,
                          const nlohmann::json& params, nlohmann::json* report);

/// As load_dataset (dataset.h), also filling `report` as read_text_dataset does (an empty object
/// for generated datasets). Defined in dataset.cpp.
Dataset load_dataset_reported(const std::string& name, const std::string& spec,
                              const nlohmann::json& params, uint64_t seed, nlohmann::json* report);

/// Per-split statistics of a loaded dataset: examples, label distribution, annotated examples,
/// mean rationale length (tokens marked, over annotated examples), mean length, plus the reader's
/// dropped counts from `report`.
nlohmann::json dataset_summary(const Dataset& d, const nlohmann::json& report);

/// Human-readable rendering of dataset_summary().
std::string render_dataset_summary(const nlohmann::json& summary);

}  // namespace attrib
