// swift-tools-version:6.0
// Times Adam's update loop (no weight decay) with Linalg.fastSqrt (the hardware's exact square
// root) against the bit-trick + three Newton steps it replaced, alternating, medians of 9.
// Run from this folder:  swift run -c release adam-loop-bench [elements ...]
// (default 327680, one replica's half of the VAE's parameters, and 4194304).
import PackageDescription

let package = Package(
    name: "adam-loop-bench",
    dependencies: [.package(name: "swift-generative", path: "../..")],
    targets: [
        .executableTarget(name: "adam-loop-bench",
                          dependencies: [.product(name: "Linalg", package: "swift-generative")]),
    ]
)
