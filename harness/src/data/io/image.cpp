#include "data/io/image.h"

#include <cerrno>
#include <csetjmp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>

// jpeglib.h needs size_t and FILE declared first (above).
#include <jpeglib.h>
#include <png.h>

#include "attrib/error.h"

namespace attrib {

namespace {

/// Most pixels of an image read: 8192 x 8192 (as the largest IDX item), far above what a dense
/// dataset resizes to (at most 1024 x 1024), yet it refuses a corrupt or hostile header before
/// the pixel buffer is allocated (a 636-byte JPEG claiming 60000 x 60000 asked for 10.8 GB, and
/// libjpeg fills a truncated image in rather than failing).
constexpr uint64_t kMaxImagePixels = uint64_t{1} << 26;

std::string too_large(const std::string& path, uint64_t width, uint64_t height) {
  return path + ": expected an image of at most " + std::to_string(kMaxImagePixels) +
         " pixels (8192 x 8192), found " + std::to_string(width) + " x " + std::to_string(height);
}

Image read_png(const std::string& path) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&png, path.c_str()))
    throw Error(path + ": expected a PNG image, found an unreadable one (" + png.message + ")");
  if (uint64_t{png.width} * png.height > kMaxImagePixels) {
    png_image_free(&png);
    throw Error(too_large(path, png.width, png.height));
  }
  const bool colour = (png.format & PNG_FORMAT_FLAG_COLOR) != 0;
  png.format = colour ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;  // alpha dropped, composited on black
  Image img;
  img.width = png.width;
  img.height = png.height;
  img.channels = colour ? 3 : 1;
  img.pixels.resize(PNG_IMAGE_SIZE(png));
  if (!png_image_finish_read(&png, nullptr, img.pixels.data(), 0, nullptr)) {
    const std::string msg = png.message;
    png_image_free(&png);
    throw Error(path + ": expected a valid PNG image, found a corrupt one (" + msg + ")");
  }
  return img;
}

struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void jpeg_fail(j_common_ptr info) {
  auto* err = reinterpret_cast<JpegError*>(info->err);
  (*info->err->format_message)(info, err->message);
  std::longjmp(err->jump, 1);
}

void jpeg_quiet(j_common_ptr, int) {}  // warnings (e.g. extraneous bytes) are not errors

Image read_jpeg(const std::string& path) {
  // Everything with a destructor lives before setjmp, so longjmp skips none (libjpeg is C).
  Image img;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  ATTRIB_CHECK(f, path, ": expected a readable JPEG file, found none (", std::strerror(errno), ")");
  jpeg_decompress_struct info;
  JpegError err;
  info.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_fail;
  err.mgr.emit_message = jpeg_quiet;
  err.message[0] = '\0';
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&info);
    std::fclose(f);
    throw Error(path + ": expected a valid JPEG image, found a corrupt one (" +
                std::string(err.message) + ")");
  }
  jpeg_create_decompress(&info);
  jpeg_stdio_src(&info, f);
  jpeg_read_header(&info, TRUE);
  info.out_color_space = info.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  if (uint64_t{info.image_width} * info.image_height > kMaxImagePixels) {
    const uint64_t w = info.image_width, h = info.image_height;
    jpeg_destroy_decompress(&info);
    std::fclose(f);
    throw Error(too_large(path, w, h));
  }
  jpeg_start_decompress(&info);
  img.width = info.output_width;
  img.height = info.output_height;
  img.channels = info.output_components;
  img.pixels.resize(static_cast<size_t>(img.width * img.height * img.channels));
  while (info.output_scanline < info.output_height) {
    JSAMPROW row =
        img.pixels.data() + static_cast<size_t>(info.output_scanline) * img.width * img.channels;
    jpeg_read_scanlines(&info, &row, 1);
  }
  jpeg_finish_decompress(&info);
  jpeg_destroy_decompress(&info);
  std::fclose(f);
  return img;
}

}  // namespace

Image read_image(const std::string& path) {
  unsigned char magic[8] = {0};
  {
    std::ifstream in(path, std::ios::binary);
    ATTRIB_CHECK(in, path, ": expected a readable image file, found none (", std::strerror(errno),
                 ")");
    in.read(reinterpret_cast<char*>(magic), sizeof magic);
  }
  static const unsigned char kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (std::memcmp(magic, kPng, 8) == 0) return read_png(path);
  if (magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF) return read_jpeg(path);
  char found[64];
  std::snprintf(found, sizeof found, "first bytes %02x %02x %02x %02x", magic[0], magic[1],
                magic[2], magic[3]);
  throw Error(path + ": expected a PNG or JPEG image, found " + found);
}

void write_png(const std::string& path, const Image& image) {
  ATTRIB_CHECK(image.channels == 1 || image.channels == 3, path,
               ": write_png: expected 1 or 3 channels, found ", image.channels);
  ATTRIB_CHECK(
      image.pixels.size() == static_cast<size_t>(image.width * image.height * image.channels), path,
      ": write_png: expected ", image.width * image.height * image.channels, " bytes, found ",
      image.pixels.size());
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(image.width);
  png.height = static_cast<png_uint_32>(image.height);
  png.format = image.channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  if (!png_image_write_to_file(&png, path.c_str(), 0, image.pixels.data(), 0, nullptr))
    throw Error(path + ": expected to write a PNG image, failed (" + png.message + ")");
}

std::vector<float> image_planes(const Image& image, int64_t channels) {
  ATTRIB_CHECK(channels == 1 || channels == 3, "image_planes: expected 1 or 3 channels, found ",
               channels);
  const int64_t hw = image.width * image.height;
  std::vector<float> out(static_cast<size_t>(channels * hw));
  for (int64_t p = 0; p < hw; ++p) {
    const uint8_t* px = image.pixels.data() + p * image.channels;
    if (image.channels == 1) {
      for (int64_t c = 0; c < channels; ++c) out[c * hw + p] = px[0] / 255.0f;
    } else if (channels == 3) {
      for (int64_t c = 0; c < 3; ++c) out[c * hw + p] = px[c] / 255.0f;
    } else {
      out[p] = (0.299f * px[0] + 0.587f * px[1] + 0.114f * px[2]) / 255.0f;
    }
  }
  return out;
}

std::vector<float> resize_bilinear(const std::vector<float>& planes, int64_t channels, int64_t in_h,
                                   int64_t in_w, int64_t out_h, int64_t out_w) {
  ATTRIB_CHECK(in_h > 0 && in_w > 0 && out_h > 0 && out_w > 0 &&
                   planes.size() == static_cast<size_t>(channels * in_h * in_w),
               "resize_bilinear: expected ", channels, " x ", in_h, " x ", in_w, " values, found ",
               planes.size());
  // Source index pairs and weights per output row / column.
  struct Tap {
    int64_t lo, hi;
    float w;  // weight of hi
  };
  auto taps = [](int64_t in, int64_t out) {
    std::vector<Tap> t(out);
    const double scale = static_cast<double>(in) / out;
    for (int64_t i = 0; i < out; ++i) {
      double src = (i + 0.5) * scale - 0.5;
      if (src < 0) src = 0;
      int64_t lo = static_cast<int64_t>(src);
      if (lo > in - 1) lo = in - 1;
      const int64_t hi = lo + 1 < in ? lo + 1 : in - 1;
      t[i] = {lo, hi, static_cast<float>(src - lo)};
    }
    return t;
  };
  const auto ty = taps(in_h, out_h), tx = taps(in_w, out_w);
  std::vector<float> out(static_cast<size_t>(channels * out_h * out_w));
  for (int64_t c = 0; c < channels; ++c) {
    const float* src = planes.data() + c * in_h * in_w;
    float* dst = out.data() + c * out_h * out_w;
    for (int64_t y = 0; y < out_h; ++y) {
      const float* r0 = src + ty[y].lo * in_w;
      const float* r1 = src + ty[y].hi * in_w;
      const float wy = ty[y].w;
      for (int64_t x = 0; x < out_w; ++x) {
        const float top = r0[tx[x].lo] + tx[x].w * (r0[tx[x].hi] - r0[tx[x].lo]);
        const float bottom = r1[tx[x].lo] + tx[x].w * (r1[tx[x].hi] - r1[tx[x].lo]);
        dst[y * out_w + x] = top + wy * (bottom - top);
      }
    }
  }
  return out;
}

}  // namespace attrib
