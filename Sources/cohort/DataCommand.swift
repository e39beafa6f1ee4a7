// `cohort data download`: fetch MNIST, Fashion-MNIST or tiny Shakespeare into a
// directory `cohort train --data` reads, each file verified by SHA-256 (CohortFetch).
// Progress is a redrawn bar when stderr is a terminal, one line per file otherwise.
import ArgumentParser
import CohortCore
import CohortFetch
import Foundation

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Download datasets, or make a detection data set (docs/cli.md).",
        subcommands: [Download.self, MakeDetection.self])
}

extension DataCommand {
    struct Download: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download a dataset into a directory, verified by SHA-256 (\(DatasetCatalog.names.joined(separator: ", "))).",
            discussion: """
                Files keep their upstream names, so `cohort train --data DIR` reads the result. \
                Bytes go to FILE.part (resumed with a Range request after an interruption) and are \
                renamed to FILE only once their SHA-256 matches; a mismatching download is moved to \
                FILE.bad. Exit status: 0 done, 1 download or verification failed, 2 bad arguments.
                """)

        @Argument(help: "Dataset: \(DatasetCatalog.names.joined(separator: ", ")).") var dataset: String
        @Option(help: ArgumentHelp("Directory to download into (created if missing).", valueName: "dir")) var to: String
        @Option(help: ArgumentHelp("Base URL replacing the upstream one: files come from URL/<dataset>/<file>.", valueName: "url"))
        var mirror: String?
        @Flag(help: "Download again even if a verified copy is present.") var force = false

        func run() throws {
            do {
                try download()
            } catch let error as CohortError {
                FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
                throw ExitCode(2)
            } catch let error as FetchError {
                var hint = ""
                if case .transfer = error, mirror == nil { hint = "\n(no network here? --mirror URL fetches from another server)" }
                FileHandle.standardError.write(Data("Error: \(error)\(hint)\n".utf8))
                throw ExitCode.failure
            }
        }

        private func download() throws {
            guard let source = DatasetCatalog.dataset(named: dataset) else {
                throw CohortError.invalidArgument("unknown dataset '\(dataset)'; known: \(DatasetCatalog.names.joined(separator: ", "))")
            }
            if let mirror {
                guard let url = URL(string: mirror), let scheme = url.scheme?.lowercased(),
                      scheme == "http" || scheme == "https", url.host != nil else {
                    throw CohortError.badFlag(flag: "--mirror", "'\(mirror)' is not an http:// or https:// URL")
                }
            }
            let directory = try Self.prepareDirectory(to)
            let progress = DownloadProgress(dataset: source.name, terminal: isatty(STDERR_FILENO) == 1)
            let downloader = Downloader(report: { progress.handle($0) })
            defer { progress.endBar() }   // so an error message starts on a line of its own
            var fetched = 0, present = 0
            for file in source.files {
                let outcome = try downloader.fetch(file, from: source.url(of: file, mirror: mirror), into: directory, force: force)
                if outcome.alreadyPresent { present += 1 } else { fetched += 1 }
            }
            print("\(source.name): \(source.files.count) file\(source.files.count == 1 ? "" : "s") verified in \(directory) (\(fetched) downloaded, \(present) already present)")
        }

        /// Creates `path` if needed and proves it writable with a probe file.
        static func prepareDirectory(_ path: String) throws -> String {
            let fm = FileManager.default
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: path, isDirectory: &isDirectory) {
                guard isDirectory.boolValue else { throw CohortError.badFlag(flag: "--to", "\(path) exists and is not a directory") }
            } else {
                try makeDirectories(path)
            }
            let probe = path + "/.cohort-write-test-\(getpid())"
            let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            guard fd >= 0 else {
                throw CohortError.badFlag(flag: "--to", "directory \(path) is not writable: \(String(cString: strerror(errno)))")
            }
            close(fd)
            unlink(probe)
            return path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        }

        /// `mkdir -p` with the failing component and errno in the message (Foundation's says only "error 512").
        private static func makeDirectories(_ path: String) throws {
            var prefix = path.hasPrefix("/") ? "" : "."
            for component in path.split(separator: "/") {
                prefix += "/" + component
                if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                    throw CohortError.badFlag(flag: "--to", "cannot create directory \(path): \(prefix): \(String(cString: strerror(errno)))")
                }
            }
        }
    }
}

/// Renders `DownloadEvent`s on stderr. Events come from the main thread and from
/// URLSession's queue, one at a time, but the lock makes that not matter.
private final class DownloadProgress: @unchecked Sendable {
    let dataset: String
    let terminal: Bool
    private let lock = NSLock()
    private var requestStart = Date()
    private var requestOffset: Int64 = 0
    private var lastDraw = Date.distantPast
    private var barShown = false

    init(dataset: String, terminal: Bool) {
        self.dataset = dataset
        self.terminal = terminal
    }

    func handle(_ event: DownloadEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case let .present(file):
            line("\(dataset)/\(file): already present, SHA-256 ok")
        case let .replacing(file, actual):
            line("\(dataset)/\(file): present but its SHA-256 is \(actual); downloading it again")
        case let .started(file, url, offset):
            requestStart = Date()
            requestOffset = offset
            if offset > 0 {
                line("\(dataset)/\(file): resuming at \(ProgressText.bytes(offset)) from \(url)")
            } else if !terminal {
                line("\(dataset)/\(file): downloading \(url)")
            }
        case let .bytes(file, received, total):
            guard terminal, Date().timeIntervalSince(lastDraw) >= 0.1 || received == total else { return }
            lastDraw = Date()
            let elapsed = Date().timeIntervalSince(requestStart)
            let rate = elapsed > 0 ? Double(received - requestOffset) / elapsed : 0
            let text = ProgressText.bar(name: "\(dataset)/\(file)", received: received, total: total, bytesPerSecond: rate)
            write("\r\u{1B}[K" + text)
            barShown = true
        case let .retrying(file, received, attempt, reason):
            let what = received > 0 ? "interrupted at \(ProgressText.bytes(received))" : "failed"
            line("\(dataset)/\(file): \(what) (\(reason)); retrying, attempt \(attempt)")
        case let .restarted(file):
            line("\(dataset)/\(file): the server did not continue the partial download; fetching from the start")
        case let .finished(file, outcome):
            let rate = ProgressText.rate(outcome.bytesTransferred, seconds: outcome.seconds)
            let resumed = outcome.resumedFrom > 0 ? ", resumed at \(ProgressText.bytes(outcome.resumedFrom))" : ""
            line("\(dataset)/\(file): \(ProgressText.bytes(outcome.bytesTransferred)) in \(String(format: "%.1f", outcome.seconds)) s (\(rate)\(resumed)), SHA-256 ok")
        }
    }

    /// Ends a bar left on screen with a newline.
    func endBar() {
        lock.lock()
        defer { lock.unlock() }
        if barShown { write("\n") }
        barShown = false
    }

    /// A whole message line, replacing the bar if one is on screen.
    private func line(_ text: String) {
        write((barShown ? "\r\u{1B}[K" : "") + text + "\n")
        barShown = false
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}
