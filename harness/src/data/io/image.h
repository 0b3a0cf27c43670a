#pragma once
// Image files for dense datasets: PNG (libpng) and JPEG (libjpeg) decoding, PNG writing, grey
// conversion and bilinear resizing. Every error is an attrib::Error naming the file.
#include <cstdint>
#include <string>
#include <vector>

namespace attrib {

/// An 8-bit image, rows top to bottom, channels interleaved (1 grey, 3 RGB).
struct Image {
  int64_t width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;  ///< height * width * channels bytes
};

/// Decodes a PNG or JPEG file, chosen by its first bytes (not its name). Grey+alpha and RGBA
/// lose their alpha channel, palette images are expanded to RGB, 16-bit samples are reduced to 8.
/// An image of more than 8192 x 8192 pixels is an error, raised before its pixels are allocated.
Image read_image(const std::string& path);

/// Writes an 8-bit grey (channels 1) or RGB (channels 3) PNG.
void write_png(const std::string& path, const Image& image);

/// The image as float planes [channels][height][width] in [0, 1] (value / 255), converted to
/// `channels` (1 or 3): RGB to grey by ITU-R 601 luma 0.299 R + 0.587 G + 0.114 B (as PIL's
/// "L"), grey to RGB by repeating the plane.
std::vector<float> image_planes(const Image& image, int64_t channels);

/// Bilinear resize of `channels` planes [channels][in_h][in_w] to [channels][out_h][out_w] with
/// half-pixel centres (PyTorch interpolate(mode="bilinear", align_corners=False), no
/// antialiasing): output pixel (y, x) samples input position ((y + 0.5) * in_h / out_h - 0.5,
/// (x + 0.5) * in_w / out_w - 0.5), clamped to the image.
std::vector<float> resize_bilinear(const std::vector<float>& planes, int64_t channels, int64_t in_h,
                                   int64_t in_w, int64_t out_h, int64_t out_w);

}  // namespace attrib
