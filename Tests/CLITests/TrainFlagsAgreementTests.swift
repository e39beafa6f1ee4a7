// The commands that take a train command line after `--` (launch, scale, cv, tune) read
// it through CohortCore's `TrainFlags`; this checks that every flag there is declared by
// `cohort train` itself under the same names, with the same kind and the same default —
// read from ArgumentParser's own description of the built command.
import CohortCore
import Foundation
import Testing

@Suite struct TrainFlagsAgreementTests {
    struct Name: Decodable { var name: String; var kind: String }
    struct Argument: Decodable { var kind: String; var names: [Name]?; var defaultValue: String? }
    struct Command: Decodable { var arguments: [Argument]? }
    struct Dump: Decodable { var command: Command }

    @Test func everySharedTrainFlagIsCohortTrainsOwn() throws {
        let r = try CLI.run(["train", "--experimental-dump-help"])
        #expect(r.status == 0, "\(r.output)")
        let dump = try JSONDecoder().decode(Dump.self, from: Data(r.stdout.utf8))
        let arguments = dump.command.arguments ?? []
        #expect(arguments.count > 40, "cohort train declares \(arguments.count) arguments")
        for flag in TrainFlags.all {
            let names = flag.names.map { String($0.dropFirst(2)) }
            let declared = arguments.first { a in (a.names ?? []).contains { $0.kind.hasPrefix("long") && names.contains($0.name) } }
            guard let declared else { Issue.record("\(flag.name) is not an option of cohort train"); continue }
            let long = (declared.names ?? []).filter { $0.kind.hasPrefix("long") }.map(\.name)
            #expect(Set(long) == Set(names), "\(flag.name): cohort train has \(long), TrainFlags \(names)")
            #expect((declared.kind == "flag") == !flag.takesValue, "\(flag.name): cohort train declares a \(declared.kind)")
            if flag.takesValue {
                #expect(declared.defaultValue == flag.defaultValue,
                        "\(flag.name): cohort train's default \(declared.defaultValue ?? "none"), TrainFlags' \(flag.defaultValue ?? "none")")
            }
        }
    }
}
