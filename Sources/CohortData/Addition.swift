// A corpus Cohort writes itself, for the default demo: multi-digit addition
// problems as text. Operands are zero-padded to `digits` digits and the sum is
// written least-significant digit first ("123+459=285\n" is 123 + 459 = 582), the
// order in which a left-to-right model can carry. Every problem has the same
// length, held-out problems never occur in training, and the loss covers only
// the answer, since the operands are random.

import CohortCore
import CohortTensor

/// Addition problems as fixed-length token sequences.
public struct AdditionProblems: Sendable {
    /// Digits per operand.
    public let digits: Int
    /// The problems, as (a, b) pairs.
    public let pairs: [(Int, Int)]
    /// Name shown in logs.
    public let name: String

    /// The tokens: digits, '+', '=', newline.
    public static let tokenizer = try! CharTokenizer(vocabulary: Array("0123456789+=\n".utf8))

    /// Characters per problem: a, '+', b, '=', the sum (digits + 1), newline.
    public var length: Int { 2 * digits + digits + 4 }
    /// Characters before the answer (the prompt, ending with '=').
    public var promptLength: Int { 2 * digits + 2 }
    /// Answer characters (the reversed sum, digits + 1 of them).
    public var answerLength: Int { digits + 1 }

    /// `train` training problems and `test` held-out ones, drawn from `seed`;
    /// no held-out pair occurs in the training set.
    public static func make(digits: Int, train: Int, test: Int, seed: UInt64) throws -> (train: AdditionProblems, test: AdditionProblems) {
        guard (1...9).contains(digits) else { throw CohortError.invalidArgument("addition: digits must be 1…9, got \(digits)") }
        var limit = 1
        for _ in 0..<digits { limit *= 10 }
        guard train + test <= limit * limit / 2 else {
            throw CohortError.invalidArgument("addition: \(train + test) problems requested, but \(digits)-digit operands allow \(limit * limit)")
        }
        var g = SplitMix64(seed: seed)
        var held = Set<Int>()
        var testPairs: [(Int, Int)] = []
        while testPairs.count < test {
            let a = g.next(below: limit), b = g.next(below: limit)
            if held.insert(a * limit + b).inserted { testPairs.append((a, b)) }
        }
        var trainPairs: [(Int, Int)] = []
        trainPairs.reserveCapacity(train)
        while trainPairs.count < train {
            let a = g.next(below: limit), b = g.next(below: limit)
            if !held.contains(a * limit + b) { trainPairs.append((a, b)) }
        }
        return (AdditionProblems(digits: digits, pairs: trainPairs, name: "addition-\(digits)-train"),
                AdditionProblems(digits: digits, pairs: testPairs, name: "addition-\(digits)-test"))
    }

    /// Number of problems.
    public var count: Int { pairs.count }

    /// The problems in `range`, in order (e.g. the last ones as a validation part), named `name`.
    public func subset(_ range: Range<Int>, name: String) -> AdditionProblems {
        AdditionProblems(digits: digits, pairs: Array(pairs[range.clamped(to: 0..<count)]), name: name)
    }

    /// Problem `i` as text, e.g. "123+459=285\n".
    public func text(_ i: Int) -> String {
        let (a, b) = pairs[i]
        return Self.pad(a, digits) + "+" + Self.pad(b, digits) + "=" + String(Self.pad(a + b, digits + 1).reversed()) + "\n"
    }

    /// The prompt of problem `i` ("123+459=") and its expected answer ("285\n" without the newline).
    public func prompt(_ i: Int) -> (prompt: String, answer: String) {
        let t = text(i)
        return (String(t.prefix(promptLength)), String(t.dropFirst(promptLength).prefix(answerLength)))
    }

    /// Inputs `[B, length - 1]` (token ids as floats) and targets `[B·(length - 1)]`
    /// where only the answer and the final newline count (`ignoreIndex` elsewhere).
    public func makeBatch(indices: [Int], ignoreIndex: Int = -100) -> (inputs: Tensor, targets: [Int]) {
        let t = length - 1
        let storage = Storage(count: indices.count * t)
        let inputs = Tensor(storage: storage, shape: [indices.count, t])
        var targets = [Int](repeating: ignoreIndex, count: indices.count * t)
        let p = storage.pointer
        for (row, i) in indices.enumerated() {
            let ids = try! Self.tokenizer.encode(text(i))
            for j in 0..<t {
                p[row * t + j] = Float(ids[j])
                if j + 1 >= promptLength { targets[row * t + j] = Int(ids[j + 1]) }
            }
        }
        return (inputs, targets)
    }

    static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}

extension SplitMix64 {
    /// `next() mod n`: the corpus's operand draw (kept as it was, so a seed gives the same problems).
    mutating func next(below n: Int) -> Int { Int(next() % UInt64(n)) }
}
