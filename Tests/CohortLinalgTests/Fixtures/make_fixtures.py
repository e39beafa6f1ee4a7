#!/usr/bin/env python3
"""Reference values for Tests/CohortLinalgTests from NumPy/SciPy.

Run: python3 make_fixtures.py  (writes linalg.json beside this script).
Every input is rounded to float32 first (Cohort tensors are Float32) and the
references are computed in float64 on those rounded values. Non-finite numbers
are written as the strings "inf", "-inf", "nan" (JSON has no literal for them).
Tolerances for rank/orth/null_space/lstsq use float32's epsilon, as Cohort does.
"""
import json, os
import numpy as np
import scipy.linalg

rng = np.random.default_rng(20240611)
F32EPS = float(np.finfo(np.float32).eps)


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def enc(x):
    a = np.asarray(x, dtype=np.float64)
    def one(v):
        if np.isnan(v): return "nan"
        if np.isinf(v): return "inf" if v > 0 else "-inf"
        return float(v)
    return {"shape": list(a.shape), "data": [one(v) for v in a.reshape(-1)]}


def spd(n, batch=()):
    x = rng.standard_normal(batch + (n, n))
    return f32(x @ np.swapaxes(x, -1, -2) + n * np.eye(n))


def well(n, batch=()):
    return f32(rng.standard_normal(batch + (n, n)) + 3 * np.eye(n))


cases = {}

# solve: matrix and vector right-hand sides, batches, 1x1, empty batch.
solve = []
for name, a, b in [
    ("4x4 k=2", well(4), f32(rng.standard_normal((4, 2)))),
    ("vector rhs", well(3), f32(rng.standard_normal(3))),
    ("batch [2]", well(3, (2,)), f32(rng.standard_normal((2, 3, 2)))),
    ("batch [2,2] vector", well(2, (2, 2)), f32(rng.standard_normal((2, 2, 2)))),
    ("1x1", f32([[4.0]]), f32([[2.0]])),
    ("empty batch", np.zeros((0, 3, 3)), np.zeros((0, 3, 1))),
]:
    solve.append({"name": name, "a": enc(a), "b": enc(b), "x": enc(np.linalg.solve(a, b) if b.ndim != a.ndim - 1
                                                                else np.linalg.solve(a, b[..., None])[..., 0])})
cases["solve"] = solve

cases["inverse"] = [{"name": n, "a": enc(a), "inv": enc(np.linalg.inv(a))}
                    for n, a in [("3x3", well(3)), ("batch [2]", well(2, (2,))), ("1x1", f32([[0.5]]))]]

det = []
for n, a in [("3x3", well(3)), ("negative", f32([[0, 1, 0], [1, 0, 0], [0, 0, 2]])), ("singular", f32([[1, 2], [2, 4]])),
             ("batch [2]", f32(rng.standard_normal((2, 3, 3)))), ("1x1", f32([[-3.0]])), ("empty batch", np.zeros((0, 2, 2)))]:
    s, l = np.linalg.slogdet(a)
    det.append({"name": n, "a": enc(a), "det": enc(np.linalg.det(a)), "sign": enc(s), "logabsdet": enc(l)})
cases["det"] = det

cases["cholesky"] = [{"name": n, "a": enc(a), "l": enc(np.linalg.cholesky(a))}
                     for n, a in [("4x4", spd(4)), ("batch [3]", spd(3, (3,))), ("1x1", f32([[9.0]]))]]

qr = []
for n, a in [("5x3", f32(rng.standard_normal((5, 3)))), ("3x5", f32(rng.standard_normal((3, 5)))), ("batch [2] 3x3", well(3, (2,)))]:
    q, r = np.linalg.qr(a, mode="reduced")
    qc, rc = np.linalg.qr(a, mode="complete")
    qr.append({"name": n, "a": enc(a), "q": enc(q), "r": enc(r), "qc": enc(qc), "rc": enc(rc)})
cases["qr"] = qr

eigh = []
q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
for n, a in [("4x4", f32((lambda x: x + x.T)(rng.standard_normal((4, 4))))),
             ("repeated", f32(q @ np.diag([2.0, 2.0, 5.0]) @ q.T)),
             ("batch [2]", spd(3, (2,))), ("1x1", f32([[7.0]])), ("empty batch", np.zeros((0, 2, 2)))]:
    a = (a + np.swapaxes(a, -1, -2)) / 2 if a.size else a
    a = f32(a)
    w, v = np.linalg.eigh(a)
    eigh.append({"name": n, "a": enc(a), "w": enc(w), "v": enc(v)})
cases["eigh"] = eigh

eig = []
t = 0.7
for n, a in [("rotation", f32([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])),
             ("real 3x3", f32([[2, 1, 0], [0, 3, 1], [0, 0, 5]])),
             ("complex pair 3x3", f32([[1, -2, 0], [2, 1, 0], [0.5, 0, 3]])),
             ("random 4x4", f32(rng.standard_normal((4, 4))))]:
    w, v = np.linalg.eig(a)
    w = w.astype(np.complex128); v = v.astype(np.complex128)
    eig.append({"name": n, "a": enc(a), "wr": enc(w.real), "wi": enc(w.imag), "vr": enc(v.real), "vi": enc(v.imag)})
cases["eig"] = eig

svd = []
for n, a in [("4x3", f32(rng.standard_normal((4, 3)))), ("3x5", f32(rng.standard_normal((3, 5)))),
             ("batch [2] 2x2", f32(rng.standard_normal((2, 2, 2))))]:
    u, s, vh = np.linalg.svd(a, full_matrices=True)
    svd.append({"name": n, "a": enc(a), "u": enc(u), "s": enc(s), "vh": enc(vh),
                "pinv": enc(np.linalg.pinv(a, rcond=max(a.shape[-2:]) * F32EPS))})
cases["svd"] = svd

lst = []
for n, a, b in [("overdetermined 6x3", f32(rng.standard_normal((6, 3))), f32(rng.standard_normal((6, 2)))),
                ("rank-deficient 5x3", f32([[1, 2, 3], [2, 0, 2], [0, 1, 1], [3, 3, 6], [1, -1, 0]]), f32(rng.standard_normal(5))),
                ("underdetermined 2x4", f32(rng.standard_normal((2, 4))), f32(rng.standard_normal((2, 1))))]:
    rc = max(a.shape) * F32EPS
    x, res, rank, s = np.linalg.lstsq(a, b, rcond=rc)
    lst.append({"name": n, "a": enc(a), "b": enc(b), "rcond": rc, "x": enc(x), "residuals": enc(res),
                "rank": int(rank), "s": enc(s)})
cases["lstsq"] = lst

rk = f32([[1, 2, 3, 4], [2, 4, 6, 8.5], [1, 0, 1, 0], [3, 4, 7, 8.5]])  # row 3 = row 1 + row 2 - ... rank 3
rk2 = f32([[1, 2, 3], [2, 4, 6], [1, 0, 1], [0, 2, 2]])                   # rank 2
spaces = []
for n, a in [("rank 3 of 4x4", rk), ("rank 2 of 4x3", rk2), ("full 3x3", well(3))]:
    rc = max(a.shape) * F32EPS
    spaces.append({"name": n, "a": enc(a), "rank": int(np.linalg.matrix_rank(a, tol=np.linalg.svd(a, compute_uv=False)[0] * rc)),
                   "orth": enc(scipy.linalg.orth(a, rcond=rc)), "null": enc(scipy.linalg.null_space(a, rcond=rc)),
                   "pinv": enc(np.linalg.pinv(a, rcond=rc))})
cases["spaces"] = spaces

m = f32(rng.standard_normal((3, 4)))
cases["matrix_norm"] = {"a": enc(m), **{k: float(np.linalg.norm(m, o)) for k, o in
                        [("fro", "fro"), ("nuc", "nuc"), ("2", 2), ("-2", -2), ("1", 1), ("-1", -1), ("inf", np.inf), ("-inf", -np.inf)]}}
v = f32([3, -4, 0, 1.5, -0.25])
cases["vector_norm"] = {"x": enc(v), **{k: float(np.linalg.norm(v, o)) for k, o in
                        [("2", 2), ("1", 1), ("inf", np.inf), ("-inf", -np.inf), ("0", 0), ("3", 3), ("0.5", 0.5)]}}
c = well(3)
cases["cond"] = {"a": enc(c), **{k: float(np.linalg.cond(c, o)) for k, o in
                 [("2", None), ("-2", -2), ("1", 1), ("inf", np.inf), ("fro", "fro"), ("nuc", "nuc")]}}

h = f32(scipy.linalg.hilbert(8))
hb = f32(h @ np.ones(8))   # rounded like every input: with cond 1e10 the rounding alone moves x by O(1)
cases["hilbert"] = {"a": enc(h), "b": enc(hb), "x": enc(np.linalg.solve(h, hb)),
                    "cond": float(np.linalg.cond(h)), "cond1": float(np.linalg.cond(h, 1))}

# Batched lstsq and subspaces: NumPy/SciPy per matrix (they do not batch these).
ab = f32(rng.standard_normal((2, 5, 3)))
ab[1] = f32([[1, 2, 3], [2, 0, 2], [0, 1, 1], [3, 3, 6], [1, -1, 0]])   # rank 2: no residuals for the batch
bb = f32(rng.standard_normal((2, 5, 2)))
rc = 5 * F32EPS
per = [np.linalg.lstsq(ab[i], bb[i], rcond=rc) for i in range(2)]
cases["lstsq_batched"] = {"a": enc(ab), "b": enc(bb), "rcond": rc, "x": enc(np.stack([p[0] for p in per])),
                          "ranks": [int(p[2]) for p in per], "s": enc(np.stack([p[3] for p in per]))}
sb = np.stack([rk2, f32(rng.standard_normal((4, 3))), rk2[[1, 0, 3, 2]]])    # ranks 2, 3, 2
rc = 4 * F32EPS
cases["spaces_batched"] = {"a": enc(sb), "ranks": [int(np.linalg.matrix_rank(m, tol=np.linalg.svd(m, compute_uv=False)[0] * rc)) for m in sb],
                           "orth": [enc(scipy.linalg.orth(m, rcond=rc)) for m in sb],
                           "null": [enc(scipy.linalg.null_space(m, rcond=rc)) for m in sb]}

cases["meta"] = {"numpy": np.__version__, "scipy": scipy.__version__}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "linalg.json")
with open(out, "w") as f:
    json.dump(cases, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {out} ({os.path.getsize(out)} bytes)")
