"""Exercises a learner can check: ``available()`` lists them, ``get(id)`` returns one with ``check``, ``hint``,
``solution`` and ``starter``::

    from d2lnotes import exercises
    exercises.available("08")          # ['stable_softmax', 'stable_log_softmax', 'stable_cross_entropy']
    ex = exercises.get("stable_softmax")
    ex.check(stable_softmax)           # ✓ ... or ✗ with the failing case, what came back, and what it usually means

Conventions:

* An exercise's id is the name of the function the learner writes, unique across the course; ``ex.chapter`` is the
  chapter's number as its file name starts (``"08"``).
* **Not answered yet**: a function whose body does nothing (only a docstring, ``...`` or ``pass``, as in the starter
  cell) or raises ``NotImplementedError`` itself. ``check`` then says "not answered yet", without a traceback.
* ``check(answer)`` never raises (Ctrl-C aside). It runs ``answer`` on cases chosen to expose the usual mistakes,
  from ordinary inputs to hostile ones (large, tiny and ``-inf`` logits, rows far apart, float16/bfloat16 where the
  exercise says so, a one-row batch, non-contiguous input), and reports the first case that fails: the input, what
  was expected, what came back, and what that usually means. An exception in the learner's code is reported with
  its type, its text and the learner's line; a change the function makes to its input in place is reported too.
* Any correct implementation passes: results are compared with a reference within a tolerance of their dtype, not
  with our code's exact digits. A result must keep the input's dtype.
* The checks use synthetic tensors only (no data set, no network) and run in milliseconds; torch's random
  generator is seeded during a check and restored afterwards.
"""

from __future__ import annotations

import difflib

from d2lnotes.exercises import activations, classification, mlp, regression, stability, tensors
from d2lnotes.exercises.checking import Exercise, Result

__all__ = ["available", "get", "Exercise", "Result"]

_EXERCISES: dict[str, Exercise] = {
    ex.id: ex
    for module in (tensors, regression, activations, classification, stability, mlp)
    for ex in module.EXERCISES
}


def available(chapter: str | int | None = None) -> list[str]:
    """Return the ids of the checkable exercises in course order, or those of one chapter (``"08"``)."""
    return [i for i, ex in _EXERCISES.items() if chapter is None or ex.chapter == str(chapter).zfill(2)[:2]]


def get(exercise_id: str) -> Exercise:
    """Return the exercise called ``exercise_id`` (see ``available()``)."""
    try:
        return _EXERCISES[exercise_id]
    except KeyError:
        close = difflib.get_close_matches(str(exercise_id), _EXERCISES, n=1)
        guess = f" Did you mean {close[0]!r}?" if close else ""
        raise LookupError(f"there is no exercise {exercise_id!r}.{guess} exercises.available() lists the "
                          f"{len(_EXERCISES)} there are.") from None
