// The dense inference plan `cohort serve` runs MLPs on: the module's own forward, within float
// tolerance (another summation order), for 1 row (matrix-vector) and batches; nil for other models.
import CohortNN
import CohortTensor
import Testing

@Suite("Dense inference plan")
struct DenseInferencePlanTests {
    @Test func matchesTheModuleForward() throws {
        var g = RandomGenerator(seed: 3)
        let mlp = Sequential([Flatten(), Linear(37, 64, generator: &g), ReLU(), try Dropout(0.5), Linear(64, 48, generator: &g), ReLU(),
                              Sequential([Linear(48, 5, generator: &g)])])
        mlp.eval()
        let plan = try #require(DenseInferencePlan.make(mlp))
        #expect(plan.inputWidth == 37 && plan.outputWidth == 5)
        for rows in [1, 2, 3, 8, 17, 1] {
            let x = Tensor.randn([rows, 37], generator: &g)
            let want = try withNoGrad { try mlp(x).contiguous().scalars }
            let got = plan.forward(x.contiguous().scalars, rows: rows)
            #expect(got.count == want.count)
            let worst = zip(got, want).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
            #expect(worst <= 1e-4, "rows \(rows): largest difference \(worst)")
        }
    }

    @Test func refusesWhatIsNotADenseStack() throws {
        var g = RandomGenerator(seed: 1)
        #expect(DenseInferencePlan.make(Sequential([Linear(4, 4, generator: &g), GELU()])) == nil)
        #expect(DenseInferencePlan.make(Sequential([ReLU(), Linear(4, 4, generator: &g)])) == nil)
        #expect(DenseInferencePlan.make(Sequential([Linear(4, 3, generator: &g), Linear(4, 2, generator: &g)])) == nil)
        let training = Sequential([Linear(4, 4, generator: &g), try Dropout(0.5)])
        #expect(DenseInferencePlan.make(training) == nil)
        #expect(DenseInferencePlan.make(Sequential([Flatten()])) == nil)
    }
}
