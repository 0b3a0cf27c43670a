// idx:[DIR] — IDX images and labels (train-*, t10k-*, gzip or not), pixels / 255, val carved
// from train by a seeded fraction. Errors name FILE: byte N.
#include "data/readers/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "data/io/gzip.h"
#include "data/readers/common.h"
#include "data/readers/readers.h"

namespace attrib {

const char* const kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

namespace readers {

namespace fs = std::filesystem;
using nlohmann::json;

const char* const kIdxSchema = R"JSON({
  "val_fraction": {"type": "number", "default": 0.1, "minimum": 0, "maximum": 0.9,
                   "description": "fraction of the train file carved out (seeded) as the val split"},
  "seed": {"type": "integer", "default": 1, "minimum": 0},
  "max_train": {"type": "integer", "default": 0, "minimum": 0,
                "description": "use only the first N items of the train file (before the val carve); 0 = all"},
  "max_test": {"type": "integer", "default": 0, "minimum": 0,
               "description": "use only the first N items of the t10k file; 0 = all"},
  "classes": {"type": "array", "default": [],
              "description": "class names in label order; empty = the Fashion-MNIST names when DIR's path contains 'fashion', else 0..9"}
})JSON";

namespace {

const char* const kFashionClasses[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                       "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

struct Idx {
  std::vector<int64_t> dims;
  std::string bytes;  ///< the data after the header
};

std::string find_idx(const std::string& dir, const std::string& base) {
  for (const std::string& f : {base, base + ".gz"}) {
    const fs::path p = fs::path(dir) / f;
    if (fs::is_regular_file(p)) return p.string();
  }
  throw Error("idx:" + dir + ": expected " + base + " or " + base + ".gz, found neither" +
              (dir == kFashionMnistDir ? " (apt-get install dataset-fashion-mnist)" : ""));
}

/// Most elements of one IDX item (the product of the dimensions after the first): an 8192 x 8192
/// image. Items become float vectors, so a header that is wrong cannot ask for more than 256 MiB
/// per item even when it claims zero items (and so zero data bytes).
constexpr uint64_t kMaxIdxItem = uint64_t{1} << 26;

/// The header and data of an IDX file, gzip or not. The data size the header claims is checked
/// against the file before anything that size is allocated: a plain file's size is known, and
/// gzip data are read incrementally, so a header claiming more than the file holds is an error,
/// not an allocation of what it claims.
Idx read_idx(const std::string& path, int ndims) {
  ATTRIB_CHECK(fs::is_regular_file(path), path, ": expected a readable file, found none");
  gzFile gz = gzopen(path.c_str(), "rb");
  ATTRIB_CHECK(gz, path, ": expected a readable file, found none (", std::strerror(errno), ")");
  std::unique_ptr<gzFile_s, int (*)(gzFile)> guard(gz, gzclose);
  // Up to `len` bytes; fewer only at the end of the data.
  auto read = [&](char* buf, size_t len) { return gz_read_upto(gz, buf, len, path); };
  const size_t header = 4 + 4 * static_cast<size_t>(ndims);
  std::string head(header, '\0');
  const size_t got_magic = read(head.data(), 4);
  auto byte = [&](size_t i) { return static_cast<unsigned char>(head[i]); };
  if (got_magic < 4)
    throw Error(path + ": byte 0: expected a 4-byte IDX magic number, found " +
                std::to_string(got_magic) + " bytes");
  char buf[96];
  if (byte(0) != 0 || byte(1) != 0 || byte(2) != 0x08 || byte(3) != ndims) {
    std::snprintf(buf, sizeof buf,
                  "0x000008%02x (unsigned bytes, %d dimensions), found 0x%02x%02x%02x%02x", ndims,
                  ndims, byte(0), byte(1), byte(2), byte(3));
    throw Error(path + ": byte 0: expected IDX magic " + buf);
  }
  if (read(head.data() + 4, header - 4) < header - 4)
    throw Error(path + ": byte 4: expected " + std::to_string(ndims) +
                " dimension sizes, found end of file");
  Idx out;
  uint64_t total = 1, item = 1;  // overflow-checked: the dimensions are 32-bit each
  bool overflow = false;
  for (int k = 0; k < ndims; ++k) {
    const size_t o = 4 + 4 * k;
    const int64_t d =
        (int64_t(byte(o)) << 24) | (byte(o + 1) << 16) | (byte(o + 2) << 8) | byte(o + 3);
    out.dims.push_back(d);
    overflow |= __builtin_mul_overflow(total, static_cast<uint64_t>(d), &total);
    if (k > 0) overflow |= __builtin_mul_overflow(item, static_cast<uint64_t>(d), &item);
  }
  if (overflow || item > kMaxIdxItem || (ndims > 1 && item == 0))
    throw Error(path + ": byte 4: expected dimensions of 1 to " + std::to_string(kMaxIdxItem) +
                " elements per item, found " + json(out.dims).dump());
  auto size_error = [&](uint64_t found) {
    return Error(path + ": byte " + std::to_string(header) + ": expected " + std::to_string(total) +
                 " data bytes (dimensions " + json(out.dims).dump() + "), found " +
                 std::to_string(found));
  };
  if (gzdirect(gz)) {  // plain file: its size says how much data follows the header
    const uint64_t size = fs::file_size(path);
    const uint64_t available = size > header ? size - header : 0;
    if (available != total) throw size_error(available);
    out.bytes.resize(total);
    const size_t got = read(out.bytes.data(), total);
    if (got != total) throw size_error(got);
    return out;
  }
  // gzip: the size is unknown until the end, so the data grow as they arrive.
  out.bytes.reserve(std::min<uint64_t>(total, 1 << 24));
  char chunk[1 << 16];
  uint64_t got = 0;
  for (size_t r; got < total && (r = read(chunk, std::min<uint64_t>(total - got, sizeof chunk)));
       got += r)
    out.bytes.append(chunk, r);
  if (got < total) throw size_error(got);
  for (size_t r; (r = read(chunk, sizeof chunk));) got += r;  // bytes after the data
  if (got != total) throw size_error(got);
  return out;
}

}  // namespace

IdxSet load_idx(const std::string& dir, const json& p, json& report) {
  ATTRIB_CHECK(
      fs::is_directory(dir), "idx:", dir,
      ": expected a directory with train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
      "t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz], found none",
      dir == kFashionMnistDir ? " (apt-get install dataset-fashion-mnist)" : "");
  IdxSet out;
  int64_t top = -1;
  for (const std::string part : {"train", "t10k"}) {
    const std::string ip = find_idx(dir, part + "-images-idx3-ubyte");
    const std::string lp = find_idx(dir, part + "-labels-idx1-ubyte");
    const Idx images = read_idx(ip, 3), labels = read_idx(lp, 1);
    if (images.dims[0] != labels.dims[0])
      throw Error(lp + ": expected " + std::to_string(images.dims[0]) +
                  " labels (one per image in " + ip + "), found " + std::to_string(labels.dims[0]));
    const std::vector<int64_t> shape = {1, images.dims[1], images.dims[2]};
    if (out.shape.empty()) out.shape = shape;
    if (shape != out.shape)
      throw Error(ip + ": expected images of " + json(out.shape).dump() +
                  " like the train file, found " + json(shape).dump());
    report["sources"][part == "train" ? "train" : "test"] = ip;
    int64_t n = images.dims[0];
    const int64_t limit = part == "train" ? p["max_train"] : p["max_test"];
    if (limit > 0) n = std::min(n, limit);
    const int64_t hw = images.dims[1] * images.dims[2];
    auto& dst = part == "train" ? out.train : out.test;
    dst.resize(n);
    for (int64_t i = 0; i < n; ++i) {
      DenseExample& e = dst[i];
      e.id = part + "-" + std::to_string(i);
      e.label = static_cast<unsigned char>(labels.bytes[i]);
      top = std::max(top, e.label);
      e.x.resize(hw);
      const unsigned char* px =
          reinterpret_cast<const unsigned char*>(images.bytes.data()) + i * hw;
      for (int64_t k = 0; k < hw; ++k) e.x[k] = px[k] / 255.0f;
    }
  }
  out.classes = string_list(p, "classes");
  if (out.classes.empty()) {
    if (lower(dir).find("fashion") != std::string::npos && top <= 9)
      out.classes.assign(std::begin(kFashionClasses), std::end(kFashionClasses));
    else
      for (int64_t c = 0; c <= std::max<int64_t>(top, 9); ++c)
        out.classes.push_back(std::to_string(c));
  }
  if (top >= static_cast<int64_t>(out.classes.size()))
    throw Error("idx:" + dir + ": expected labels < " + std::to_string(out.classes.size()) +
                " (params.classes), found " + std::to_string(top));
  return out;
}

Dataset read_idx_dataset(const std::string& /*name*/, const std::string& arg, const json& p,
                         json& report) {
  report = new_report("idx");
  const std::string dir = arg.empty() ? kFashionMnistDir : arg;
  IdxSet s = load_idx(dir, p, report);
  Dataset d;
  d.class_names = s.classes;
  d.feature_shape = s.shape;
  const auto split = fraction_splits(s.train.size(), p["val_fraction"], 0.0, p["seed"]);
  for (size_t i = 0; i < s.train.size(); ++i)
    dense_of(d, split[i]).push_back(std::move(s.train[i]));
  d.dense_test = std::move(s.test);
  d.encoding = {{"pixels", "value / 255"}, {"val", "seeded fraction of the train file"}};
  return d;
}

}  // namespace readers
}  // namespace attrib
