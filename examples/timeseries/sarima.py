"""SARIMA reference for examples/timeseries: the same series, split and windows as
`cohort train --task forecast`, scored by a statsmodels SARIMAX fitted on the training
part only.

Same data handling as Cohort: the column read in file order, empty cells filled by
linear interpolation, the split at round(n*train) and round(n*(train+val)), test
windows whose H targets lie in the test part and whose origin t has t >= L. For each
test origin t the forecast of y[t..t+H) uses the data before t only: the model is
filtered once over the whole (differenced) series with the parameters fitted on the training part,
and the H-step forecasts are Z T^j a(t|t-1) from the one-step predicted state a(t|t-1).

Usage: python sarima.py --data co2.csv --column co2_ppm --context 52 --horizon 13 \
         [--season 52] [--split 0.7,0.15,0.15] [--order 1,1,1] [--seasonal-order 0,1,1] [--maxiter 200]
Prints MAE, RMSE and MASE (scale: the training part's seasonal-naive MAE) and a JSON line.
"""
import argparse
import csv
import json
import sys
import time
import warnings

import numpy as np
from statsmodels.tsa.statespace.sarimax import SARIMAX


def load(path, column):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    raw = [float(r[column]) if r[column].strip() not in ("", "NA", "NaN", "nan") else np.nan for r in rows]
    y = np.array(raw, dtype=float)
    missing = np.isnan(y)
    idx = np.arange(len(y))
    y[missing] = np.interp(idx[missing], idx[~missing], y[~missing])
    return y, int(missing.sum())


def difference(y, d, D, S):
    """(1 − B)^d (1 − B^S)^D y, shorter by d + D·S values."""
    w = np.asarray(y, dtype=float)
    for _ in range(D):
        w = w[S:] - w[:-S]
    for _ in range(d):
        w = w[1:] - w[:-1]
    return w


def integrate(history, w_next, d, D, S):
    """The next level y given the next differenced value and the levels before it (d, D ≤ 1)."""
    h = history
    if (d, D) == (1, 1):
        return w_next + h[-1] + h[-S] - h[-S - 1]
    if (d, D) == (0, 1):
        return w_next + h[-S]
    if (d, D) == (1, 0):
        return w_next + h[-1]
    if (d, D) == (0, 0):
        return w_next
    raise SystemExit("sarima.py integrates d, D in {0, 1} only")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--column", required=True)
    p.add_argument("--context", type=int, required=True)
    p.add_argument("--horizon", type=int, required=True)
    p.add_argument("--season", type=int, default=52)
    p.add_argument("--split", default="0.7,0.15,0.15")
    p.add_argument("--order", default="1,1,1")
    p.add_argument("--seasonal-order", default="0,1,1")
    p.add_argument("--maxiter", type=int, default=200, help="optimizer iterations of the fit")
    a = p.parse_args()
    y, filled = load(a.data, a.column)
    n, L, H, S = len(y), a.context, a.horizon, a.season
    tr, va, _ = (float(x) for x in a.split.split(","))
    train_end = int(round(n * tr))
    val_end = min(n, train_end + int(round(n * va)))
    origins = list(range(max(val_end, L), n - H + 1))
    order = tuple(int(x) for x in a.order.split(","))
    seasonal = tuple(int(x) for x in a.seasonal_order.split(",")) + (S,)

    start = time.time()
    # Fitted on the differenced training part w = (1 − B)^d (1 − B^S)^D y (statsmodels'
    # simple_differencing): the state then holds the ARMA part only, which keeps a weekly
    # season (S = 52) fast enough. Forecasts of w are integrated back to levels.
    d, D = order[1], seasonal[1]
    w = difference(y, d, D, S)
    lost = len(y) - len(w)
    arma = (order[0], 0, order[2])
    seasonal_arma = (seasonal[0], 0, seasonal[2], S)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = SARIMAX(w[:train_end - lost], order=arma, seasonal_order=seasonal_arma, trend="c" if d + D == 1 else "n",
                         concentrate_scale=True).fit(disp=False, maxiter=a.maxiter)
        full = fitted.apply(w)   # the training part's parameters, filtered over the whole differenced series
    fr = full.filter_results
    Z = np.asarray(fr.design)[:, :, 0]
    T = np.asarray(fr.transition)[:, :, 0]
    dd = float(np.asarray(fr.obs_intercept).reshape(-1)[0])
    c = np.asarray(fr.state_intercept)[:, 0]
    pred = np.asarray(fr.predicted_state)   # column i: a(i | i-1) of the differenced series
    errors = []
    for t in origins:
        state = pred[:, t - lost].copy()
        history = list(y[:t])
        for j in range(H):
            w_hat = float((Z @ state)[0]) + dd
            history.append(integrate(history, w_hat, d, D, S))
            errors.append(history[-1] - y[t + j])
            state = T @ state + c
    errors = np.array(errors)
    train = y[:train_end]
    scale = np.mean(np.abs(train[S:] - train[:-S]))
    mae, rmse = float(np.mean(np.abs(errors))), float(np.sqrt(np.mean(errors ** 2)))
    seconds = time.time() - start
    print(f"SARIMA{order}x{seasonal} fitted on {train_end} training values ({filled} interpolated) in {seconds:.1f} s; "
          f"test: {len(origins)} windows x {H} steps")
    print(f"  SARIMA  MAE {mae:.4f}  RMSE {rmse:.4f}  MASE {mae / scale:.4f}")
    print(json.dumps({"model": "sarima", "order": list(order), "seasonal_order": list(seasonal), "windows": len(origins),
                      "test_mae": mae, "test_rmse": rmse, "test_mase": mae / scale, "aic": float(fitted.aic), "seconds": seconds}))


if __name__ == "__main__":
    sys.exit(main())
