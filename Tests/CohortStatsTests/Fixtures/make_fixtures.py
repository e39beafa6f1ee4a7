#!/usr/bin/env python3
"""Reference values for CohortStats from scipy.special / scipy.stats / numpy.

Run from anywhere: `python3 make_fixtures.py` rewrites stats_fixtures.json beside it.
Every case is a list of arguments and the expected value; the Swift tests state
their relative tolerances per function (Tests/CohortStatsTests/SpecialFunctionFixtureTests.swift).
"""
import json, os
import numpy as np
import scipy, scipy.special as sp, scipy.stats as st

out = {"generator": f"scipy {scipy.__version__}, numpy {np.__version__}"}

def cases(f, args):
    return [[*a, float(f(*a))] for a in args]

out["logGamma"] = cases(sp.gammaln, [(x,) for x in [1e-300, 1e-8, 0.1, 0.5, 1.5, 2.5, 3.7, 10.0, 33.3, 171.5, 1e5, 1e10, 1e100]])
out["digamma"] = cases(sp.digamma, [(x,) for x in [1e-8, 0.1, 0.5, 1.0, 1.4616321449683622, 2.5, 7.25, 30.0, 1e6, -0.5, -2.7]])
out["trigamma"] = cases(lambda x: sp.polygamma(1, x), [(x,) for x in [1e-4, 0.3, 1.0, 2.5, 9.9, 50.0, 1e6, -0.5]])
gamma_args = [(0.5, 0.1), (0.5, 2.0), (1.0, 1.0), (3.0, 0.5), (3.0, 10.0), (10.0, 12.0), (0.01, 1e-3),
              (100.0, 90.0), (100.0, 150.0), (1e4, 1e4 + 50), (1e6, 1e6 - 3000), (2.5, 700.0), (50.0, 1.0),
              (1e-3, 1e-200), (5.0, 400.0), (0.7, 1e-5)]
out["gammaP"] = cases(sp.gammainc, gamma_args)
out["gammaQ"] = cases(sp.gammaincc, gamma_args)
beta_args = [(0.5, 0.5, 0.3), (2.0, 3.0, 0.4), (1e-3, 2.0, 0.5), (50.0, 60.0, 0.45), (1e4, 1e4, 0.51),
             (0.5, 1e5, 1e-7), (5.0, 5.0, 1e-60), (200.0, 0.5, 0.999), (3.3, 7.7, 0.9), (1e3, 3.0, 0.5)]
out["betaI"] = cases(lambda a, b, x: sp.betainc(a, b, x), beta_args)
out["inverseGammaP"] = cases(sp.gammaincinv, [(0.5, 0.3), (3.0, 0.01), (10.0, 0.9), (0.01, 0.5), (1e4, 0.5),
                                               (2.0, 1e-100), (1e-3, 1e-250), (100.0, 1e-20), (7.5, 0.99)])
out["inverseGammaQ"] = cases(sp.gammainccinv, [(0.5, 1e-300), (3.0, 1e-50), (10.0, 0.1), (1e3, 1e-10), (0.2, 0.9),
                                                (1.0, 1e-200)])
out["inverseBeta"] = cases(sp.betaincinv, [(0.5, 0.5, 0.3), (2.0, 3.0, 0.99), (1e-2, 2.0, 0.4), (50.0, 60.0, 1e-30),
                                           (5.0, 5.0, 1e-100), (200.0, 0.5, 0.7), (0.5, 1e4, 0.5), (3.0, 1.5, 0.999999)])
out["inverseErf"] = cases(sp.erfinv, [(y,) for y in [1e-12, 0.1, -0.4, 0.75, 0.999999, -0.9999999999]])
out["inverseErfc"] = cases(sp.erfcinv, [(z,) for z in [1e-300, 1e-100, 1e-10, 0.3, 1.0, 1.7, 1.9999999]])
out["chiSquaredSurvival"] = cases(lambda k, x: st.chi2.sf(x, k), [(1.0, 3.84), (3.0, 50.0), (10.0, 1300.0), (2.0, 1300.0),
                                                                   (100.0, 120.0), (0.5, 1e-4), (7.0, 2.0)])
out["chiSquaredQuantile"] = cases(lambda k, p: st.chi2.ppf(p, k), [(1.0, 0.95), (3.0, 0.01), (10.0, 0.5), (100.0, 0.999), (0.5, 0.2)])
out["normalSurvivalFarTail"] = cases(lambda z: st.norm.sf(z), [(z,) for z in [5.0, 10.0, 20.0, 30.0, 37.0]])
out["studentTFarTail"] = cases(lambda df, t: st.t.sf(t, df), [(3.0, 1e20), (30.0, 100.0), (5.0, 1e10), (100.0, 40.0)])

rng = np.random.default_rng(7)
a = np.round(rng.normal(10.0, 2.0, 15), 6).tolist()
b = np.round(rng.normal(11.5, 3.0, 12), 6).tolist()
c = np.round((np.array(a[:12]) + rng.normal(0.4, 0.5, 12)), 6).tolist()
tests = {"a": a, "b": b, "c": c}
for alt, name in [("two-sided", "twoSided"), ("less", "less"), ("greater", "greater")]:
    r = st.ttest_1samp(a, 9.0, alternative=alt); tests[f"oneSample_{name}"] = [float(r.statistic), float(r.pvalue)]
    r = st.ttest_rel(a[:12], c, alternative=alt); tests[f"paired_{name}"] = [float(r.statistic), float(r.pvalue)]
    r = st.ttest_ind(a, b, equal_var=True, alternative=alt); tests[f"pooled_{name}"] = [float(r.statistic), float(r.pvalue)]
    r = st.ttest_ind(a, b, equal_var=False, alternative=alt); tests[f"welch_{name}"] = [float(r.statistic), float(r.pvalue)]
# A far-tail one-sample t-test: 40 values far from the null mean.
far = np.round(rng.normal(50.0, 1.0, 40), 6).tolist()
r = st.ttest_1samp(far, 0.0); tests["far"] = far; tests["farOneSample"] = [float(r.statistic), float(r.pvalue)]
obs = [43.0, 52.0, 54.0, 40.0, 61.0]
exp = [50.0, 50.0, 50.0, 50.0, 50.0]
r = st.chisquare(obs); tests["gof"] = {"observed": obs, "statistic": float(r.statistic), "pValue": float(r.pvalue)}
obs2 = [10.0, 20.0, 30.0, 40.0, 900.0]
e2 = [200.0, 200.0, 200.0, 200.0, 200.0]
r = st.chisquare(obs2, e2, ddof=1); tests["gofFar"] = {"observed": obs2, "expected": e2, "ddof": 1,
                                                      "statistic": float(r.statistic), "pValue": float(r.pvalue)}
for name, table in [("table2x2", [[12.0, 5.0], [7.0, 18.0]]), ("table2x3", [[20.0, 15.0, 30.0], [25.0, 40.0, 10.0]]),
                    ("table3x3Far", [[500.0, 10.0, 12.0], [8.0, 450.0, 20.0], [15.0, 9.0, 600.0]])]:
    chi2, p, dof, expected = st.chi2_contingency(table)
    tests[name] = {"table": table, "statistic": float(chi2), "pValue": float(p), "df": int(dof), "expected": expected.tolist()}
for k, n in [(0, 20), (7, 20), (20, 20), (481, 1000)]:
    ci = st.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    tests[f"wilson_{k}_{n}"] = [k, n, float(ci.low), float(ci.high)]
ci = st.ttest_ind(a, b, equal_var=False).confidence_interval(0.9); tests["welchInterval90"] = [float(ci.low), float(ci.high)]
ci = st.ttest_ind(a, b, equal_var=True).confidence_interval(0.95); tests["pooledInterval95"] = [float(ci.low), float(ci.high)]
data = np.round(rng.multivariate_normal([0, 1, 2], [[1, 0.6, -0.3], [0.6, 2, 0.1], [-0.3, 0.1, 0.5]], 25), 6)
data[:, 2] = np.round(data[:, 2] ** 3, 6)   # a monotone, non-linear column: Spearman ≠ Pearson
tests["table"] = data.tolist()
tests["covariance"] = np.cov(data, rowvar=False).tolist()
tests["pearson"] = np.corrcoef(data, rowvar=False).tolist()
tests["spearman"] = st.spearmanr(data).statistic.tolist()
out["tests"] = tests

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "stats_fixtures.json"), "w") as f:
    json.dump(out, f, indent=1)
