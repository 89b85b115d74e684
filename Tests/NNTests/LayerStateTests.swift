import Foundation
import XCTest
import Linalg
import NN

/// A layer with a non-trainable buffer, written as a library user would (no `@testable`):
/// `y = x - runningMean`, where training updates `runningMean` toward the batch mean.
private final class Centering: Layer {
    let runningMean = Matrix(rows: 1, cols: 2)
    var stored: Matrix
    var isFrozen = false
    var computesInputGradient = true
    init() { stored = runningMean }
    var parameters: [Parameter] { [] }
    func forward(_ x: Matrix, training: Bool) -> Matrix { x }
    func backward(_ g: Matrix) -> Matrix { g }
    var stateEntries: [StateEntry] {
        [StateEntry(name: "running_mean", shape: [2], kind: .buffer, parameter: nil,
                    read: { self.stored }, write: { self.stored.assign($0) })]
    }
}

/// SignSGD (Bernstein et al. 2018): `p -= lr * sign(g)`, one slot counting updates, written
/// as a subclass outside NN: only the update rule.
private final class SignSGD: Optimizer {
    init(parameters: [Parameter], learningRate: Float) {
        super.init(parameters: parameters, learningRate: learningRate, stateName: "signsgd", slotNames: ["count"])
    }
    override func update(parameter index: Int, value: UnsafeMutableBufferPointer<Float>,
                         gradient: UnsafeBufferPointer<Float>, state: [UnsafeMutablePointer<Float>]) {
        for i in 0..<value.count {
            value[i] -= learningRate * (gradient[i] > 0 ? 1 : gradient[i] < 0 ? -1 : 0)
            state[0][i] += 1
        }
    }
}

final class LayerStateTests: XCTestCase {
    func testBuffersAreInTheStateDictAndNotOptimised() throws {
        var rng = Xoshiro256(seed: 3)
        let c = Centering()
        let net = Sequential([Dense(inputSize: 2, outputSize: 2, activation: .relu, rng: &rng), c])
        XCTAssertEqual(net.stateDict().map(\.name), ["0.weight", "0.bias", "2.running_mean"])
        XCTAssertEqual(net.stateDictShapes()["2.running_mean"], [2])
        XCTAssertEqual(ParameterGroup(net).names, ["0.weight", "0.bias"], "a buffer is not a parameter")
        var tensors = Dictionary(uniqueKeysWithValues: net.stateDict().map { ($0.name, $0.tensor) })
        tensors["2.running_mean"] = Matrix([[0.5, -2]])
        try net.loadStateDict(tensors)
        XCTAssertEqual(c.stored.elements, [0.5, -2])
        tensors["2.running_mean"] = Matrix([[1, 2, 3]])
        XCTAssertThrowsError(try net.loadStateDict(tensors)) { error in
            XCTAssertEqual(error as? StateDictError,
                           .shapeMismatch(name: "2.running_mean", expected: [1, 2], actual: [1, 3]))
        }
    }

    func testOptimizerSubclassWritesOnlyItsRule() throws {
        let p = Parameter(name: "w", value: Matrix([[1, 1, 1]]))
        let opt = SignSGD(parameters: [p], learningRate: 0.25)
        p.gradient = Matrix([[2, -3, 0]])
        opt.step()
        opt.step()
        XCTAssertEqual(p.value.elements, [0.5, 1.5, 1])
        XCTAssertEqual(opt.stepCount, 2)
        let state = opt.stateTensors()
        XCTAssertEqual(state.map(\.name), ["signsgd.count.0"])
        XCTAssertEqual(state[0].tensor.elements, [2, 2, 2])
        let fresh = SignSGD(parameters: [p], learningRate: 0.25)
        try fresh.loadState(Dictionary(uniqueKeysWithValues: state.map { ($0.name, $0.tensor) }), stepCount: 2)
        XCTAssertEqual(fresh.stateTensors()[0].tensor.elements, [2, 2, 2])
        XCTAssertEqual(fresh.stepCount, 2)
        p.isFrozen = true
        fresh.step()
        XCTAssertEqual(p.value.elements, [0.5, 1.5, 1], "a frozen parameter is skipped")
    }

    /// SGDR without restarts: lr_e = lr/2 (1 + cos(pi e / E)); by hand for E = 4:
    /// e = 0 -> lr, 1 -> lr (1 + 1/sqrt 2)/2, 2 -> lr/2, 3 -> lr (1 - 1/sqrt 2)/2.
    func testCosineScheduleThroughTheOptimizer() {
        let p = Parameter(name: "w", value: Matrix([[0]]))
        let opt = Adam(parameters: [p], learningRate: 0.1)
        opt.schedule = CosineAnnealing(epochs: 4)
        let expected: [Double] = [0.1, 0.1 * (1 + 0.5.squareRoot()) / 2, 0.05, 0.1 * (1 - 0.5.squareRoot()) / 2]
        for (e, want) in expected.enumerated() {
            opt.startEpoch(e)
            XCTAssertEqual(Double(opt.learningRate), want, accuracy: 1e-8, "epoch \(e)")
        }
    }
}
