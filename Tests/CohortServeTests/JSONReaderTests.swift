// The request body reader: numbers equal to strtod's (fast path and fallback), strings with
// escapes, structure, and refusals with byte offsets (bad syntax, trailing data, deep nesting).
import CohortServe
import Foundation
import Testing

@Suite("Serve JSON reader")
struct JSONReaderTests {
    @Test func numbersMatchStrtod() throws {
        var g = SystemRandomNumberGenerator()
        var texts = ["0", "-0", "1", "-1.5", "3.14159", "1e10", "1E-7", "-2.5e+3", "123456789012345678901234", "0.1", "0.30000000000000004",
                     "4.9406564584124654e-324", "1.7976931348623157e308", "9007199254740993", "0.000000000000000000000000123"]
        for _ in 0..<2000 {
            let f = Float.random(in: -100...100, using: &g)
            texts.append(f.description)
            texts.append(String(format: "%.4f", Double(f)))
        }
        for t in texts {
            let parsed = try JSONReader.parse(Array("[\(t)]".utf8))
            #expect(parsed == .array([.number(strtod(t, nil))]), "\(t)")
        }
    }

    @Test func structureAndStrings() throws {
        let v = try JSONReader.parse(Array(#" { "a" : [1, {"b": null}, true, false], "s": "x\"y\u00e9\n", "e": {} } "#.utf8))
        #expect(v["a"] == .array([.number(1), .object([("b", .null)]), .bool(true), .bool(false)]))
        #expect(v["s"] == .string("x\"yé\n"))
        #expect(v["e"] == .object([]))
        #expect(v["missing"] == nil)
    }

    @Test func refusals() {
        let cases: [(String, String)] = [
            ("", "end of input"), ("[1,]", "unexpected character"), ("{\"a\" 1}", "expected ':'"), ("[1] x", "after the JSON value"),
            ("01", "leading zero"), ("1.", "invalid number"), ("\"abc", "unterminated"), ("[1 2]", "expected ','"),
            (String(repeating: "[", count: 100) + String(repeating: "]", count: 100), "nesting deeper than 32"), ("nul", "end of input"),
            ("-", "invalid number"), ("1e", "invalid exponent"), ("\"a\u{1}\"", "control character"),
        ]
        for (text, fragment) in cases {
            do {
                _ = try JSONReader.parse(Array(text.utf8))
                Issue.record("\(text) was accepted")
            } catch {
                #expect("\(error)".contains(fragment) && "\(error)".contains("at byte"), "\(text): \(error)")
            }
        }
    }
}
