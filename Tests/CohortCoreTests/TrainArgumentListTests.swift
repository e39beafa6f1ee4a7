// TrainArgumentList reads a train command line the way `cohort train` does: any of a
// flag's names, `--name v` or `--name=v`, the last occurrence winning, defaults when
// absent; and edits it without touching the user's other arguments.
import CohortCore
import Testing

@Suite struct TrainArgumentListTests {
    @Test func lastValueOfAnOptionWins() throws {
        let list = TrainArgumentList(["--steps", "5", "--lr", "1", "--steps=7"])
        #expect(try list.value(TrainFlags.steps) == "7")
        #expect(try TrainArgumentList(["--lr", "1"]).value(TrainFlags.steps) == nil)
    }

    @Test func everyNameOfAFlagCounts() throws {
        #expect(try TrainArgumentList(["--batch-size", "64"]).positiveInteger(TrainFlags.globalBatch) == 64)
        #expect(try TrainArgumentList(["--global-batch=32", "--batch-size", "16"]).positiveInteger(TrainFlags.globalBatch) == 16)
        #expect(try TrainArgumentList([]).positiveInteger(TrainFlags.globalBatch) == TrainFlags.defaultGlobalBatch)
    }

    @Test func badValuesNameTheFlag() {
        #expect(throws: CohortError.badFlag(flag: "--global-batch", "must be a positive integer, got 'x'")) {
            try TrainArgumentList(["--batch-size", "x"]).positiveInteger(TrainFlags.globalBatch)
        }
        #expect(throws: CohortError.badFlag(flag: "--global-batch", "must be a positive integer, got '0'")) {
            try TrainArgumentList(["--global-batch=0"]).positiveInteger(TrainFlags.globalBatch)
        }
        #expect(throws: CohortError.badFlag(flag: "--resume", "has no value")) {
            try TrainArgumentList(["--lr", "1", "--resume"]).value(TrainFlags.resume)
        }
    }

    @Test func aFlagWithoutValueIsOnlyItsName() {
        let list = TrainArgumentList(["--deterministic", "--step-times=1"])
        #expect(list.contains(TrainFlags.deterministic))
        #expect(!list.contains(TrainFlags.stepTimes))   // a flag takes no `=value`
        #expect(!TrainArgumentList(["--deterministically"]).contains(TrainFlags.deterministic))
    }

    @Test func removingAndAddingKeepTheRest() {
        let list = TrainArgumentList(["--resume", "/ck/a", "--lr", "1", "--resume=/ck/b", "--deterministic"])
        #expect(list.removing(TrainFlags.resume).arguments == ["--lr", "1", "--deterministic"])
        #expect(list.removing(TrainFlags.deterministic).adding(TrainFlags.resume, "auto").arguments
                == ["--resume", "/ck/a", "--lr", "1", "--resume=/ck/b", "--resume", "auto"])
        #expect(list.firstGiven(of: [TrainFlags.steps, TrainFlags.deterministic, TrainFlags.resume]) == TrainFlags.deterministic)
    }
}
