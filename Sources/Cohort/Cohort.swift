// The umbrella a training program imports, as `import torch` is in PyTorch: `import Cohort`
// brings tensors and autograd, layers and losses, optimizers and schedules, datasets and the
// DataLoader, checkpoints and the Trainer. It is the package's one `@_exported` import point;
// the libraries themselves import explicitly what they use, and none of them imports `Cohort`.
// The kernels under the tensor layer (`CohortKernels`) are not part of it.
@_exported import CohortCheckpoint
@_exported import CohortCore
@_exported import CohortData
@_exported import CohortNN
@_exported import CohortOptim
@_exported import CohortTensor
@_exported import CohortTrainer
