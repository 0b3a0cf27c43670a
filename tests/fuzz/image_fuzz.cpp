// PNG/JPEG decoding (data/io/image.h) and the conversions the images: reader applies after it.
// A PNG's chunk CRCs are set first, so that mutations reach the chunks' contents instead of
// failing libpng's CRC check.
#include <zlib.h>

#include <cstdlib>
#include <string>

#include "data/io/image.h"
#include "fuzz_common.h"

namespace {

void fix_png_crcs(std::string& png) {
  auto u32 = [&](size_t at) {
    const auto* p = reinterpret_cast<const unsigned char*>(png.data() + at);
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
  };
  for (size_t at = 8; at + 12 <= png.size();) {
    const uint32_t len = u32(at);
    if (len > png.size() - at - 12) break;
    const uLong crc =
        crc32(0, reinterpret_cast<const Bytef*>(png.data() + at + 4), static_cast<uInt>(len + 4));
    for (int k = 0; k < 4; ++k) png[at + 8 + len + k] = static_cast<char>(crc >> (24 - 8 * k));
    at += 12 + len;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace attrib;
  std::string bytes(reinterpret_cast<const char*>(data), size);
  if (bytes.compare(0, 4, "\x89PNG") == 0) fix_png_crcs(bytes);
  fuzz::Scratch& scratch = fuzz::Scratch::get();
  scratch.reset({{"image", bytes}});
  return fuzz::run_one([&] {
    const Image img = read_image(scratch.path("image"));
    if (img.pixels.size() != static_cast<size_t>(img.width * img.height * img.channels)) abort();
    for (const int64_t channels : {1, 3}) {
      const std::vector<float> planes = image_planes(img, channels);
      resize_bilinear(planes, channels, img.height, img.width, 5, 7);
    }
  });
}
