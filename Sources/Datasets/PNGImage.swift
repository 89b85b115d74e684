import CPNG
import Foundation
import Linalg

/// 8-bit grey-scale PNG output through libpng's simplified API (`png_image_write_to_memory`),
/// written atomically with FileIO's `AtomicFile`.
public enum PNGImage {
    /// Writes a grid of grey-scale images.
    ///
    /// `images` is `n x (height*width)`, one row-major image per row. Values in `range` map
    /// linearly to 0...255 (`range.lowerBound` -> 0 black, `upperBound` -> 255 white), rounded to
    /// nearest and clamped; NaN -> 0. The grid has `min(columns, n)` images per row and
    /// `ceil(n / columns)` rows, with `padding` pixels of `background` between neighbours (none at
    /// the border), so it is `cols*width + (cols-1)*padding` pixels wide.
    /// - Precondition: `images.cols == height * width`, `n > 0`, `height, width, columns > 0`,
    ///   `padding >= 0`, `range.upperBound > range.lowerBound`.
    /// - Throws: `DatasetError` when libpng fails or the file cannot be written.
    public static func writeGrid(_ images: Matrix, height: Int, width: Int, columns: Int,
                                 range: ClosedRange<Float>, padding: Int = 2,
                                 background: UInt8 = 0, to url: URL) throws {
        precondition(height > 0 && width > 0 && columns > 0 && padding >= 0,
                     "writeGrid: height \(height), width \(width), columns \(columns), padding \(padding)")
        precondition(images.cols == height * width,
                     "writeGrid: images have \(images.cols) columns, expected \(height)x\(width)")
        precondition(images.rows > 0, "writeGrid: no images")
        precondition(range.upperBound > range.lowerBound, "writeGrid: empty range \(range)")
        let n = images.rows
        let gridCols = min(columns, n)
        // Not (n + columns - 1) / columns: that overflows for a huge `columns` (gen sample --columns).
        let gridRows = n / columns + (n % columns == 0 ? 0 : 1)
        let gridWidth = gridCols * width + (gridCols - 1) * padding
        let gridHeight = gridRows * height + (gridRows - 1) * padding
        var pixels = [UInt8](repeating: background, count: gridWidth * gridHeight)
        let lo = range.lowerBound
        let scale = 255 / (range.upperBound - range.lowerBound)
        images.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                for k in 0..<n {
                    let top = (k / columns) * (height + padding)
                    let left = (k % columns) * (width + padding)
                    for y in 0..<height {
                        for x in 0..<width {
                            let v = (src[k * height * width + y * width + x] - lo) * scale
                            // `!(v > 0)` also catches NaN.
                            let byte: UInt8 = !(v > 0) ? 0 : v >= 255 ? 255 : UInt8(v.rounded())
                            dst[(top + y) * gridWidth + left + x] = byte
                        }
                    }
                }
            }
        }
        try writeGray(pixels, width: gridWidth, height: gridHeight, to: url)
    }

    /// Writes `pixels` (`height` rows of `width` bytes, 0 black ... 255 white) as an 8-bit grey PNG.
    /// - Precondition: `pixels.count == width * height`, `width, height > 0`.
    /// - Throws: `DatasetError` when libpng fails or the file cannot be written.
    public static func writeGray(_ pixels: [UInt8], width: Int, height: Int, to url: URL) throws {
        precondition(width > 0 && height > 0 && pixels.count == width * height,
                     "writeGray: \(pixels.count) pixels for \(width)x\(height)")
        guard width <= Int(UInt32.max) / 2, height <= Int(UInt32.max) / 2 else {
            throw DatasetError(path: url.path, problem: "image \(width)x\(height) too large for PNG")
        }
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        image.width = png_uint_32(width)
        image.height = png_uint_32(height)
        image.format = png_uint_32(PNG_FORMAT_GRAY)
        let data: Data = try pixels.withUnsafeBufferPointer { px in
            // First call measures the encoded size, the second encodes into a buffer of that size.
            var size = 0
            guard png_image_write_to_memory(&image, nil, &size, 0, px.baseAddress, Int32(width), nil) != 0
            else { throw pngError(&image, url) }
            var out = Data(count: size)
            let ok = out.withUnsafeMutableBytes { buf in
                png_image_write_to_memory(&image, buf.baseAddress, &size, 0, px.baseAddress, Int32(width), nil)
            }
            guard ok != 0 else { throw pngError(&image, url) }
            out.count = size
            return out
        }
        try writeAtomically(data, to: url)
    }

    private static func pngError(_ image: inout png_image, _ url: URL) -> DatasetError {
        let message = withUnsafeBytes(of: &image.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        png_image_free(&image)
        return DatasetError(path: url.path, problem: "libpng: \(message)")
    }
}
