// swift-tools-version:6.0
// libFuzzer targets for every parser of outside input. A separate package because libFuzzer
// supplies `main`; build with scripts/fuzz (swift build -Xswiftc -sanitize=fuzzer,address).
import Foundation
import PackageDescription

// A path dependency's identity is its directory name, whatever the clone is called.
let root = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent()
let rootName = root.lastPathComponent

func fuzzTarget(_ name: String, _ products: [String]) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["FuzzSupport"] + products.map { .product(name: $0, package: rootName) })
}

let package = Package(
    name: "swift-generative-fuzz",
    dependencies: [.package(path: root.path)],
    targets: [
        .target(name: "FuzzSupport"),
        fuzzTarget("fuzz-idx", ["Datasets"]),
        .systemLibrary(name: "CZlibFuzz", path: "Modules/CZlibFuzz"),
        .executableTarget(
            name: "fuzz-idx-gz",
            dependencies: ["FuzzSupport", "CZlibFuzz", .product(name: "Datasets", package: rootName)]),
        fuzzTarget("fuzz-npy", ["Datasets"]),
        fuzzTarget("fuzz-csv", ["Datasets"]),
        fuzzTarget("fuzz-safetensors", ["NN"]),
        // RunConfig and TrainingState live in the Training library.
        fuzzTarget("fuzz-runconfig", ["Generative", "Training"]),
    ]
)
