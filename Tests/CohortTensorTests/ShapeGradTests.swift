// Finite-difference checks of the view ops (reshape, permute, slice, …) and
// the copying joins (concat, stack, split), including views of views and
// strided leaves, plus forward checks that views share storage.
import Testing
@testable import CohortTensor
import CohortTestSupport

@Suite struct ShapeGradTests {
    let x = Fixtures.uniform([2, 3, 4], seed: 1)
    let t = Fixtures.transposedLeaf([3, 4], seed: 2)

    @Test func contiguous() throws {
        try expectGradients([x]) { try $0[0].permute([2, 0, 1]).contiguous() }
        try expectGradients([t]) { $0[0].contiguous() }
        #expect(x.contiguous() === x)
    }

    @Test func reshapeAndView() throws {
        try expectGradients([x], "reshape") { try $0[0].reshape([4, 6]) }
        try expectGradients([x], "view -1") { try $0[0].view([-1, 2]) }
        try expectGradients([t], "reshape strided leaf") { try $0[0].reshape([2, 6]) }
        try expectGradients([x], "reshape of transpose") { try $0[0].transpose(0, 2).reshape([24]) }
        let r = try x.reshape([6, 4])
        #expect(r.storage === x.storage)
    }

    @Test func flatten() throws {
        try expectGradients([x], "flatten from 1") { try $0[0].flatten() }
        try expectGradients([x], "flatten from 0") { try $0[0].flatten(from: 0) }
        try expectGradients([x], "flatten from -1 of permute") { try $0[0].permute([1, 2, 0]).flatten(from: -2) }
        #expect(try x.flatten().shape == [2, 12])
    }

    @Test func permuteAndTranspose() throws {
        try expectGradients([x], "permute") { try $0[0].permute([2, 0, 1]) }
        try expectGradients([x], "permute negative") { try $0[0].permute([-1, -3, -2]) }
        try expectGradients([x], "transpose 0 2") { try $0[0].transpose(0, 2) }
        try expectGradients([t], "transpose default of strided") { try $0[0].transpose() }
        try expectGradients([x], "transpose twice") { try $0[0].transpose(0, 1).transpose(1, 2) * 2 }
        let p = try x.permute([2, 0, 1])
        #expect(p.shape == [4, 2, 3] && p.storage === x.storage)
    }

    @Test func unsqueezeAndSqueeze() throws {
        for axis in [0, 1, 3, -1] {
            try expectGradients([x], "unsqueeze \(axis)") { try $0[0].unsqueeze(axis) }
        }
        let y = Fixtures.uniform([2, 1, 3, 1], seed: 3)
        try expectGradients([y], "squeeze all") { try $0[0].squeeze() }
        try expectGradients([y], "squeeze 1") { try $0[0].squeeze(1) }
        try expectGradients([y], "squeeze -1") { try $0[0].squeeze(-1) }
        try expectGradients([y], "squeeze non-unit axis is a no-op") { try $0[0].squeeze(0) }
        try expectGradients([t], "unsqueeze strided") { try $0[0].unsqueeze(1) }
        #expect(try y.squeeze().shape == [2, 3] && y.squeeze(1).shape == [2, 3, 1] && x.unsqueeze(-1).shape == [2, 3, 4, 1])
    }

    @Test func expand() throws {
        let col = Fixtures.uniform([3, 1], seed: 4)
        try expectGradients([col], "expand [3,1] to [2,3,4]") { try $0[0].expand([2, 3, 4]) }
        let one = Fixtures.uniform([1, 4], seed: 5)
        try expectGradients([one], "expand [1,4] to [3,4]") { try $0[0].expand([3, 4]) }
        try expectGradients([t], "expand strided leaf") { try $0[0].expand([2, 3, 4]) }
        // An expanded view feeding an op, then a view of the result.
        try expectGradients([col]) { try ($0[0].expand([3, 5]) * Tensor.full([3, 5], 2)).transpose() }
        #expect(try col.expand([2, 3, 4]).strides == [0, 1, 0])
    }

    @Test func slices() throws {
        let y = Fixtures.uniform([3, 9], seed: 6)
        try expectGradients([y], "slice step 2") { try $0[0].slice(axis: 1, 1, 8, step: 2) }
        try expectGradients([y], "slice step 3 to end") { try $0[0].slice(axis: 1, 0, 9, step: 3) }
        try expectGradients([y], "slice negative bounds") { try $0[0].slice(axis: -1, -5, -1) }
        try expectGradients([y], "slice axis 0") { try $0[0].slice(axis: 0, 1, 3) }
        try expectGradients([x], "slice middle axis of rank 3") { try $0[0].slice(axis: 1, 0, 3, step: 2) }
        try expectGradients([y], "slice of slice") { try $0[0].slice(axis: 1, 1, 9, step: 2).slice(axis: 1, 1, 4, step: 2) }
        try expectGradients([t], "slice of strided leaf") { try $0[0].slice(axis: 0, 0, 3, step: 2) }
        try expectGradients([y], "end past the axis is clipped") { try $0[0].slice(axis: 1, 5, 100) }
        let s = try y.slice(axis: 1, 1, 8, step: 2)
        #expect(s.shape == [3, 4] && s.scalars == (0..<3).flatMap { r in [1, 3, 5, 7].map { y.scalars[r * 9 + $0] } })
    }

    @Test func split() throws {
        try expectGradients([x], "split axis 2") { v in
            let p = try v[0].split([1, 3], axis: 2)
            return try p[0] * 2 + p[1].sum(axes: [2], keepDims: true)
        }
        try expectGradients([x], "split axis 1 into three, two used") { v in
            let p = try v[0].split([1, 0, 2], axis: 1)
            return try Tensor.concat([p[2], p[0].exp()], axis: 1)
        }
        #expect(try x.split([2, 2], axis: -1).map(\.shape) == [[2, 3, 2], [2, 3, 2]])
    }

    @Test func concat() throws {
        let a = Fixtures.uniform([2, 3], seed: 7), b = Fixtures.uniform([2, 2], seed: 8)
        let c = Fixtures.uniform([1, 3], seed: 9)
        try expectGradients([a, b], "concat axis 1") { try Tensor.concat([$0[0], $0[1]], axis: 1) }
        try expectGradients([a, b], "concat axis -1") { try Tensor.concat([$0[1], $0[0], $0[1]], axis: -1) }
        try expectGradients([a, c], "concat axis 0") { try Tensor.concat([$0[0], $0[1]], axis: 0) }
        let fixed = Fixtures.uniform([2, 3], seed: 10, requiresGrad: false)
        try expectGradients([a], "one input without grad") { try Tensor.concat([fixed, $0[0]]) }
        let st = Fixtures.transposedLeaf([2, 3], seed: 11)
        try expectGradients([st, a], "strided input") { try Tensor.concat([$0[0], $0[1]], axis: 1) }
        try expectGradients([x], "same tensor twice, rank 3 middle axis") { try Tensor.concat([$0[0], $0[0].square()], axis: 1) }
        #expect(try Tensor.concat([Tensor([1, 2]), Tensor([3])]).scalars == [1, 2, 3])
    }

    @Test func upstreamGradientsThatAreViews() throws {
        // Each op's backward receives its output gradient as a transposed or permuted view.
        let a = Fixtures.uniform([3, 4], seed: 20), b = Fixtures.uniform([4, 5], seed: 21), bias = Fixtures.uniform([4], seed: 22)
        try expectGradients([a, b], "matmul") { try Tensor.matmul($0[0], $0[1]).transpose() }
        let bias3 = Fixtures.uniform([3], seed: 23)
        try expectGradients([a, b, bias3], "linear") { try Tensor.linear($0[1].transpose(), weight: $0[0], bias: $0[2]).transpose() }
        try expectGradients([a], "softmax") { try $0[0].softmax().transpose() }
        try expectGradients([a], "logSoftmax middle axis") { try $0[0].reshape([3, 2, 2]).logSoftmax(axis: 1).permute([2, 0, 1]) }
        try expectGradients([a], "unary") { try $0[0].tanh().transpose() }
        try expectGradients([a, bias], "broadcast add") { try ($0[0] + $0[1]).transpose() }
        try expectGradients([x], "sum keepDims then expand") { try $0[0].sum(axes: [1], keepDims: true).expand([2, 5, 4]).permute([2, 1, 0]) }
        try expectGradients([x], "max") { try $0[0].max(axes: [2]).transpose() }
        try expectGradients([x], "indexSelect") { try $0[0].indexSelect(axis: 1, [2, 0]).permute([1, 2, 0]) }
        try expectGradients([a], "slice") { try $0[0].slice(axis: 1, 0, 4, step: 2).transpose() }
        try expectGradients([a, a.detached().copy()], "concat") { try Tensor.concat([$0[0], $0[1]], axis: 1).transpose() }
    }

    @Test func rankZeroAndEmptyTensors() throws {
        let s = Fixtures.uniform([], seed: 15)
        try expectGradients([s], "rank 0 through views") { v in
            try (v[0].exp() * v[0]).reshape([1]).unsqueeze(0).expand([2, 3]) + v[0].sum()
        }
        #expect(try s.unsqueeze(0).shape == [1] && s.unsqueeze(0).squeeze().shape == [])
        let e = Tensor.zeros([0, 3], requiresGrad: true)
        #expect(try e.sum(axes: [0]).scalars == [0, 0, 0])
        #expect(try Tensor.concat([e, Tensor.ones([1, 3])]).scalars == [1, 1, 1])
        #expect(try Tensor.matmul(Tensor.ones([2, 0]), Tensor.ones([0, 3])).scalars == Array(repeating: 0, count: 6))
        try (e * 2).sum().backward()
        #expect(e.grad?.shape == [0, 3])
    }

    @Test func stack() throws {
        let a = Fixtures.uniform([2, 3], seed: 12), b = Fixtures.uniform([2, 3], seed: 13)
        for axis in [0, 1, 2, -1] {
            try expectGradients([a, b], "stack axis \(axis)") { try Tensor.stack([$0[0], $0[1], $0[0]], axis: axis) }
        }
        let st = Fixtures.transposedLeaf([2, 3], seed: 14)
        try expectGradients([st, b], "stack strided") { try Tensor.stack([$0[0], $0[1]], axis: 1) }
        let s = try Tensor.stack([Tensor([1, 2]), Tensor([3, 4])], axis: 1)
        #expect(s.shape == [2, 2] && s.scalars == [1, 3, 2, 4])
    }
}
