// swift-tools-version:6.0
// Cohort: a distributed data-parallel deep-learning trainer for Linux.
// Targets are layered; imports only go downward (docs/architecture.md).
import PackageDescription

let release: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
// Test targets compile without optimization even in `make test`'s optimized build (the code under
// test is optimized; the tests' own code is small work, and optimizing it took 269 s of a 2-core build against 137 s without).
let tests: [SwiftSetting] = [.unsafeFlags(["-Onone"], .when(configuration: .release))]

let package = Package(
    name: "Cohort",
    products: [
        .executable(name: "cohort", targets: ["cohort"]),
        .executable(name: "cohort-launch", targets: ["cohort-launch"]),
        // What a library user writes against: `Cohort` (the umbrella: tensors and layers, optimizers,
        // data, checkpoints, the Trainer), each of those libraries on its own, the runtime a
        // TrainingModule program runs in under `cohort launch`, and the mathematics libraries.
        .library(name: "Cohort", targets: ["Cohort"]),
        .library(name: "CohortCore", targets: ["CohortCore"]),
        .library(name: "CohortTensor", targets: ["CohortTensor"]),
        .library(name: "CohortNN", targets: ["CohortNN"]),
        .library(name: "CohortOptim", targets: ["CohortOptim"]),
        .library(name: "CohortData", targets: ["CohortData"]),
        .library(name: "CohortCheckpoint", targets: ["CohortCheckpoint"]),
        .library(name: "CohortTrainer", targets: ["CohortTrainer"]),
        .library(name: "CohortRuntime", targets: ["CohortRuntime"]),
        .library(name: "CohortMetrics", targets: ["CohortMetrics"]),
        .library(name: "CohortLinalg", targets: ["CohortLinalg"]),
        .library(name: "CohortCalculus", targets: ["CohortCalculus"]),
        .library(name: "CohortMinimize", targets: ["CohortMinimize"]),
        .library(name: "CohortStats", targets: ["CohortStats"]),
        .library(name: "CohortProbability", targets: ["CohortProbability"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.1"),
        // `cohort serve` only (CohortServe): the HTTP server, its metrics, logging and lifecycle; NIO for
        // the one channel handler CohortServe adds to the server pipeline (the request read deadline).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.25.0"),
    ],
    targets: [
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CProtobufC", pkgConfig: "libprotobuf-c",
                       providers: [.apt(["libprotobuf-c-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        // float32 ↔ bfloat16/binary16 conversions and 16-bit sums (F16C or portable C): compressed gradient exchange.
        .target(name: "CHalfKernels", path: "Sources/CHalfKernels", cSettings: [.unsafeFlags(["-O2"])]),
        .target(name: "CMPIShims", dependencies: ["CMPI", "CHalfKernels"]),
        .target(name: "CAtomics"),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "CCheckpointProto", dependencies: ["CProtobufC"], path: "Sources/CCheckpointProto",
                cSettings: [.unsafeFlags(["-O2"])]),
        .target(name: "CohortCore", swiftSettings: release),
        .target(name: "CohortKernels", dependencies: ["COpenBLAS", "CohortCore", "CHalfKernels", "CRecurrentKernels"], swiftSettings: release),
        .target(name: "CohortTensor", dependencies: ["CohortKernels", "CohortCore"], swiftSettings: release),
        .target(name: "CohortNN", dependencies: ["CohortTensor"], swiftSettings: release),
        .target(name: "CohortOptim", dependencies: ["CohortNN"], swiftSettings: release),
        .target(name: "CohortData", dependencies: ["CohortTensor", "CZlib"], swiftSettings: release),
        .target(name: "CohortCheckpoint", dependencies: ["CohortOptim", "CohortData", "CCheckpointProto", "CohortConfig"], swiftSettings: release),
        .target(name: "CohortCollectives", dependencies: ["CohortCore"], swiftSettings: release),
        .target(name: "CohortMPI", dependencies: ["CohortCollectives", "CMPI", "CMPIShims"], swiftSettings: release),
        .target(name: "CohortDistributed", dependencies: ["CohortNN", "CohortCollectives", "CAtomics"], swiftSettings: release),
        // The LSTM's per-step gate kernels in AVX-512, chosen at run time; CohortKernels calls them.
        .target(name: "CRecurrentKernels", path: "Sources/CRecurrentKernels", cSettings: [.unsafeFlags(["-O2"])]),
        // int8 × int8 → int32 GEMM kernels (AVX-512 VNNI, AVX2, portable C) chosen at run time; CohortQuantize calls them.
        .target(name: "CInt8Kernels", path: "Sources/CInt8Kernels", cSettings: [.unsafeFlags(["-O2"])]),
        // Post-training quantization: int8 Linear/Conv2d layers, calibration, bf16/fp16 weights, the .cq file.
        .target(name: "CohortQuantize", dependencies: ["CohortCheckpoint", "CInt8Kernels"], swiftSettings: release),
        .target(name: "CohortTestSupport", dependencies: ["CohortTensor"]),
        .target(name: "CohortProcessTestSupport", dependencies: []),
        // Higher-order derivatives (Jacobian, Hessian), gradient checks, quadrature; and deterministic minimizers.
        .target(name: "CohortCalculus", dependencies: ["CohortTensor"], swiftSettings: release),
        .target(name: "CohortMinimize", dependencies: ["CohortTensor"], swiftSettings: release),
        // NumPy/torch.linalg-style linear algebra on OpenBLAS's LAPACK (Float64 inside), with autograd.
        .target(name: "CohortLinalg", dependencies: ["CohortTensor", "COpenBLAS"], swiftSettings: release),
        // The coordinator side links neither MPI nor the numeric code.
        .target(name: "CohortControl", dependencies: ["CohortCore"], swiftSettings: release),
        // Child processes: posix_spawn in a process group, supervision, deadlines, captured output; the one mpirun builder.
        .target(name: "CohortProcess", dependencies: [], swiftSettings: release),
        .target(name: "CohortLaunch", dependencies: ["CohortControl", "CohortCore", "CohortProcess"], swiftSettings: release),
        .target(name: "CohortStats", dependencies: ["CohortCore"], swiftSettings: release),
        // Distributions over tensors (log-densities with autograd), KL divergences, MLE, conjugate updates, HMC/MH.
        .target(name: "CohortProbability", dependencies: ["CohortOptim", "CohortStats", "CohortLinalg"], swiftSettings: release),
        // Scaling sweeps: plan, results, statistics, report and plots (the runner's jobs are `cohort launch`).
        .target(name: "CohortScale", dependencies: ["CohortCore", "CohortStats"], swiftSettings: release),
        .target(name: "CohortMetrics", dependencies: ["CohortCore"], swiftSettings: release),
        // Hyperparameter search: spaces, grid and seeded random draws, successive-halving schedules.
        .target(name: "CohortTune", dependencies: ["CohortCore", "CohortStats", "CohortProcess"], swiftSettings: release),
        // The Lightning-style training loop: TrainingModule, Trainer, callbacks (cohort train is built on it).
        .target(name: "CohortTrainer", dependencies: ["CohortOptim", "CohortData", "CohortCheckpoint", "CohortDistributed", "CohortRunLog"],
                swiftSettings: release),
        // The reference workloads of docs/benchmarks.md (W1–W8, allreduce) on one timing harness; `cohort bench` calls it.
        .target(name: "CohortBench", dependencies: ["CohortOptim", "CohortCheckpoint", "CohortDistributed", "CohortMPI", "CohortStats", "CohortProcess", "CohortQuantize"],
                swiftSettings: release),
        // The umbrella a user's program imports (`import Cohort`); the package's one @_exported point.
        .target(name: "Cohort", dependencies: ["CohortCore", "CohortTensor", "CohortNN", "CohortOptim", "CohortData", "CohortCheckpoint", "CohortTrainer"]),
        // Process-level wiring of a training program: MPI's world, the rank side of `cohort launch`'s supervision.
        .target(name: "CohortRuntime", dependencies: ["CohortTrainer", "CohortMPI", "CohortControl", "CohortMetrics", "CohortQuantize", "CohortLinalg"], swiftSettings: release),
        // Config files of command options: YAML (Yams) and a TOML subset, checked against an option table.
        .target(name: "CohortConfig", dependencies: ["CohortCore", .product(name: "Yams", package: "Yams")], swiftSettings: release),
        // Dataset downloads over URLSession (FoundationNetworking): resume, SHA-256, atomic rename.
        .target(name: "CohortFetch", dependencies: ["CohortCore"], swiftSettings: release),
        // Run logs: metrics.jsonl, TensorBoard event files (protobuf-c; CRC32C from CCheckpointProto), progress bar, plots.
        .target(name: "CTensorBoardProto", dependencies: ["CProtobufC", "CCheckpointProto"], path: "Sources/CTensorBoardProto",
                cSettings: [.unsafeFlags(["-O2"])]),
        .target(name: "CohortRunLog", dependencies: ["CohortCore", "CTensorBoardProto"], swiftSettings: release),
        // ONNX export: protobuf-c code for proto/onnx.proto (ONNX's field numbers), and the module-tree walker.
        .target(name: "CONNXProto", dependencies: ["CProtobufC"], path: "Sources/CONNXProto", cSettings: [.unsafeFlags(["-O2"])]),
        .target(name: "CohortONNX", dependencies: ["CohortNN", "CONNXProto"], swiftSettings: release),
        // `cohort serve`: the Open Inference Protocol over Hummingbird, dynamic batching, metrics; the only target with HTTP/NIO.
        .target(name: "CohortServe", dependencies: [
                    "CohortCore",
                    .product(name: "Hummingbird", package: "hummingbird"),
                    .product(name: "Prometheus", package: "swift-prometheus"),
                    .product(name: "Logging", package: "swift-log"),
                    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                ], swiftSettings: release),
        // Reinforcement learning: Gymnasium's classic-control environments in Swift, vector environments, PPO and DQN.
        .target(name: "CohortRL", dependencies: ["CohortOptim", "CohortCollectives", "CohortCheckpoint"], swiftSettings: release),
        .executableTarget(
            name: "cohort",
            dependencies: [
                "CohortNN", "CohortOptim", "CohortData", "CohortCheckpoint", "CohortDistributed", "CohortMPI", "CohortControl", "CProtobufC", "CohortStats", "CohortScale", "CohortMetrics", "CohortRunLog", "CohortFetch", "CohortTrainer", "CohortRuntime", "CohortTune", "CohortProcess", "CohortBench", "CohortConfig", "CohortONNX", "CohortQuantize", "CohortServe", "CohortRL",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: release),
        // The coordinator behind `cohort launch`: no MPI, no numeric code.
        .executableTarget(
            name: "cohort-launch",
            dependencies: ["CohortLaunch", "CohortControl", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: release),
        .executableTarget(name: "MPISelfTest", dependencies: ["CohortMPI", "CohortDistributed"], swiftSettings: release),
        .executableTarget(name: "CustomLayerExample", dependencies: ["Cohort"], path: "examples/custom-layer"),
        .executableTarget(name: "CharLSTMExample", dependencies: ["Cohort"], path: "examples/char-lstm", exclude: ["README.md"]),
        .executableTarget(name: "CNNExample", dependencies: ["Cohort"], path: "examples/cnn", exclude: ["README.md"]),
        .executableTarget(name: "TrainerExample", dependencies: ["Cohort", "CohortRuntime"], path: "examples/trainer"),
        .executableTarget(name: "MathExamples", dependencies: ["CohortLinalg", "CohortCalculus", "CohortMinimize", "CohortProbability", "CohortStats", "CohortData", "CohortRunLog"],
                          path: "examples/math", exclude: ["README.md"]),
        .testTarget(name: "CohortCoreTests", dependencies: ["CohortCore"], swiftSettings: tests),
        .testTarget(name: "CohortKernelsTests", dependencies: ["CohortKernels", "CohortProcess"], swiftSettings: tests),
        .testTarget(name: "CohortTensorTests", dependencies: ["CohortTensor", "CohortTestSupport"], swiftSettings: tests),
        .testTarget(name: "CohortNNTests", dependencies: ["CohortNN", "CohortOptim", "CohortTestSupport", "CohortProcess", "CohortProcessTestSupport"], swiftSettings: tests),
        .testTarget(name: "CohortCalculusTests", dependencies: ["CohortCalculus", "CohortNN", "CohortTestSupport"], swiftSettings: tests),
        .testTarget(name: "CohortMinimizeTests", dependencies: ["CohortMinimize", "CohortCalculus", "CohortData"], exclude: ["Fixtures"], swiftSettings: tests),
        .testTarget(name: "CohortDataTests", dependencies: ["CohortData", "CohortProcess", "CohortProcessTestSupport"], swiftSettings: tests),
        .testTarget(name: "CohortCheckpointTests", dependencies: ["CohortCheckpoint", "CohortProcess", "CohortProcessTestSupport"], swiftSettings: tests),
        .testTarget(name: "CohortControlTests", dependencies: ["CohortControl"], swiftSettings: tests),
        .testTarget(name: "CohortLaunchTests", dependencies: ["CohortLaunch", "CohortProcess", "CohortProcessTestSupport"], swiftSettings: tests),
        .testTarget(name: "CohortProcessTests", dependencies: ["CohortProcess", "CohortProcessTestSupport"], swiftSettings: tests),
        .testTarget(name: "CohortStatsTests", dependencies: ["CohortStats"], exclude: ["Fixtures"], swiftSettings: tests),
        .testTarget(name: "CohortProbabilityTests", dependencies: ["CohortProbability", "CohortTestSupport"], exclude: ["Fixtures"], swiftSettings: tests),
        .testTarget(name: "CohortScaleTests", dependencies: ["CohortScale"], swiftSettings: tests),
        .testTarget(name: "CohortMetricsTests", dependencies: ["CohortMetrics"], swiftSettings: tests),
        .testTarget(name: "CohortFetchTests", dependencies: ["CohortFetch"], swiftSettings: tests),
        .testTarget(name: "CohortRunLogTests", dependencies: ["CohortRunLog", "CohortProcess", "CohortProcessTestSupport"], swiftSettings: tests),
        .testTarget(name: "CohortTrainerTests", dependencies: ["CohortTrainer"], swiftSettings: tests),
        .testTarget(name: "CohortTuneTests", dependencies: ["CohortTune"], swiftSettings: tests),
        .testTarget(name: "CohortLinalgTests", dependencies: ["CohortLinalg", "CohortTestSupport"], exclude: ["Fixtures", "Benchmark"], swiftSettings: tests),
        .testTarget(name: "CLITests", dependencies: ["CohortCore", "CohortProcess"], swiftSettings: tests),
        .testTarget(name: "CohortQuantizeTests", dependencies: ["CohortQuantize", "CohortRuntime", "CohortCheckpoint", "CohortData", "CohortNN",
                                                                "CohortTensor", "CohortProcess", "CohortProcessTestSupport"], swiftSettings: tests),
        .testTarget(name: "CohortONNXTests", dependencies: ["CohortONNX", "CohortQuantize", "CohortRuntime", "CohortCheckpoint", "CohortNN", "CohortData", "CohortProcess",
                                                            "CohortProcessTestSupport"], swiftSettings: tests),
        .testTarget(name: "CohortServeTests", dependencies: ["CohortServe", "CohortRuntime", "CohortCheckpoint", "CohortNN", "CohortTensor",
                                                             "CohortProcessTestSupport"], swiftSettings: tests),
        .testTarget(name: "CohortRLTests", dependencies: ["CohortRL", "CohortCore", "CohortCollectives", "CohortTensor", "CohortProcess", "CohortProcessTestSupport"], swiftSettings: tests),
        .testTarget(name: "CohortRuntimeTests", dependencies: ["CohortRuntime", "CohortCheckpoint", "CohortData", "CohortNN", "CohortTensor", "CohortCore",
                                                               "CohortMetrics", "CohortTestSupport", "CohortProcess", "CohortProcessTestSupport"], swiftSettings: tests),
    ],
    swiftLanguageModes: [.v6]
)
