// `import CohortTrainer` is all a training program needs: tensors, layers,
// losses, optimizers and datasets come with it.
@_exported import CohortData
@_exported import CohortOptim
