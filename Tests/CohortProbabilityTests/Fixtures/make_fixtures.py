#!/usr/bin/env python3
"""Reference values for CohortProbability from scipy.stats and numpy.

`python3 make_fixtures.py` rewrites probability_fixtures.json beside it. For each
distribution case: the parameters (in Cohort's parameterisation), points with
scipy's logpdf/logpmf and cdf, probabilities with ppf, and mean/var/entropy.
Also the data and scipy `fit` results for Gamma and Beta, and a Bayesian linear
regression posterior from numpy.linalg. Tolerances live in the Swift tests.
"""
import json, os
import numpy as np
import scipy, scipy.stats as st

out = {"generator": f"scipy {scipy.__version__}, numpy {np.__version__}"}
P = [1e-6, 0.01, 0.3, 0.5, 0.9, 0.999]

def case(name, params, dist, xs, discrete=False, ps=P):
    logf = dist.logpmf if discrete else dist.logpdf
    return {"name": name, "params": params, "x": xs, "logProb": [float(logf(x)) for x in xs],
            "cdf": [float(dist.cdf(x)) for x in xs], "p": ps, "quantile": [float(dist.ppf(p)) for p in ps],
            "mean": float(dist.mean()), "variance": float(dist.var()), "entropy": float(dist.entropy())}

cases = [
    case("Normal", {"loc": 1.5, "scale": 0.7}, st.norm(1.5, 0.7), [-2.0, 0.0, 1.5, 3.1, 6.0]),
    case("Normal", {"loc": -20.0, "scale": 30.0}, st.norm(-20, 30), [-150.0, 0.0, 40.0]),
    case("Uniform", {"low": -1.0, "high": 3.0}, st.uniform(-1, 4), [-0.5, 0.0, 2.9]),
    case("Exponential", {"rate": 2.5}, st.expon(scale=1 / 2.5), [0.0, 0.1, 1.0, 8.0]),
    case("Gamma", {"concentration": 0.3, "rate": 2.0}, st.gamma(0.3, scale=0.5), [1e-4, 0.05, 1.0, 5.0]),
    case("Gamma", {"concentration": 40.0, "rate": 0.5}, st.gamma(40, scale=2.0), [50.0, 80.0, 130.0]),
    case("Beta", {"alpha": 0.5, "beta": 0.5}, st.beta(0.5, 0.5), [0.01, 0.5, 0.97]),
    case("Beta", {"alpha": 20.0, "beta": 3.0}, st.beta(20, 3), [0.5, 0.85, 0.99]),
    case("StudentT", {"df": 2.5, "loc": 1.0, "scale": 2.0}, st.t(2.5, 1.0, 2.0), [-30.0, 0.0, 1.0, 4.0]),
    case("StudentT", {"df": 30.0, "loc": 0.0, "scale": 1.0}, st.t(30), [-3.0, 0.5, 8.0]),
    case("Poisson", {"rate": 3.5}, st.poisson(3.5), [0.0, 2.0, 7.0, 20.0], discrete=True, ps=[0.01, 0.3, 0.5, 0.9, 0.999]),
    case("Poisson", {"rate": 250.0}, st.poisson(250), [200.0, 250.0, 320.0], discrete=True, ps=[0.01, 0.5, 0.999]),
    case("Binomial", {"totalCount": 12, "probs": 0.3}, st.binom(12, 0.3), [0.0, 3.0, 12.0], discrete=True, ps=[0.01, 0.3, 0.5, 0.9, 0.999]),
    case("Binomial", {"totalCount": 500, "probs": 0.85}, st.binom(500, 0.85), [400.0, 425.0, 460.0], discrete=True, ps=[0.01, 0.5, 0.99]),
    case("Bernoulli", {"probs": 0.2}, st.bernoulli(0.2), [0.0, 1.0], discrete=True, ps=[0.1, 0.5, 0.9]),
]
out["cases"] = cases
out["categorical"] = {"probs": [0.1, 0.2, 0.3, 0.4], "entropy": float(st.entropy([0.1, 0.2, 0.3, 0.4]))}
mvn_cov = [[2.0, 0.6, 0.0], [0.6, 1.0, -0.3], [0.0, -0.3, 0.5]]
mvn = st.multivariate_normal([1.0, -1.0, 0.5], mvn_cov)
pts = [[0.0, 0.0, 0.0], [1.0, -1.0, 0.5], [3.0, 1.0, -1.0]]
out["mvn"] = {"loc": [1.0, -1.0, 0.5], "covariance": mvn_cov, "x": pts, "logProb": [float(mvn.logpdf(p)) for p in pts],
              "entropy": float(mvn.entropy())}

rng = np.random.default_rng(11)
gdata = np.round(rng.gamma(2.5, 1 / 1.7, 300), 6)
a, loc, scale = st.gamma.fit(gdata, floc=0)
out["gammaFit"] = {"data": gdata.tolist(), "concentration": float(a), "rate": float(1 / scale)}
bdata = np.round(np.clip(rng.beta(2.0, 5.0, 300), 1e-6, 1 - 1e-6), 6)
a, b, loc, scale = st.beta.fit(bdata, floc=0, fscale=1)
out["betaFit"] = {"data": bdata.tolist(), "alpha": float(a), "beta": float(b)}

X = np.column_stack([np.ones(20), np.round(rng.uniform(-2, 2, 20), 6), np.round(rng.uniform(0, 1, 20), 6)])
w = np.array([0.5, -1.2, 2.0])
y = np.round(X @ w + rng.normal(0, 0.3, 20), 6)
S0 = np.diag([4.0, 1.0, 2.0]); m0 = np.array([0.0, 0.5, 0.0]); s2 = 0.09
prec = np.linalg.inv(S0) + X.T @ X / s2
cov = np.linalg.inv(prec)
mean = cov @ (np.linalg.solve(S0, m0) + X.T @ y / s2)
out["blr"] = {"X": X.tolist(), "y": y.tolist(), "priorMean": m0.tolist(), "priorCovariance": S0.tolist(), "noiseVariance": s2,
              "posteriorMean": mean.tolist(), "posteriorCovariance": cov.tolist()}

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "probability_fixtures.json"), "w") as f:
    json.dump(out, f)
