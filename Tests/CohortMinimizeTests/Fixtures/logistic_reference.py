#!/usr/bin/env python3
"""Reference optimum for CohortMinimizeTests' L-BFGS test, computed independently
with scipy: L2-penalised logistic regression on the standardised breast-cancer
table. Run from the repository root:

    python3 Tests/CohortMinimizeTests/Fixtures/logistic_reference.py > Tests/CohortMinimizeTests/Fixtures/logistic_reference.json

Objective (parameters x = [w_0 … w_29, b]):
    f(w, b) = mean_i [log(1 + exp(z_i)) - y_i z_i] + (lambda / 2) * ||w||^2,  z = X w + b
with X standardised column-wise (mean 0, population standard deviation 1).
"""
import csv, json, sys
import numpy as np
import scipy
from scipy.optimize import minimize

LAMBDA = 1e-2
PATH = "../shared/data/breast-cancer/breast_cancer.csv"

with open(PATH) as fh:
    rows = list(csv.reader(fh))
header, data = rows[0], np.array(rows[1:], dtype=np.float64)
X, y = data[:, :-1], data[:, -1]
X = (X - X.mean(axis=0)) / X.std(axis=0)
n, d = X.shape

def fun(x):
    w, b = x[:d], x[d]
    z = X @ w + b
    loss = np.mean(np.logaddexp(0, z) - y * z) + 0.5 * LAMBDA * w @ w
    r = (1 / (1 + np.exp(-z)) - y) / n
    return loss, np.concatenate([X.T @ r + LAMBDA * w, [r.sum()]])

# tol=1e-12 alone stops on the relative reduction of f (ftol) about 3e-6 from the optimum
# in the parameters (measured with the Newton step below), so ftol and gtol are tightened.
res = minimize(fun, np.zeros(d + 1), jac=True, method="L-BFGS-B", tol=1e-12,
               options={"maxiter": 10000, "ftol": 1e-16, "gtol": 1e-11})

# How far scipy's point is from the exact optimum: one Newton step with the exact Hessian
# (strictly convex, so its length estimates the remaining error to second order).
w, b = res.x[:d], res.x[d]
p = 1 / (1 + np.exp(-(X @ w + b)))
A = np.hstack([X, np.ones((n, 1))])
H = A.T @ (A * (p * (1 - p))[:, None]) / n + np.diag([LAMBDA] * d + [0.0])
newton = np.linalg.solve(H, fun(res.x)[1])
json.dump({"lambda": LAMBDA, "label_column": header[-1], "rows": n, "features": d,
           "fun": res.fun, "x": res.x.tolist(), "nit": int(res.nit), "gradient_inf_norm": float(np.abs(res.jac).max()),
           "newton_step_inf_norm": float(np.abs(newton).max()),
           "scipy": scipy.__version__, "message": str(res.message)}, sys.stdout, indent=1)
sys.stdout.write("\n")
