// examples/trainer (a user's own TrainingModule on CohortRuntime, no supervision code of
// its own) under `cohort launch --program`: heartbeats reach the coordinator, a rank killed
// mid-run is restarted from the newest checkpoint, and the run finishes with the same
// weights as an uninterrupted one (deterministic mode). Also `cohort launch` with a
// relative one-component checkpoint directory.
import Foundation
import Testing

@Suite(.serialized) struct TrainerExampleLaunchTests {
    let example = ["--deterministic", "--steps", "40", "--checkpoint-every", "10"]

    /// `cohort launch --np 2 --program TrainerExample [launch…] -- <example> --checkpoint-dir DIR`.
    func launch(_ dir: String, _ launchArguments: [String] = []) throws -> CLIResult {
        guard FileManager.default.isExecutableFile(atPath: TrainerExampleTests.binary) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "no TrainerExample at \(TrainerExampleTests.binary): run `swift build -c release`"])
        }
        return try CLI.run(["launch", "--np", "2", "--program", TrainerExampleTests.binary] + launchArguments
                           + ["--"] + example + ["--checkpoint-dir", dir], timeout: 300)
    }

    /// The `weights sha256 …` line rank 0 prints at the end.
    func weights(_ r: CLIResult) -> String? {
        r.stdout.split(separator: "\n").last { $0.hasPrefix("weights sha256 ") }.map { String($0.dropFirst("weights sha256 ".count)) }
    }

    func events(_ dir: String) throws -> [String] {
        try String(contentsOfFile: dir + "/launch-events.jsonl", encoding: .utf8).split(separator: "\n").map(String.init)
    }

    @Test func killedRankRestartsFromItsCheckpointWithTheSameWeights() throws {
        let dir = try CLI.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clean = try launch(dir + "/clean")
        #expect(clean.status == 0, "\(clean.output)")
        let killed = try launch(dir + "/killed", ["--max-restarts", "2", "--inject-fault", "kill@25:rank=1"])
        #expect(killed.status == 0, "\(killed.output)")
        let log = try events(dir + "/killed")
        #expect(log.filter { $0.contains("\"event\":\"mpirun\"") }.count == 2, "one restart: \(log.joined(separator: "\n"))")
        #expect(log.contains { $0.contains("\"event\":\"first_step\"") }, "the ranks' heartbeats reached the coordinator")
        #expect(log.contains { $0.contains("\"kind\":\"checkpointSaved\"") }, "checkpoints were reported")
        #expect(killed.output.contains("step-00000020"), "the restart resumed from step 20: \(killed.output)")
        #expect(weights(clean) != nil && weights(clean) == weights(killed), "\(clean.stdout)\n---\n\(killed.stdout)")
    }

    /// `--checkpoint-dir m` (relative, one component) used to crash the launcher with SIGILL.
    @Test func relativeOneComponentCheckpointDirectory() throws {
        let dir = try CLI.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let command = "cd '\(dir)' && exec '\(CLI.binary)' launch --np 2 -- --steps 4 --global-batch 32 --hidden 16 --checkpoint-dir m"
        let r = try CLI.runExecutable("/bin/sh", ["-c", command], timeout: 120)
        #expect(r.status == 0, "\(r.output)")
        #expect(FileManager.default.fileExists(atPath: dir + "/m/step-00000004"), "\(r.output)")
    }
}
