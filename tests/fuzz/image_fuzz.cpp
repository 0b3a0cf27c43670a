// PNG/JPEG decoding (data/io/image.h) and the conversions the images: reader applies after it.
#include <string>

#include "data/io/image.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace attrib;
  fuzz::Scratch& scratch = fuzz::Scratch::get();
  scratch.reset({{"image", std::string(reinterpret_cast<const char*>(data), size)}});
  return fuzz::run_one([&] {
    const Image img = read_image(scratch.path("image"));
    if (img.pixels.size() != static_cast<size_t>(img.width * img.height * img.channels)) abort();
    for (const int64_t channels : {1, 3}) {
      const std::vector<float> planes = image_planes(img, channels);
      resize_bilinear(planes, channels, img.height, img.width, 5, 7);
    }
  });
}
