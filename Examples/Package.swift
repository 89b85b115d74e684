// swift-tools-version:6.0
import Foundation
import PackageDescription

// A library user's package: the GAN of Sources/MNISTGAN (shown in the README, "As a library"),
// over the swift-generative package that contains this folder. Run it from here with
// `swift run -c release mnist-gan ..` (the argument is the repository, for data/mnist and the
// classifier).
//
// A path dependency's identity is its folder's name, which is whatever this clone was called,
// so it is read from this file's path; your own package names it: `package: "swift-generative"`.
let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let identity = repository.lastPathComponent.lowercased()

let package = Package(
    name: "Examples",
    dependencies: [.package(path: repository.path)],
    targets: [
        .executableTarget(
            name: "mnist-gan",
            dependencies: ["Datasets", "Generative", "Linalg", "NN", "Training"].map {
                .product(name: $0, package: identity)
            },
            path: "Sources/MNISTGAN"),
    ]
)
