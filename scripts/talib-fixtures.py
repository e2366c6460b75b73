#!/usr/bin/env python3
"""Writes the TA-Lib fixtures that Tests/TradingTests/IndicatorFixtureTests.swift checks the incremental
indicators of Sources/Trading/Indicators against.

Input: the close prices of the first ROWS rows of ../shared/data/EURUSD-1h.csv (columns open_time, open,
high, low, close, volume). Output: Tests/TradingTests/Fixtures/talib-eurusd-1h.json with the closes and, per
indicator and parameter set, TA-Lib's outputs index for index (NaN, i.e. not yet defined, as null). Numbers
are written with 13 significant digits (relative rounding at most 5e-13, far under the tests' 1e-9).

Generated with TA-Lib 0.8.2 from PyPI (the manylinux wheel bundles the TA-Lib C library; talib.__ta_version__
reports "0.8.1") and numpy 2.4.6, on CPython 3.11:

    python3 -m venv /tmp/talibenv
    /tmp/talibenv/bin/pip install TA-Lib==0.8.2 numpy==2.4.6
    /tmp/talibenv/bin/python scripts/talib-fixtures.py ../shared/data/EURUSD-1h.csv \
        Tests/TradingTests/Fixtures/talib-eurusd-1h.json

(run from the package root; the two paths are also the defaults).
"""

import csv
import json
import math
import sys

import numpy
import talib

ROWS = 1800


def series(values):
    """TA-Lib's output as a JSON list: 13 significant digits, NaN (undefined) as None."""
    return [None if math.isnan(v) else float("%.13g" % v) for v in values]


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/EURUSD-1h.csv"
    target = sys.argv[2] if len(sys.argv) > 2 else "Tests/TradingTests/Fixtures/talib-eurusd-1h.json"
    with open(source, newline="") as file:
        rows = list(csv.DictReader(file))[:ROWS]
    closes = numpy.array([float(row["close"]) for row in rows], dtype=numpy.float64)

    cases = []

    def add(name, params, outputs):
        cases.append({"indicator": name, "params": params, "outputs": {k: series(v) for k, v in outputs.items()}})

    for period in (5, 20):
        add("sma", {"period": period}, {"value": talib.SMA(closes, timeperiod=period)})
    for period in (20, 50):
        add("ema", {"period": period}, {"value": talib.EMA(closes, timeperiod=period)})
    for period in (2, 14):
        add("rsi", {"period": period}, {"value": talib.RSI(closes, timeperiod=period)})
    for fast, slow, signal in ((12, 26, 9), (5, 13, 20)):
        macd, macd_signal, histogram = talib.MACD(closes, fastperiod=fast, slowperiod=slow, signalperiod=signal)
        add(
            "macd",
            {"fast": fast, "slow": slow, "signal": signal},
            {"macd": macd, "signal": macd_signal, "histogram": histogram},
        )
    for period, k in ((20, 2.0), (10, 1.5)):
        upper, middle, lower = talib.BBANDS(
            closes, timeperiod=period, nbdevup=k, nbdevdn=k, matype=talib.MA_Type.SMA
        )
        add("bollinger", {"period": period, "stddev": k}, {"upper": upper, "middle": middle, "lower": lower})

    document = {
        "source": "EURUSD-1h.csv, first %d rows, close" % ROWS,
        "talib": talib.__version__,
        "talib_c": talib.__ta_version__.decode().split(" ")[0],
        "numpy": numpy.__version__,
        "closes": [float(v) for v in closes],
        "cases": cases,
    }
    with open(target, "w") as file:
        json.dump(document, file, separators=(",", ":"))
        file.write("\n")


if __name__ == "__main__":
    main()
