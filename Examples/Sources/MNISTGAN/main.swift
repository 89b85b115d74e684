import Foundation

// swift run -c release mnist-gan [swift-generative clone, default ../swift-generative] [first N images]
let arguments = CommandLine.arguments.dropFirst()
let repository = URL(fileURLWithPath: arguments.first ?? "../swift-generative")
let output = URL(fileURLWithPath: "mnist-gan-output")
try? FileManager.default.removeItem(at: output)   // a run directory is never overwritten
let quality = try trainMNISTGAN(repository: repository, output: output, limit: arguments.dropFirst().first.flatMap { Int($0) })
print("FID \(quality.fid), \(quality.coverage.classesCovered) of 10 classes; samples in \(output.path)")
