// `cohort bench w3|w10 --text FILE`: the GPT workloads train on a real text's characters
// instead of random tokens, so the first loss is about ln(vocabulary) and the loss falls;
// other workloads refuse the flag by name.
import Foundation
import Testing

@Suite struct BenchTextCLITests {
    @Test func w3LearnsTinyShakespeare() throws {
        let text = CLI.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data/tiny-shakespeare/input.txt").path
        let r = try CLI.run(["bench", "w3", "--text", text, "--steps", "4", "--warmup", "2", "--repeats", "2", "--json"], timeout: 180)
        #expect(r.status == 0, "\(r.output)")
        let line = r.stdout.split(separator: "\n").first { $0.hasPrefix("RESULT ") } ?? ""
        let json = try JSONSerialization.jsonObject(with: Data(line.dropFirst(7).utf8)) as? [String: Any] ?? [:]
        let first = json["first_loss"] as? Double ?? .nan, last = json["final_loss"] as? Double ?? .nan
        #expect(abs(first - log(65.0)) < 0.3, "first loss \(first), ln 65 = \(log(65.0))")
        #expect(last < first - 0.5, "the loss fell from \(first) to \(last)")
        #expect(json["data"] as? String == text)
        let w1 = try CLI.run(["bench", "w1", "--text", text, "--steps", "1", "--warmup", "0", "--repeats", "1"])
        #expect(w1.status == 2 && w1.stderr.contains("--text: applies to the GPT workloads"), "\(w1.output)")
    }
}
