// log Γ and ψ as differentiable tensor ops (custom ops over CohortStats' Double
// functions): d/dx log Γ(x) = ψ(x) and d/dx ψ(x) = ψ′(x). Internal to this module
// so they cannot clash with tensor ops other targets add.
import CohortStats
import CohortTensor

/// log Γ(x) elementwise, with gradient ψ(x).
func logGammaOp(_ x: Tensor) throws -> Tensor {
    try Tensor.customOp("logGamma", inputs: [x], forward: { inputs in
        try Tensor(inputs[0].scalars.map { Float(logGamma(Double($0))) }, shape: inputs[0].shape)
    }, backward: { g, inputs, _ in
        let d = try Tensor(inputs[0].scalars.map { Float(digamma(Double($0))) }, shape: inputs[0].shape)
        return [try withNoGrad { try g * d }]
    })
}

/// ψ(x) elementwise, with gradient ψ′(x).
func digammaOp(_ x: Tensor) throws -> Tensor {
    try Tensor.customOp("digamma", inputs: [x], forward: { inputs in
        try Tensor(inputs[0].scalars.map { Float(digamma(Double($0))) }, shape: inputs[0].shape)
    }, backward: { g, inputs, _ in
        let d = try Tensor(inputs[0].scalars.map { Float(trigamma(Double($0))) }, shape: inputs[0].shape)
        return [try withNoGrad { try g * d }]
    })
}

/// log B(a, b) = log Γ(a) + log Γ(b) − log Γ(a + b), differentiable.
func logBetaOp(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    try logGammaOp(a) + logGammaOp(b) - logGammaOp(a + b)
}

/// log(1 + eˣ) = max(x, 0) + log(1 + e^−|x|), stable for large |x|.
func softplus(_ x: Tensor) throws -> Tensor {
    try x.relu() + ((x.abs() * -1).exp() + 1).log()
}
