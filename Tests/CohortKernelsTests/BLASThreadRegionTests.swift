// BLAS.singleThreaded regions on several threads at once: OpenBLAS stays on one
// thread until the last region ends, and the configured count comes back — the
// old save-and-restore let the first region to end restore two threads under the
// other's workers, and left one thread set for good when the regions overlapped.
@testable import CohortKernels
import Foundation
import Testing

/// Held by every test of this module that sets OpenBLAS's configured thread count and checks it,
/// since suites run in parallel and the count is one process-wide setting.
let configuredThreadsLock = NSLock()

@Suite struct BLASThreadRegionTests {
    @Test func overlappingRegionsHoldOneThreadUntilTheLastEnds() {
        configuredThreadsLock.lock()
        defer { configuredThreadsLock.unlock() }
        let before = BLAS.threads
        BLAS.threads = 2
        defer { BLAS.threads = before }
        let aEntered = DispatchSemaphore(value: 0), aMayLeave = DispatchSemaphore(value: 0)
        let aLeft = DispatchSemaphore(value: 0), bDone = DispatchSemaphore(value: 0)
        let seen = LiveCounts()
        // A enters, B enters, A leaves while B is still inside, then B leaves.
        Thread {
            BLAS.singleThreaded {
                aEntered.signal()
                aMayLeave.wait()
            }
            aLeft.signal()
        }.start()
        Thread {
            aEntered.wait()
            BLAS.singleThreaded {
                aMayLeave.signal()
                aLeft.wait()
                seen.record(BLAS.liveThreads, configured: BLAS.threads)
            }
            bDone.signal()
        }.start()
        bDone.wait()
        #expect(seen.values == [1], "OpenBLAS ran on more than one thread inside a region after another region ended")
        #expect(seen.configured == [2], "inside a region, BLAS.threads reports the configured count")
        #expect(BLAS.threads == 2, "the configured count is back after the regions")
    }

    @Test func settingThreadsInsideARegionTakesEffectAfterIt() {
        configuredThreadsLock.lock()
        defer { configuredThreadsLock.unlock() }
        let before = BLAS.threads
        defer { BLAS.threads = before }
        BLAS.singleThreaded {
            BLAS.threads = 3
            #expect(BLAS.liveThreads == 1)
            #expect(BLAS.threads == 3)
        }
        #expect(BLAS.threads == 3)
    }

    @Test func manyThreadsEnteringAndLeavingNeverSeeMoreThanOne() {
        let seen = LiveCounts()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<200 { BLAS.singleThreaded { seen.record(BLAS.liveThreads, configured: nil) } }
        }
        #expect(seen.values == [1])
    }
}

/// Thread counts observed inside regions.
private final class LiveCounts: @unchecked Sendable {
    private let lock = NSLock()
    private var live = Set<Int>(), configuredSeen = Set<Int>()
    func record(_ n: Int, configured: Int?) {
        lock.lock(); live.insert(n); if let configured { configuredSeen.insert(configured) }; lock.unlock()
    }
    var values: Set<Int> { lock.lock(); defer { lock.unlock() }; return live }
    var configured: Set<Int> { lock.lock(); defer { lock.unlock() }; return configuredSeen }
}
