// Optimizers against step-by-step references written out in Double, state
// export/restore, clipping and schedules.
import CohortNN
@testable import CohortOptim
import CohortTensor
import Foundation
import Testing

/// A one-parameter-tensor module whose gradient we set by hand.
final class Params: Module {
    let w: Tensor
    var isTraining = true
    init(_ values: [Float]) { w = parameter(try! Tensor(values)) }
    var localParameters: [(name: String, tensor: Tensor)] { [("w", w)] }
    func forward(_ x: Tensor) throws -> Tensor { x }
}

@Suite struct OptimizerTests {
    let p0: [Float] = (0..<37).map { Float($0) * 0.1 - 1.5 }     // 37: exercises the SIMD tail
    func grads(_ step: Int) -> [Float] { (0..<37).map { Float(sin(Double($0 + step * 3))) } }

    func run(_ make: (ParameterArena) -> any Optimizer, steps: Int) -> [Float] {
        let m = Params(p0)
        let arena = ParameterArena(m)
        let opt = make(arena)
        for s in 0..<steps {
            let g = grads(s)
            for i in 0..<37 { arena.grads.pointer[i] = g[i] }
            opt.step()
        }
        return m.w.scalars
    }

    func close(_ a: [Float], _ b: [Double], tol: Double = 1e-5) -> Bool {
        zip(a, b).allSatisfy { Swift.abs(Double($0) - $1) <= tol * max(1, Swift.abs($1)) }
    }

    @Test func sgdMomentumNesterovWeightDecay() {
        for nesterov in [false, true] {
            let got = run({ SGD($0, lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: nesterov) }, steps: 5)
            var p = p0.map(Double.init), buf = [Double](repeating: 0, count: 37)
            for s in 0..<5 {
                let g = grads(s)
                for i in 0..<37 {
                    let gi = Double(g[i]) + 0.01 * p[i]
                    buf[i] = s == 0 ? gi : 0.9 * buf[i] + gi
                    p[i] -= 0.1 * (nesterov ? gi + 0.9 * buf[i] : buf[i])
                }
            }
            #expect(close(got, p), "nesterov=\(nesterov)")
        }
    }

    @Test func adamAndAdamW() {
        for decoupled in [false, true] {
            let got = run({ Adam($0, lr: 0.01, weightDecay: 0.1, decoupledWeightDecay: decoupled) }, steps: 6)
            var p = p0.map(Double.init), m = [Double](repeating: 0, count: 37), v = m
            for s in 1...6 {
                let g = grads(s - 1)
                for i in 0..<37 {
                    var gi = Double(g[i])
                    if decoupled { p[i] *= 1 - 0.01 * 0.1 } else { gi += 0.1 * p[i] }
                    m[i] = 0.9 * m[i] + 0.1 * gi
                    v[i] = 0.999 * v[i] + 0.001 * gi * gi
                    let mh = m[i] / (1 - pow(0.9, Double(s))), vh = v[i] / (1 - pow(0.999, Double(s)))
                    p[i] -= 0.01 * mh / (vh.squareRoot() + 1e-8)
                }
            }
            #expect(close(got, p, tol: 2e-5), "decoupled=\(decoupled)")
        }
    }

    @Test func rmspropWithMomentum() {
        let got = run({ RMSprop($0, lr: 0.01, alpha: 0.9, momentum: 0.5) }, steps: 4)
        var p = p0.map(Double.init), v = [Double](repeating: 0, count: 37), b = v
        for s in 0..<4 {
            let g = grads(s)
            for i in 0..<37 {
                let gi = Double(g[i])
                v[i] = 0.9 * v[i] + 0.1 * gi * gi
                b[i] = 0.5 * b[i] + gi / (v[i].squareRoot() + 1e-8)
                p[i] -= 0.01 * b[i]
            }
        }
        #expect(close(got, p, tol: 2e-5))
    }

    @Test func exportRestoreContinuesBitExactly() throws {
        for make in [{ (a: ParameterArena) -> any Optimizer in SGD(a, lr: 0.1, momentum: 0.9) },
                     { Adam($0, lr: 0.01) }, { AdamW($0) }, { RMSprop($0, momentum: 0.3) }] {
            let straight = run(make, steps: 6)
            // 3 steps, export, fresh optimizer + restored params, 3 more steps.
            let m = Params(p0)
            let arena = ParameterArena(m)
            let opt = make(arena)
            for s in 0..<3 { for i in 0..<37 { arena.grads.pointer[i] = grads(s)[i] }; opt.step() }
            let state = opt.exportState()
            let saved = m.w.scalars
            let m2 = Params(saved)
            let arena2 = ParameterArena(m2)
            let opt2 = make(arena2)
            try opt2.restoreState(state)
            #expect(opt2.exportState() == state)
            for s in 3..<6 { for i in 0..<37 { arena2.grads.pointer[i] = grads(s)[i] }; opt2.step() }
            #expect(m2.w.scalars == straight, "\(state.kind)")
        }
    }

    @Test func restoreRejectsWrongKindOrSize() {
        let a = ParameterArena(Params(p0))
        let s = SGD(a, lr: 0.1, momentum: 0.9).exportState()
        #expect(throws: OptimizerError.self) { try Adam(a).restoreState(s) }
        let small = ParameterArena(Params([1, 2]))
        #expect(throws: OptimizerError.self) { try SGD(small, lr: 0.1, momentum: 0.9).restoreState(s) }
    }

    @Test func clipGradNormScalesToMaxNorm() {
        let a = ParameterArena(Params(p0))
        for i in 0..<37 { a.grads.pointer[i] = 3 }
        let before = clipGradNorm(a, maxNorm: 1)
        #expect(Swift.abs(before - 3 * Float(37).squareRoot()) < 1e-4)
        #expect(Swift.abs(a.gradNorm() - 1) < 1e-4)
    }

    @Test func schedules() {
        let c = CosineWithWarmup(base: 1, warmup: 10, total: 110, minimum: 0.1)
        #expect(Swift.abs(c.learningRate(at: 0) - 0.1) < 1e-6)
        #expect(Swift.abs(c.learningRate(at: 9) - 1) < 1e-6)
        #expect(Swift.abs(c.learningRate(at: 60) - 0.55) < 1e-5)
        #expect(Swift.abs(c.learningRate(at: 110) - 0.1) < 1e-6)
        #expect(StepLR(base: 1, stepSize: 3, gamma: 0.5).learningRate(at: 7) == 0.25)
        #expect(Swift.abs(ExponentialLR(base: 2, gamma: 0.9).learningRate(at: 2) - 1.62) < 1e-6)
    }
}
