// The embedding lookup: values, a finite-difference check of the scatter-add
// backward (repeated ids accumulate), in-place accumulation into an existing
// gradient buffer, and the errors for bad ids.
import CohortCore
@testable import CohortTensor
import CohortTestSupport
import Testing

@Suite struct RecurrentEmbeddingTests {
    @Test func looksUpRows() throws {
        let w = try Tensor((0..<12).map(Float.init), shape: [4, 3])
        let y = try Tensor.embedding(w, indices: [3, 0, 3, 1], shape: [2, 2])
        #expect(y.shape == [2, 2, 3])
        #expect(y.scalars == [9, 10, 11, 0, 1, 2, 9, 10, 11, 3, 4, 5])
        let z = try Tensor.embedding(w, ids: Tensor([2, 1], shape: [2]))
        #expect(z.scalars == [6, 7, 8, 3, 4, 5])
    }

    @Test func gradientScatterAddsRepeatedIds() throws {
        let w = Fixtures.uniform([5, 3], seed: 1)
        try expectGradients([w], "embedding") { try Tensor.embedding($0[0], indices: [4, 1, 4, 4, 0, 2], shape: [2, 3]) }
        // Through a further op, and from a float id tensor.
        let ids = try Tensor([1, 1, 3], shape: [3])
        try expectGradients([w], "embedding then tanh") { try Tensor.embedding($0[0], ids: ids).tanh() }
    }

    @Test func accumulatesInPlaceIntoExistingGradient() throws {
        let w = Fixtures.uniform([4, 2], seed: 2)
        let buffer = Storage(zeros: 8)
        w.grad = Tensor(storage: buffer, shape: [4, 2])
        w.grad!.fill(1)
        try Tensor.embedding(w, indices: [2, 2, 0], shape: [3]).sum().backward()
        #expect(w.grad!.storage === buffer)
        #expect(w.grad!.scalars == [2, 2, 1, 1, 3, 3, 1, 1])
    }

    @Test func badIdsNameIdPositionAndVocabulary() throws {
        let w = Tensor.zeros([5, 2])
        do {
            _ = try Tensor.embedding(w, indices: [0, 1, 7, 2], shape: [2, 2])
            Issue.record("expected an error")
        } catch let e as CohortError {
            let s = "\(e)"
            #expect(s.contains("id 7") && s.contains("[1, 0]") && s.contains("vocabulary size 5"), "\(s)")
        }
        #expect(throws: CohortError.self) { try Tensor.embedding(w, indices: [-1], shape: [1]) }
        #expect(throws: CohortError.self) { try Tensor.embedding(w, ids: Tensor([0.5])) }
        #expect(throws: CohortError.self) { try Tensor.embedding(w, indices: [0, 1], shape: [3]) }
        #expect(throws: CohortError.self) { try Tensor.embedding(Tensor.zeros([5]), indices: [0], shape: [1]) }
    }
}
