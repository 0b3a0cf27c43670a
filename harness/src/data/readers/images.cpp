// images:DIR — image files (PNG, JPEG) in DIR/gray|images/[CLASS/], with masks of the same
// names in DIR/figure_ground|masks; resized to height x width, masks >= mask_threshold are the
// annotation.
#include <algorithm>
#include <filesystem>
#include <map>

#include "data/io/image.h"
#include "data/readers/common.h"
#include "data/readers/readers.h"

namespace attrib::readers {

namespace fs = std::filesystem;
using nlohmann::json;

const char* const kImagesSchema = R"JSON({
  "image_dir": {"type": "string", "default": "auto",
                "description": "folder of images inside DIR; auto = gray if present, else images. Subfolders of it, when present, are the classes (sorted by name)"},
  "mask_dir": {"type": "string", "default": "auto",
               "description": "folder of masks inside DIR, same file names (any of .png/.jpg/.jpeg) and subfolders as the images; auto = figure_ground if present, else masks if present, else none; none = no masks"},
  "class_name": {"type": "string", "default": "",
                 "description": "the one class of an image folder without subfolders; empty = the name of DIR"},
  "height": {"type": "integer", "default": 64, "minimum": 4, "maximum": 1024},
  "width": {"type": "integer", "default": 64, "minimum": 4, "maximum": 1024},
  "channels": {"type": "integer", "default": 1, "minimum": 1, "maximum": 3,
               "description": "1 (colour images become grey, ITU-R 601 luma) or 3 (grey images are repeated)"},
  "mask_threshold": {"type": "number", "default": 0.5, "minimum": 0, "maximum": 1,
                     "description": "a resized mask pixel (value / 255) >= this is relevant"},
  "val_fraction": {"type": "number", "default": 0.15, "minimum": 0, "maximum": 0.9},
  "test_fraction": {"type": "number", "default": 0.15, "minimum": 0, "maximum": 0.9},
  "seed": {"type": "integer", "default": 1, "minimum": 0}
})JSON";

namespace {

bool is_image_file(const fs::path& p) {
  const std::string e = lower(p.extension().string());
  return e == ".png" || e == ".jpg" || e == ".jpeg";
}

}  // namespace

Dataset read_images(const std::string& /*name*/, const std::string& dir, const json& p,
                    json& report) {
  report = new_report("images");
  ATTRIB_CHECK(fs::is_directory(dir), "images:", dir,
               ": expected a directory with an image folder (gray/ or images/) and optionally a "
               "mask folder (figure_ground/ or masks/), found none");
  std::string image_dir = p["image_dir"], mask_dir = p["mask_dir"];
  if (image_dir == "auto") image_dir = fs::is_directory(fs::path(dir) / "gray") ? "gray" : "images";
  const fs::path images = fs::path(dir) / image_dir;
  ATTRIB_CHECK(fs::is_directory(images), "images:", dir, ": expected an image folder '", image_dir,
               "', found none");
  if (mask_dir == "auto")
    mask_dir = fs::is_directory(fs::path(dir) / "figure_ground") ? "figure_ground"
               : fs::is_directory(fs::path(dir) / "masks")       ? "masks"
                                                                 : "none";
  const bool with_masks = mask_dir != "none";
  const fs::path masks = fs::path(dir) / mask_dir;
  if (with_masks)
    ATTRIB_CHECK(fs::is_directory(masks), "images:", dir, ": expected a mask folder '", mask_dir,
                 "', found none");
  report["sources"]["images"] = images.string();
  report["sources"]["masks"] = with_masks ? json(masks.string()) : json();

  // Classes: subfolders, or the one folder.
  std::vector<std::string> classes;
  for (const auto& entry : fs::directory_iterator(images))
    if (entry.is_directory()) classes.push_back(entry.path().filename().string());
  std::sort(classes.begin(), classes.end());
  const bool subfolders = !classes.empty();
  if (!subfolders) {
    std::string cname = p["class_name"];
    if (cname.empty()) cname = fs::path(dir).lexically_normal().filename().string();
    if (cname.empty()) cname = fs::path(dir).lexically_normal().parent_path().filename().string();
    classes = {cname};
  }
  struct Item {
    fs::path file;
    std::string rel;  // class/stem or stem
    int64_t label;
  };
  std::vector<Item> items;
  int64_t skipped = 0;
  for (size_t c = 0; c < classes.size(); ++c) {
    const fs::path folder = subfolders ? images / classes[c] : images;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(folder)) {
      if (!entry.is_regular_file()) continue;
      if (is_image_file(entry.path()))
        files.push_back(entry.path());
      else
        ++skipped;
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      const std::string stem = f.stem().string();
      items.push_back({f, subfolders ? classes[c] + "/" + stem : stem, static_cast<int64_t>(c)});
    }
  }
  ATTRIB_CHECK(!items.empty(), "images:", dir, ": expected .png, .jpg or .jpeg files in ",
               images.string(), ", found none");
  if (skipped) report["notes"]["skipped_files"] = skipped;

  const int64_t H = p["height"], W = p["width"], C = p["channels"];
  const float thr = p["mask_threshold"].get<float>();
  const auto split =
      fraction_splits(items.size(), p["val_fraction"], p["test_fraction"], p["seed"]);
  Dataset d;
  d.class_names = classes;
  d.feature_shape = {C, H, W};
  int64_t without_mask = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const Item& it = items[i];
    const Image img = read_image(it.file.string());
    DenseExample e;
    e.id = it.rel;
    e.label = it.label;
    e.x = resize_bilinear(image_planes(img, C), C, img.height, img.width, H, W);
    if (with_masks) {
      const fs::path rel_dir = subfolders ? masks / classes[it.label] : masks;
      fs::path mask_file;
      for (const std::string ext :
           {it.file.extension().string(), std::string(".png"), std::string(".jpg"),
            std::string(".jpeg"), std::string(".PNG"), std::string(".JPG")}) {
        const fs::path cand = rel_dir / (it.file.stem().string() + ext);
        if (fs::is_regular_file(cand)) {
          mask_file = cand;
          break;
        }
      }
      if (mask_file.empty()) {
        ++without_mask;
      } else {
        const Image m = read_image(mask_file.string());
        const auto plane = resize_bilinear(image_planes(m, 1), 1, m.height, m.width, H, W);
        e.mask.resize(static_cast<size_t>(C * H * W));
        for (int64_t c = 0; c < C; ++c)
          for (int64_t k = 0; k < H * W; ++k) e.mask[c * H * W + k] = plane[k] >= thr ? 1.0f : 0.0f;
      }
    }
    dense_of(d, split[i]).push_back(std::move(e));
  }
  if (without_mask) report["notes"]["without_mask"] = without_mask;
  d.encoding = {
      {"pixels", "value / 255, bilinear resize (half-pixel centres, no antialiasing)"},
      {"labels", subfolders ? "class subfolders" : "one class (the folder)"},
      {"mask", with_masks ? "resized mask >= mask_threshold, repeated per channel" : "none"}};
  return d;
}

}  // namespace attrib::readers
