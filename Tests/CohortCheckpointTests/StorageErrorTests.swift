// A save the file system refuses is a `.storage` error naming the path and the errno
// text: a real ENOSPC (writes to /dev/full), too little free space found by statvfs
// before anything is written, and a checkpoint directory that is a file.
// (Full and read-only tmpfs mounts under mpirun: Tests/CLITests/StorageFailureTests.swift.)
import Foundation
import Testing
@testable import CohortCheckpoint

extension CheckpointTests {
    @Suite struct StorageErrors {
        func storageMessage(_ body: () throws -> Void) -> String? {
            do { try body() } catch let CheckpointError.storage(_, message) { return message } catch {
                Issue.record("expected a storage error, got \(error)")
                return nil
            }
            Issue.record("no error")
            return nil
        }

        @Test func writeFailuresNameThePathAndTheErrnoText() throws {
            let fd = open("/dev/full", O_WRONLY)
            try #require(fd >= 0, "cannot open /dev/full")
            defer { close(fd) }
            let bytes = [UInt8](repeating: 7, count: 4096)
            let message = storageMessage {
                try bytes.withUnsafeBytes { try FileIO.writeAll(fd, $0.baseAddress!, $0.count, path: "/dev/full") }
            }
            #expect(message == "checkpoint /dev/full: write failed: No space left on device (ENOSPC)")
            // Other errnos stay plain I/O errors.
            #expect(FileIO.failure("read failed", path: "/x", code: EIO) == .io(path: "/x", "read failed: Input/output error"))
            #expect(FileIO.failure("cannot create", path: "/ro/f", code: EROFS)
                    == .storage(path: "/ro/f", "checkpoint /ro/f: cannot create: Read-only file system (EROFS)"))
        }

        @Test func aSaveThatDoesNotFitFailsBeforeWritingAnything() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            var m = Manifest()
            m.step = 7
            let tensors = [payload("model/w", [3], [1, 2, 3])]
            let sizes = CheckpointWriter.plannedSizes(m, tensors)
            #expect(sizes.count == 2 && sizes[0] == 12 && sizes[1] > UInt64(CheckpointLayout.headerSize), "\(sizes)")
            let message = storageMessage {
                try FileIO.checkSpace(dir.path, fileSizes: [1 << 50], purpose: "the checkpoint of step 7")
            }
            #expect(message?.hasPrefix("checkpoint directory \(dir.path): the checkpoint of step 7 needs 1125899906842624 bytes (1048576.0 GiB), only ") == true,
                    "\(message ?? "")")
            #expect(message?.hasSuffix("are free: No space left on device (ENOSPC)") == true, "\(message ?? "")")
            try FileIO.checkSpace(dir.path, fileSizes: sizes, purpose: "a save")   // a small one fits
            try CheckpointWriter.write(m, tensors: tensors, directory: dir.path)
            #expect(FileIO.list(dir.path).filter { !$0.hasPrefix(".") } == ["step-00000007"])
        }

        @Test func aCheckpointDirectoryThatIsAFileIsNamedAsSuch() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            try writeBytes([1], dir.file("plain"))
            var m = Manifest()
            m.step = 1
            for target in [dir.file("plain"), dir.file("plain/sub")] {
                let message = storageMessage {
                    try CheckpointWriter.write(m, tensors: [payload("w", [1], [1])], directory: target)
                }
                #expect(message == "checkpoint directory \(dir.file("plain")) exists and is not a directory")
            }
        }
    }
}
