import Foundation

/// Labelled grey-scale images kept as bytes: `images` is `count x (height*width)` row-major (one
/// image per row, pixel 0 = black ... 255 = white for MNIST), `labels` one class 0-9 per image.
public struct LabeledImages: Sendable {
    public let images: [UInt8]
    public let labels: [UInt8]
    public let count: Int
    public let height: Int
    public let width: Int
    /// Pixels per image, `height * width`.
    public var sampleSize: Int { height * width }

    public init(images: [UInt8], labels: [UInt8], count: Int, height: Int, width: Int) {
        precondition(images.count == count * height * width && labels.count == count,
                     "LabeledImages: \(images.count) image bytes / \(labels.count) labels for \(count)x\(height)x\(width)")
        self.images = images
        self.labels = labels
        self.count = count
        self.height = height
        self.width = width
    }
}

/// The MNIST handwritten-digit database (LeCun, Cortes & Burges) in its original IDX files.
public enum MNIST {
    public enum Split: Sendable {
        case train, test

        /// File-name prefix of the split: `train` or `t10k`.
        public var filePrefix: String { self == .train ? "train" : "t10k" }
    }

    /// Loads `{train|t10k}-images-idx3-ubyte` and `{train|t10k}-labels-idx1-ubyte` from
    /// `directory`, preferring the `.gz` file and accepting the uncompressed one.
    ///
    /// - Returns: `count x 784` image bytes (28x28 for the standard files) and `count` labels.
    /// - Throws: `DatasetError` naming the file when a file is missing, its magic is not
    ///   0x00000803 (images) / 0x00000801 (labels), its size disagrees with its dimensions, it is
    ///   truncated, the image and label counts differ, or a label is above 9.
    public static func load(_ split: Split, from directory: URL) throws -> LabeledImages {
        let imagesURL = try locate("\(split.filePrefix)-images-idx3-ubyte", in: directory)
        let labelsURL = try locate("\(split.filePrefix)-labels-idx1-ubyte", in: directory)
        let images = try IDX.read(contentsOf: imagesURL, expectedDimensions: 3, role: "images")
        let labels = try IDX.read(contentsOf: labelsURL, expectedDimensions: 1, role: "labels")
        let (n, h, w) = (images.dimensions[0], images.dimensions[1], images.dimensions[2])
        guard h > 0 && w > 0 else {
            throw DatasetError(path: imagesURL.path, problem: "empty images \(n)x\(h)x\(w)")
        }
        guard labels.dimensions[0] == n else {
            throw DatasetError(path: labelsURL.path, problem:
                "\(labels.dimensions[0]) labels but \(imagesURL.lastPathComponent) has \(n) images")
        }
        if let bad = labels.bytes.firstIndex(where: { $0 > 9 }) {
            throw DatasetError(path: labelsURL.path, problem:
                "label \(labels.bytes[bad]) at index \(bad) is not a digit 0-9")
        }
        return LabeledImages(images: images.bytes, labels: labels.bytes, count: n, height: h, width: w)
    }

    /// The package's shipped copy, relative to a package root.
    public static let defaultRelativePath = "data/mnist"

    /// The package's shipped copy: `data/mnist` found by `ShippedFiles.locate` ($GEN_HOME, the
    /// current directory, the executable's location, the source tree), or nil when none has it.
    public static func defaultDirectory() -> URL? {
        ShippedFiles.locate(defaultRelativePath, directory: true)
    }

    private static func locate(_ base: String, in directory: URL) throws -> URL {
        let gz = directory.appendingPathComponent(base + ".gz")
        if FileManager.default.fileExists(atPath: gz.path) { return gz }
        let raw = directory.appendingPathComponent(base)
        if FileManager.default.fileExists(atPath: raw.path) { return raw }
        throw DatasetError(path: gz.path, problem: "not found (nor \(base) uncompressed)")
    }
}
