"""nncheck: the checks of the course's graded exercises.

A test cell of an exercise calls

    expect(actual, expected, "what was wrong, in words", rtol=1e-5, atol=1e-8)

where `expected` is a value or a matcher (`between(lo, hi)`, `finite()`).

* In your own notebook (JupyterLab), `expect` compares at once and raises
  `AssertionError(message)` when the check fails.
* When the notebook is graded (`python -m nncheck NOTEBOOK`, or the instructor's grader), the
  test cell is rewritten so that your kernel only runs `expect(actual)`: it records the actual
  value as plain data, and the comparison with the expected value happens outside your kernel,
  with `compare` below (the one comparison used everywhere).

Plain data: None, bool, int, float (NaN and infinities too), str, exact numpy arrays of
bool/int/float, and lists, tuples and dicts (string keys) of these. Anything else (an ndarray
subclass, an object with its own `__array_function__`/`__array_ufunc__`, any other object) is
recorded as "not plain data" and never matches.
"""

import math
import os

import numpy as np

MIME = "application/x-nncheck+json"
DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 1e-8
__all__ = [
    "expect",
    "between",
    "finite",
    "agrees_with",
    "encode",
    "compare",
    "NotPlainData",
    "MIME",
]


class NotPlainData(Exception):
    pass


_INT_TYPES = (int, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64)
_FLOAT_TYPES = (float, np.float16, np.float32, np.float64)


def _float(x):
    x = float(x)
    if math.isfinite(x):
        return x
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def _unfloat(v):
    return float(v) if isinstance(v, str) else v


def encode(value, _depth=0):
    """The value as plain JSON-able data (tagged), or raise NotPlainData saying why."""
    if _depth > 20:
        raise NotPlainData("nested too deeply")
    t = type(value)  # exact types only: subclasses are not plain data
    if value is None:
        return {"t": "none"}
    if t is bool or t is np.bool_:
        return {"t": "bool", "v": bool(value)}
    if t in _INT_TYPES:
        return {"t": "int", "v": int(value)}
    if t in _FLOAT_TYPES:
        return {"t": "float", "v": _float(value)}
    if t is str:
        return {"t": "str", "v": value}
    if t is np.ndarray:
        kind = value.dtype.kind
        if kind == "b":
            data = value.tolist()
        elif kind in "iu":
            data = value.astype(np.int64).tolist()
        elif kind == "f":
            flat = [_float(x) for x in value.astype(np.float64).ravel().tolist()]
            data = flat
        else:
            raise NotPlainData(f"an array of dtype {value.dtype}")
        if kind != "f":
            data = np.asarray(data).ravel().tolist()
        return {"t": "array", "kind": kind, "shape": list(value.shape), "v": data}
    if t is list or t is tuple:
        return {"t": t.__name__, "v": [encode(x, _depth + 1) for x in value]}
    if t is dict:
        if not all(type(k) is str for k in value):
            raise NotPlainData("a dict whose keys are not all strings")
        return {"t": "dict", "v": {k: encode(v, _depth + 1) for k, v in value.items()}}
    raise NotPlainData(f"an object of type {t.__name__}")


def _numeric(data):
    """(kind, ndarray) for numeric plain data (numbers, arrays, nested lists of numbers)."""
    t = data["t"]
    if t in ("int", "float", "bool"):
        return t, np.array(_unfloat(data["v"]), dtype=float)
    if t == "array":
        values = [_unfloat(x) for x in data["v"]]
        kind = {"b": "bool", "i": "int", "u": "int", "f": "float"}[data["kind"]]
        return kind, np.array(values, dtype=float).reshape(data["shape"])
    if t in ("list", "tuple") and data["v"]:
        parts = [_numeric(x) for x in data["v"]]
        if any(p is None for p in parts) or len({p[1].shape for p in parts}) != 1:
            return None
        kinds = {p[0] for p in parts}
        kind = "bool" if kinds == {"bool"} else ("float" if "float" in kinds else "int")
        return kind, np.stack([p[1] for p in parts])
    return None


# ---------------------------------------------------------------- matchers


def between(lo, hi):
    """Matcher: every entry is a number from lo to hi (inclusive)."""
    return {"matcher": "between", "lo": _float(lo), "hi": _float(hi)}


def finite():
    """Matcher: every entry is a finite number (no NaN, no infinity)."""
    return {"matcher": "finite"}


def agrees_with(labels, at_least):
    """Matcher: an array of the shape of `labels`, equal to it in at least that fraction of entries
    (e.g. predictions that are right for at least 96% of the examples)."""
    return {"matcher": "agrees_with", "labels": encode(np.asarray(labels)), "at_least": at_least}


def _is_matcher(x):
    return (
        type(x) is dict
        and "matcher" in x
        and set(x) <= {"matcher", "lo", "hi", "labels", "at_least"}
    )


def _encode_expected(expected):
    if _is_matcher(expected):
        return {"t": "matcher", "v": dict(expected)}
    return encode(expected)


def _match(kind, actual, matcher):
    if kind == "bool":
        return "expected numbers, got booleans"
    if matcher["matcher"] == "finite":
        return None if np.all(np.isfinite(actual)) else "not every entry is finite"
    if matcher["matcher"] == "agrees_with":
        labels = _numeric(matcher["labels"])[1]
        if actual.shape != labels.shape:
            return f"expected shape {labels.shape}, got shape {actual.shape}"
        ok = np.mean(actual == labels) >= matcher["at_least"]
        return None if ok else "too few entries agree"
    if matcher["matcher"] == "between":
        lo, hi = _unfloat(matcher["lo"]), _unfloat(matcher["hi"])
        ok = np.all(np.isfinite(actual)) and np.all((actual >= lo) & (actual <= hi))
        return None if ok else "out of the expected range"
    return f"unknown matcher {matcher['matcher']!r}"


def compare(actual, expected, rtol=DEFAULT_RTOL, atol=DEFAULT_ATOL):
    """None if the plain data `actual` matches `expected`, else why not (see _compare)."""
    try:
        return _compare(actual, expected, rtol, atol)
    except Exception:  # noqa: BLE001 - a malformed (forged) record never matches
        return "the recorded value is malformed"


def _compare(actual, expected, rtol, atol):
    """None if the plain data `actual` matches `expected` (plain data or a matcher), else why not.

    Both sides are the output of `encode` (or an actual of {"t": "unplain", "why": ...}).
    Numbers, arrays and lists of numbers compare as arrays: same shape, and values close
    (|a - e| <= atol + rtol * |e|, NaN equal to NaN, infinities equal when of the same sign);
    a boolean expected needs a boolean actual. Strings and None compare equal; lists, tuples and
    dicts entry by entry.
    """
    if not isinstance(actual, dict) or "t" not in actual:
        return "no value was recorded"
    if actual["t"] == "unplain":
        return f"not plain data ({actual.get('why', '?')})"
    if expected["t"] == "matcher":
        num = _numeric(actual)
        if num is None:
            return "expected numbers"
        return _match(num[0], num[1], expected["v"])
    num_e = _numeric(expected)
    if num_e is not None:
        num_a = _numeric(actual)
        if num_a is None:
            return "expected a number or an array of numbers"
        (kind_a, a), (kind_e, e) = num_a, num_e
        if (kind_e == "bool") != (kind_a == "bool"):
            return "expected True/False" if kind_e == "bool" else "expected numbers, not booleans"
        if a.shape != e.shape:
            return f"expected shape {e.shape}, got shape {a.shape}"
        if not np.allclose(a, e, rtol=rtol, atol=atol, equal_nan=True):
            return "wrong value"
        return None
    if expected["t"] in ("none", "str"):
        ok = actual["t"] == expected["t"] and actual.get("v") == expected.get("v")
        return None if ok else "wrong value"
    if expected["t"] in ("list", "tuple"):
        if actual["t"] not in ("list", "tuple") or len(actual["v"]) != len(expected["v"]):
            return f"expected a sequence of length {len(expected['v'])}"
        for i, (x, y) in enumerate(zip(actual["v"], expected["v"], strict=True)):
            why = _compare(x, y, rtol, atol)
            if why:
                return f"entry {i}: {why}"
        return None
    if expected["t"] == "dict":
        if actual["t"] != "dict" or set(actual["v"]) != set(expected["v"]):
            return f"expected a dict with keys {sorted(expected['v'])}"
        for k in expected["v"]:
            why = _compare(actual["v"][k], expected["v"][k], rtol, atol)
            if why:
                return f"entry {k!r}: {why}"
        return None
    return "wrong value"


# ---------------------------------------------------------------- expect


def record_of(actual):
    try:
        return encode(actual)
    except NotPlainData as error:
        return {"t": "unplain", "why": str(error)}


def _publish(record):
    from IPython.display import display

    display({MIME: record}, raw=True)


_NO_VALUE = object()


def expect(actual, expected=_NO_VALUE, message="", *, rtol=DEFAULT_RTOL, atol=DEFAULT_ATOL):
    """Check that `actual` matches `expected` (a value or a matcher); else AssertionError(message).

    With only `actual` (how the grader runs test cells), record its value for the grader.
    """
    if expected is _NO_VALUE:
        _publish({"actual": record_of(actual)})
        return
    data = record_of(actual)
    want = _encode_expected(expected)
    why = compare(data, want, rtol, atol)
    if os.environ.get("NNCHECK_REFERENCE") == "1":
        check = {"expected": want, "message": message, "rtol": rtol, "atol": atol}
        _publish({"actual": data, "check": check, "why": why})
    if why is not None:
        raise AssertionError(message or why)
