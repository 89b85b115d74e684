// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "swift-generative",
    products: [
        .library(name: "FileIO", targets: ["FileIO"]),
        .library(name: "Linalg", targets: ["Linalg"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        .library(name: "Generative", targets: ["Generative"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "Distributed", targets: ["Distributed"]),
        .executable(name: "gen", targets: ["gen"]),
        .executable(name: "gemm-bench", targets: ["gemm-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // gemm-bench and gen bench: count heap allocations (linked, its malloc precedes libc's on Linux).
        .package(url: "https://github.com/ordo-one/malloc-interposer", from: "1.6.1"),
    ],
    targets: [
        // C libraries from Debian's -dev packages, found through pkg-config.
        .systemLibrary(
            name: "COpenBLAS", path: "Modules/COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        .systemLibrary(
            name: "CZlib", path: "Modules/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CPNG", path: "Modules/CPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]),
        // Open MPI (data-parallel training): only Distributed and gen link it.
        .systemLibrary(
            name: "CMPI", path: "Modules/CMPI", pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),

        // The one atomic file writer (temp file + fsync + rename); no dependencies.
        .target(name: "FileIO"),
        // Our C kernels, header only (static inline): the packed gemm, panel packing, transposes,
        // AVX-512 element-wise passes and the errno-free square root (Linalg, NN, Datasets).
        .target(name: "CVectorMath"),
        .target(name: "Linalg", dependencies: ["COpenBLAS", "CVectorMath"]),
        .target(name: "NN", dependencies: ["Linalg", "FileIO", "CVectorMath"]),
        .target(name: "Datasets", dependencies: ["Linalg", "FileIO", "CZlib", "CPNG", "CVectorMath"]),
        .target(name: "Generative", dependencies: ["NN", "Datasets", "Linalg", "FileIO"]),
        // Run configuration, training state, checkpoint directory and the epoch loop.
        .target(name: "Training", dependencies: ["Generative", "Datasets", "NN", "Linalg", "FileIO"]),
        // The MPI process group for data-parallel training (ProcessGroup over Open MPI).
        .target(name: "Distributed", dependencies: ["NN", "Linalg", "CMPI"]),
        .executableTarget(
            name: "gen",
            dependencies: [
                "Training", "Generative", "Datasets", "NN", "Linalg", "FileIO", "Distributed",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
            ]),
        .executableTarget(
            name: "gemm-bench",
            dependencies: [
                "Linalg", "COpenBLAS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
            ]),

        .testTarget(name: "LinalgTests", dependencies: ["Linalg"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Linalg"], exclude: ["Fixtures"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Linalg", "FileIO"], exclude: ["Fixtures"]),
        .testTarget(name: "GenerativeTests", dependencies: ["Generative", "Datasets", "NN", "Linalg"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "TrainingTests",
                    dependencies: ["Training", "Generative", "Datasets", "NN", "Linalg",
                                   .product(name: "MallocInterposerSwift", package: "malloc-interposer")]),
        // The README's "As a library" package (Examples/ sources) built with SwiftPM and run.
        .testTarget(name: "ExamplesTests", dependencies: ["Training", "Generative", "Datasets", "NN", "Linalg"]),
        // Runs the built `gen` executable end to end.
        .testTarget(name: "genTests", dependencies: ["gen", "Training", "Generative", "Datasets", "Linalg"]),
    ]
)
