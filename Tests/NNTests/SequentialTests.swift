import Foundation
import XCTest
import Linalg
@testable import NN

final class SequentialTests: XCTestCase {
    func testThreeLayerGradientCheck() {
        var rng = Xoshiro256(seed: 77)
        let d1 = Dense(inputSize: 4, outputSize: 6, activation: .tanh, rng: &rng)
        let d2 = Dense(inputSize: 6, outputSize: 5, rng: &rng)
        let d3 = Dense(inputSize: 5, outputSize: 2, activation: .sigmoid, rng: &rng)
        let net = Sequential([d1, d2, ActivationLayer(.softplus), d3])
        let x = randomMatrix(3, 4, low: -2, high: 2, seed: 5)
        let r = randomMatrix(3, 2, seed: 6)
        _ = net.forward(x, training: true)
        let dx = net.backward(r)
        let rd = doubles(r)
        var params = net.parameters.map { doubles($0.value) }
        func loss(_ x: [Double], _ p: [[Double]]) -> Double {
            let y = refForward([.dense(w: p[0], b: p[1], nin: 4, nout: 6, act: .tanh),
                                .dense(w: p[2], b: p[3], nin: 6, nout: 5, act: .identity),
                                .act(.softplus),
                                .dense(w: p[4], b: p[5], nin: 5, nout: 2, act: .sigmoid)], x, rows: 3)
            return zip(y, rd).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let xd = doubles(x)
        assertClose(doubles(dx), numericalGradient(xd) { loss($0, params) }, atol: 1e-5, rtol: 1e-3, "dX")
        for (k, p) in net.parameters.enumerated() {
            let saved = params
            let num = numericalGradient(params[k]) { v in params[k] = v; defer { params = saved }; return loss(xd, params) }
            assertClose(doubles(p.gradient), num, atol: 1e-5, rtol: 1e-3, "param \(k) \(p.name)")
        }
    }

    func testStateDictNamesShapesAndRoundTrip() throws {
        var rng = Xoshiro256(seed: 3)
        let g = Sequential([Dense(inputSize: 100, outputSize: 128, activation: .relu, rng: &rng),
                            Dense(inputSize: 128, outputSize: 784, activation: .sigmoid, rng: &rng)])
        let sd = g.stateDict()
        XCTAssertEqual(sd.map(\.name), ["0.weight", "0.bias", "2.weight", "2.bias"])
        XCTAssertEqual(sd.map { [$0.tensor.rows, $0.tensor.cols] }, [[128, 100], [1, 128], [784, 128], [1, 784]])
        XCTAssertEqual(g.stateDictShapes()["0.bias"], [128])
        let first = g.layers[0] as! Dense
        XCTAssertEqual(sd[0].tensor[5, 7], first.weight.value[7, 5], "weights are stored out x in")

        let mixed = Sequential([Dense(inputSize: 2, outputSize: 3, rng: &rng), ActivationLayer(.relu),
                                Dense(inputSize: 3, outputSize: 1, rng: &rng)])
        XCTAssertEqual(mixed.stateDict().map(\.name), ["0.weight", "0.bias", "2.weight", "2.bias"])

        let nested = Sequential([Dense(inputSize: 2, outputSize: 3, activation: .relu, rng: &rng),
                                 Sequential([Dense(inputSize: 3, outputSize: 2, activation: .tanh, rng: &rng),
                                             Dense(inputSize: 2, outputSize: 1, rng: &rng)])])
        XCTAssertEqual(nested.stateDict().map(\.name), ["0.weight", "0.bias", "2.0.weight", "2.0.bias", "2.2.weight", "2.2.bias"])

        var rng2 = Xoshiro256(seed: 4)
        let h = Sequential([Dense(inputSize: 100, outputSize: 128, activation: .relu, rng: &rng2),
                            Dense(inputSize: 128, outputSize: 784, activation: .sigmoid, rng: &rng2)])
        try h.loadStateDict(Dictionary(uniqueKeysWithValues: sd.map { ($0.name, $0.tensor) }))
        for (a, b) in zip(g.parameters, h.parameters) { XCTAssertEqual(a.value, b.value) }
    }

    func testLoadStateDictErrorsNameTheProblem() {
        var rng = Xoshiro256(seed: 3)
        let net = Sequential([Dense(inputSize: 3, outputSize: 2, activation: .tanh, rng: &rng),
                              Dense(inputSize: 2, outputSize: 1, rng: &rng)])
        let good = Dictionary(uniqueKeysWithValues: net.stateDict().map { ($0.name, $0.tensor) })
        let before = net.parameters.map(\.value)
        var wrongShape = good; wrongShape["2.weight"] = Matrix(rows: 2, cols: 1)   // not transposed
        XCTAssertThrowsError(try net.loadStateDict(wrongShape)) { e in
            XCTAssertEqual(e as? StateDictError, .shapeMismatch(name: "2.weight", expected: [1, 2], actual: [2, 1]))
            XCTAssertTrue("\(e)".contains("2.weight"))
        }
        var missing = good; missing["0.bias"] = nil
        XCTAssertThrowsError(try net.loadStateDict(missing)) { XCTAssertEqual($0 as? StateDictError, .missingKey("0.bias")) }
        var extra = good; extra["1.weight"] = Matrix(rows: 1, cols: 1)
        XCTAssertThrowsError(try net.loadStateDict(extra)) { XCTAssertEqual($0 as? StateDictError, .unexpectedKey("1.weight")) }
        XCTAssertEqual(net.parameters.map(\.value), before, "a failed load changes nothing")
    }

    /// Freezing a whole network (a GAN's discriminator during the generator step): no parameter
    /// gradients, dX unchanged; unfreezing restores gradient accumulation.
    func testFreezingSequential() {
        var rng = Xoshiro256(seed: 12)
        let net = Sequential([Dense(inputSize: 4, outputSize: 3, activation: .leakyReLU(negativeSlope: 0.2), rng: &rng),
                              Dense(inputSize: 3, outputSize: 1, rng: &rng)])
        let x = randomMatrix(5, 4, seed: 1), g = randomMatrix(5, 1, seed: 2)
        _ = net.forward(x, training: true)
        let dxLive = net.backward(g)
        net.zeroGradients()
        net.isFrozen = true
        XCTAssertTrue(net.isFrozen && net.parameters.allSatisfy(\.isFrozen))
        _ = net.forward(x, training: true)
        XCTAssertEqual(net.backward(g), dxLive)
        XCTAssertTrue(net.parameters.allSatisfy { $0.gradient.elements.allSatisfy { $0 == 0 } })
        net.isFrozen = false
        XCTAssertFalse(net.parameters.contains(where: \.isFrozen))
        net.computesInputGradient = false
        _ = net.forward(x, training: true)
        let none = net.backward(g)
        XCTAssertEqual(none.rows, 0)
        XCTAssertTrue(net.parameters.allSatisfy { !$0.gradient.elements.allSatisfy { $0 == 0 } })
    }

    func testLearnsXOR() {
        var rng = Xoshiro256(seed: 2026)
        let net = Sequential([Dense(inputSize: 2, outputSize: 8, activation: .tanh, rng: &rng),
                              Dense(inputSize: 8, outputSize: 1, activation: .sigmoid, rng: &rng)])
        net.computesInputGradient = false
        let x = Matrix([[0, 0], [0, 1], [1, 0], [1, 1]])
        let y = Matrix([[0], [1], [1], [0]])
        let opt = Adam(parameters: net.parameters, learningRate: 0.05)
        var grad = Matrix.empty
        var loss: Float = 0
        for _ in 0..<500 {
            opt.zeroGradients()
            let p = net.forward(x, training: true)
            loss = Loss.binaryCrossEntropy(predictions: p, targets: y, reduction: .mean, gradient: &grad)
            _ = net.backward(grad)
            opt.step()
        }
        let p = net.forward(x, training: false)
        let predicted = p.elements.map { $0 > 0.5 ? Float(1) : 0 }
        XCTAssertEqual(predicted, y.elements, "XOR not learned, outputs \(p.elements), loss \(loss)")
        XCTAssertLessThan(loss, 0.05)
    }
}
