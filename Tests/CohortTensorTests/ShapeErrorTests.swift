// A user's shape mistake is a thrown CohortError whose message names both
// shapes (or the shape and the bad argument), never a crash.
import CohortCore
@testable import CohortTensor
import CohortTestSupport
import Testing

@Suite struct ShapeErrorTests {
    /// Expects `body` to throw a `CohortError` whose description contains every string in `parts`.
    func expectError(_ parts: [String], sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Any) {
        do {
            _ = try body()
            Issue.record("expected a CohortError mentioning \(parts)", sourceLocation: sourceLocation)
        } catch let e as CohortError {
            let text = e.description
            #expect(parts.allSatisfy { text.contains($0) }, "message \"\(text)\" lacks one of \(parts)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected a CohortError, got \(error)", sourceLocation: sourceLocation)
        }
    }

    let a23 = Tensor.ones([2, 3]), b4 = Tensor.ones([4]), c34 = Tensor.ones([3, 4])

    @Test func broadcastingOpsNameBothShapes() {
        expectError(["add", "[2, 3]", "[4]"]) { try a23 + b4 }
        expectError(["sub", "[2, 3]", "[4]"]) { try a23 - b4 }
        expectError(["mul", "[4]", "[2, 3]"]) { try b4 * a23 }
        expectError(["div", "[2, 3]", "[3, 4]"]) { try a23 / c34 }
        expectError(["maximum", "[2, 3]", "[4]"]) { try Tensor.maximum(a23, b4) }
        expectError(["minimum", "[2, 3]", "[4]"]) { try Tensor.minimum(a23, b4) }
        expectError(["pow", "[2, 3]", "[4]"]) { try Tensor.pow(a23, b4) }
        expectError(["where", "[2, 3]", "[4]"]) { try Tensor.where(a23, a23, b4) }
        expectError(["[2, 3]", "[4]"]) { try a23.lt(b4) }
    }

    @Test func matmulAndLinearNameBothShapes() {
        expectError(["matmul", "[2, 3]", "[4]"]) { try Tensor.matmul(a23, b4) }
        expectError(["matmul", "[2, 3]", "[2, 3]"]) { try Tensor.matmul(a23, a23) }
        expectError(["matmul", "[2, 2, 3]", "[3, 3, 4]"]) { try Tensor.matmul(Tensor.ones([2, 2, 3]), Tensor.ones([3, 3, 4])) }
        expectError(["matmul", "[]"]) { try Tensor.matmul(Tensor.scalar(1), a23) }
        expectError(["linear", "[2, 3]", "[5, 4]"]) { try Tensor.linear(a23, weight: Tensor.ones([5, 4]), bias: nil) }
        expectError(["linear", "[4]", "[5, 3]"]) { try Tensor.linear(a23, weight: Tensor.ones([5, 3]), bias: b4) }
    }

    @Test func shapeOpsNameTheShapes() {
        expectError(["reshape", "[2, 3]", "[4, 2]"]) { try a23.reshape([4, 2]) }
        expectError(["reshape", "[2, 3]", "[-1, 4]"]) { try a23.reshape([-1, 4]) }
        expectError(["expand", "[2, 3]", "[2, 4]"]) { try a23.expand([2, 4]) }
        expectError(["expand", "[2, 3]", "[3]"]) { try a23.expand([3]) }
        expectError(["concat", "[2, 3]", "[3, 4]"]) { try Tensor.concat([a23, c34], axis: 0) }
        expectError(["concat", "[2, 3]", "[4]"]) { try Tensor.concat([a23, b4]) }
        expectError(["stack", "[2, 3]", "[3, 4]"]) { try Tensor.stack([a23, c34]) }
        expectError(["permute", "[2, 3]"]) { try a23.permute([0, 0]) }
        expectError(["slice", "[2, 3]"]) { try a23.slice(axis: 1, 2, 1) }
        expectError(["slice", "[2, 3]"]) { try a23.slice(axis: 1, 0, 3, step: 0) }
        expectError(["split", "[2, 3]"]) { try a23.split([1, 1], axis: 1) }
        expectError(["axis 2", "[2, 3]"]) { try a23.sum(axes: [2]) }
        expectError(["axis -3", "[2, 3]"]) { try a23.transpose(-3, 0) }
        expectError(["Tensor", "5 values", "[2, 3]"]) { try Tensor([1, 2, 3, 4, 5], shape: [2, 3]) }
    }

    @Test func indexAndLossOpsNameTheShapes() {
        expectError(["gather", "[2]", "[2, 3]"]) { try a23.gather(axis: 1, index: Tensor([0, 1])) }
        expectError(["scatterAdd", "[1, 2]", "[1, 3]"]) {
            try a23.scatterAdd(axis: 0, index: Tensor([0, 1], shape: [1, 2]), source: Tensor.ones([1, 3]))
        }
        expectError(["crossEntropy", "[2, 3, 4]"]) { try Tensor.crossEntropy(Tensor.ones([2, 3, 4]), targets: [0, 1]) }
        expectError(["crossEntropy", "3 targets", "2 rows"]) { try Tensor.crossEntropy(a23, targets: [0, 1, 2]) }
        expectError(["crossEntropy", "target 3", "row 1"]) { try Tensor.crossEntropy(a23, targets: [0, 3]) }
        expectError(["nllLoss", "[4]"]) { try Tensor.nllLoss(b4, targets: [0]) }
        expectError(["assign", "[2, 3]", "[4]"]) { try a23.copy().assign(b4) }
        expectError(["backward", "[2]", "[2, 3]"]) {
            let x = Tensor.ones([2, 3], requiresGrad: true)
            try (x * 2).backward(Tensor.ones([2]))
            return x
        }
    }
}
