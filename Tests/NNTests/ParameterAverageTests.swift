import Linalg
@testable import NN
import XCTest

/// The moving average of a network's parameters: values worked out by hand, and the swap that
/// lets the network compute with the average.
final class ParameterAverageTests: XCTestCase {
    /// Dense 2 -> 1 with weights (1, 2) and bias 3, so every value below is exact arithmetic.
    private func layer() -> Dense {
        var rng = Xoshiro256(seed: 1)
        let d = Dense(inputSize: 2, outputSize: 1, rng: &rng)
        d.weight.value = Matrix(rows: 2, cols: 1, elements: [1, 2])
        d.bias.value = Matrix(rows: 1, cols: 1, elements: [3])
        return d
    }

    func testUpdatesWithTheWarmedUpDecay() {
        let d = layer()
        let average = ParameterAverage(ParameterGroup(d), decay: 0.5)
        XCTAssertEqual(average.values.withUnsafeBufferPointer { Array($0) }, [1, 2, 3], "starts at the weights")
        d.weight.value = Matrix(rows: 2, cols: 1, elements: [5, 6])
        d.bias.value = Matrix(rows: 1, cols: 1, elements: [7])
        // step 20: min(0.5, 21/30) = 0.5, so each value is the mean of old and new.
        average.update(step: 20)
        XCTAssertEqual(average.values.withUnsafeBufferPointer { Array($0) }, [3, 4, 5])
        // step 0: min(0.5, 1/10) = 0.1: avg = 0.1 avg + 0.9 theta, theta now (5, 6, 7).
        average.update(step: 0)
        let expected: [Float] = [0.1 * 3 + 0.9 * 5, 0.1 * 4 + 0.9 * 6, 0.1 * 5 + 0.9 * 7]
        for (a, e) in zip(average.values.withUnsafeBufferPointer { Array($0) }, expected) {
            XCTAssertEqual(a, e, accuracy: 1e-6)
        }
    }

    func testNetworkComputesWithTheAverageInsideTheSwapOnly() {
        let d = layer()
        let average = ParameterAverage(ParameterGroup(d), decay: 0.9)
        d.weight.value = Matrix(rows: 2, cols: 1, elements: [3, 4])
        d.bias.value = Matrix(rows: 1, cols: 1, elements: [5])
        let x = Matrix(rows: 1, cols: 2, elements: [1, 1])
        // Average still (1, 2, 3): y = 1 + 2 + 3; trained weights: y = 3 + 4 + 5.
        let inside = average.withAveragedParameters { d.forward(x, training: false)[0, 0] }
        XCTAssertEqual(inside, 6)
        XCTAssertEqual(d.forward(x, training: false)[0, 0], 12)
        XCTAssertEqual(average.values.withUnsafeBufferPointer { Array($0) }, [1, 2, 3], "the swap keeps the average")
    }
}
