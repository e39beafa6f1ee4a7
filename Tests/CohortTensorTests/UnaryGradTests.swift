// Finite-difference checks of the unary math and activations, pow with a
// constant exponent and clamp, on contiguous and strided inputs, with inputs
// kept away from each op's kinks and poles.
import Testing
@testable import CohortTensor
import CohortTestSupport

@Suite struct UnaryGradTests {
    typealias Unary = @Sendable (Tensor) throws -> Tensor

    /// Each op with an input domain where it is smooth at the scale of eps.
    static let cases: [(String, Unary, (low: Float, high: Float, awayFromZero: Bool))] = [
        ("exp", { $0.exp() }, (-2, 2, false)),
        ("log", { $0.log() }, (0.5, 2, false)),
        ("sqrt", { $0.sqrt() }, (0.5, 2, false)),
        ("abs", { $0.abs() }, (0.05, 1.5, true)),
        ("tanh", { $0.tanh() }, (-2.5, 2.5, false)),
        ("sigmoid", { $0.sigmoid() }, (-4, 4, false)),
        ("relu", { $0.relu() }, (0.05, 1.5, true)),
        ("gelu", { $0.gelu() }, (-3, 3, false)),
        ("square", { $0.square() }, (-1.5, 1.5, false)),
        ("reciprocal", { $0.reciprocal() }, (0.5, 1.5, true)),
        ("neg", { -$0 }, (-1, 1, false)),
        ("pow 3", { $0.pow(3) }, (-1.5, 1.5, false)),
        ("pow 2", { $0.pow(2) }, (-1.5, 1.5, false)),
        ("pow 0.5", { $0.pow(0.5) }, (0.5, 2, false)),
        ("pow -1.5", { $0.pow(-1.5) }, (0.5, 2, false)),
        ("clamp", { $0.clamp(min: -0.5, max: 0.5) }, (-1, 1, false)),
        ("clamp min only", { $0.clamp(min: 0.25) }, (-1, 1, false)),
    ]

    func input(_ shape: [Int], _ domain: (low: Float, high: Float, awayFromZero: Bool), seed: UInt64) -> Tensor {
        domain.awayFromZero ? Fixtures.awayFromZero(shape, domain.low, domain.high, seed: seed)
                            : Fixtures.uniform(shape, domain.low, domain.high, seed: seed)
    }

    /// Moves clamp inputs at least 0.05 away from the bounds ±0.5 and 0.25.
    func awayFromBounds(_ t: Tensor, _ name: String) {
        guard name.hasPrefix("clamp") else { return }
        for i in 0..<t.count {
            for bound: Float in [-0.5, 0.5, 0.25] where Swift.abs(t.storage.pointer[i] - bound) < 0.05 { t.storage.pointer[i] = bound + 0.1 }
        }
    }

    @Test(arguments: 0..<cases.count) func contiguousInput(index: Int) throws {
        let (name, f, domain) = Self.cases[index]
        // 37 elements: two full 16-lane SIMD blocks plus a tail.
        let x = input([37], domain, seed: UInt64(100 + index))
        awayFromBounds(x, name)
        try expectGradients([x], name) { try f($0[0]) }
    }

    @Test(arguments: 0..<cases.count) func stridedInput(index: Int) throws {
        let (name, f, domain) = Self.cases[index]
        let x = input([3, 5], domain, seed: UInt64(200 + index))
        awayFromBounds(x, name)
        // The transpose of a leaf, and a stepped slice of a leaf.
        try expectGradients([x], "\(name) of transpose") { try f($0[0].transpose()) }
        try expectGradients([x], "\(name) of stepped slice") { try f($0[0].slice(axis: 1, 0, 5, step: 2)) }
    }

    @Test func composedChain() throws {
        let x = Fixtures.uniform([2, 4], 1.1, 2, seed: 300)   // log x · tanh x > 0 under the sqrt
        try expectGradients([x]) { v in try (v[0].log() * v[0].tanh()).sqrt().exp() + v[0].sigmoid().gelu() }
    }

    @Test func clampGradientIsZeroOutside() throws {
        let x = try Tensor([-2, -0.5, 0, 0.5, 2], requiresGrad: true)
        try x.clamp(min: -0.5, max: 0.5).sum().backward()
        #expect(x.grad?.scalars == [0, 1, 1, 1, 0])
        #expect(try x.clamp(min: -1, max: 1).scalars == [-1, -0.5, 0, 0.5, 1])
    }

    @Test func subgradientsAtKinks() throws {
        let x = try Tensor([-1, 0, 2], requiresGrad: true)
        try (x.relu() + x.abs()).sum().backward()
        #expect(x.grad?.scalars == [-1, 0, 2])   // relu' = [0,0,1], sign = [-1,0,1]
        let y = try Tensor([-3, 0, 4], requiresGrad: true)
        try y.sign().sum().backward()
        #expect(y.grad?.scalars == [0, 0, 0])
    }
}
