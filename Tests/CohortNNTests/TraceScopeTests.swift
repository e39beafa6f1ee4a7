// Per-layer timeline events: a model's registered modules time their forward (through
// `callAsFunction`) and the backward of the ops they recorded, nested under their parent
// module, in reverse order in backward; with no recorder installed nothing is recorded.
import CohortCore
@testable import CohortNN
import CohortTensor
import Testing

@Suite(.serialized) struct TraceScopeTests {
    @Test func layersGetForwardAndBackwardEventsNestedUnderTheirParent() throws {
        var g = RandomGenerator(seed: 5)
        let inner = Sequential([Linear(8, 8, generator: &g), ReLU()])
        let model = Sequential([Linear(4, 8, generator: &g), inner, Linear(8, 3, generator: &g)])
        let recorder = TraceRecorder(capacityPerThread: 1000)
        model.registerTraceScopes(in: recorder, depth: 2)
        let x = Tensor.randn([5, 4], generator: &g)
        Trace.install(recorder)
        let loss = try Loss.crossEntropy(model(x), [0, 1, 2, 0, 1])
        try loss.backward()
        Trace.install(nil)
        let names = recorder.nameTable
        // This thread's events (other tests may run on other threads).
        let mine = recorder.threads().filter { t in t.events.contains { names[Int($0.name)].name == "forward 1.0 (Linear)" } }
        #expect(mine.count == 1)
        let events = mine.first?.events ?? []
        func find(_ n: String) -> [TraceEvent] { events.filter { names[Int($0.name)].name == n } }
        for n in ["forward 0 (Linear)", "forward 1 (Sequential)", "forward 1.0 (Linear)", "forward 1.1 (ReLU)", "forward 2 (Linear)",
                  "backward 0 (Linear)", "backward 1 (Sequential)", "backward 1.0 (Linear)", "backward 1.1 (ReLU)", "backward 2 (Linear)"] {
            #expect(find(n).count == 1, "\(n): \(find(n).count) events")
        }
        guard let b0 = find("backward 0 (Linear)").first, let b1 = find("backward 1 (Sequential)").first,
              let b10 = find("backward 1.0 (Linear)").first, let b11 = find("backward 1.1 (ReLU)").first,
              let b2 = find("backward 2 (Linear)").first, let f1 = find("forward 1 (Sequential)").first,
              let f10 = find("forward 1.0 (Linear)").first, let f0 = find("forward 0 (Linear)").first else { return }
        // Forward in order, children inside their parent; backward in reverse, children inside theirs.
        #expect(f0.end <= f1.start && f1.start <= f10.start && f10.end <= f1.end)
        #expect(b2.end <= b1.start && b1.end <= b0.start)
        #expect(b1.start <= b11.start && b11.end <= b10.start && b10.end <= b1.end)
    }

    @Test func nothingIsRecordedWithoutARecorder() throws {
        var g = RandomGenerator(seed: 6)
        let model = Sequential([Linear(4, 3, generator: &g)])
        let recorder = TraceRecorder(capacityPerThread: 1000)
        model.registerTraceScopes(in: recorder)
        try Loss.crossEntropy(model(Tensor.randn([2, 4], generator: &g)), [0, 1]).backward()
        #expect(recorder.threads().allSatisfy { $0.events.isEmpty })
    }
}
