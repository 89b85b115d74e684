// swift-tools-version:6.0
// Measures Conv2d's im2col + gemm strategies: one gemm per batch (what NN.Conv2d does) against
// one gemm per sample, forward + backward, at DCGAN shapes for 28x28 (batch 128); then counts
// heap allocations of a steady-state forward+backward through every new layer.
// Run from this folder (needs internal access to NN's im2col):
//   swift run -c release -Xswiftc -enable-testing conv-strategy-bench
import PackageDescription

let package = Package(
    name: "conv-strategy-bench",
    dependencies: [
        .package(name: "swift-generative", path: "../.."),
        .package(url: "https://github.com/ordo-one/malloc-interposer", from: "1.6.1"),
    ],
    targets: [
        .executableTarget(name: "conv-strategy-bench",
                          dependencies: [.product(name: "NN", package: "swift-generative"),
                                         .product(name: "Linalg", package: "swift-generative"),
                                         .product(name: "MallocInterposerSwift", package: "malloc-interposer")]),
    ]
)
