"""The check machinery: an exercise runs a learner's function on its cases and reports the first case that fails.

Each case is made fresh three times (for the learner, for the reference, and to compare with afterwards), so a
function that changes its input in place cannot spoil the reference, and the change is noticed. The cases run with
torch's random generator seeded and restored afterwards: a check repeats, and leaves the learner's random numbers
alone. ``Exercise.check`` never raises (Ctrl-C aside); whatever goes wrong becomes a failed ``Result`` whose message
says what happened and what it usually means.
"""

from __future__ import annotations

import dis
import html
import inspect
import os
import sysconfig
import textwrap
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from d2lnotes.exercises.comparing import Problem, changed, compare, input_scale, snapshot
from d2lnotes.exercises.display import show

__all__ = ["Case", "Exercise", "Result", "Problem", "is_stub", "seeded_randn", "GENERAL_MEANINGS"]

PASSED, FAILED, NOT_ANSWERED = "✓", "✗", "○"

#: What an error usually means, by a piece of its text (``"Type: message"``); the first match is shown.
GENERAL_MEANINGS: tuple[tuple[str, str], ...] = (
    ("does not require grad and does not have a grad_fn",
     "backward() needs a result computed from a tensor that requires grad. Work on a copy that does: "
     "x = x.detach().clone().requires_grad_()."),
    ("grad can be implicitly created only for scalar outputs",
     "backward() without an argument needs a scalar: reduce first, e.g. f(x).sum().backward()."),
    ("a leaf Variable that requires grad is being used in an in-place operation",
     "autograd refuses to record an in-place change of a parameter: make the update inside "
     "`with torch.no_grad():`."),
    ("view size is not compatible with input tensor's size and stride",
     "the input is not contiguous in memory (a transposed or sliced tensor), so .view() cannot reshape it; "
     "use .reshape(), which copies when it must."),
    ("must match the size of tensor",
     "two shapes do not broadcast. A sum or max over a dimension drops that dimension unless you pass "
     "keepdim=True; print the shapes of the two operands on the line above."),
    ("Boolean value of Tensor with more than one value is ambiguous",
     "`if` (and `and`, `or`, Python's max and min) needs one True or False, but comparing tensors gives one per "
     "entry; choose entry by entry with torch.where(condition, a, b)."),
    ("shapes cannot be multiplied",
     "the inner sizes of a matrix product differ: flatten each example into a row first, "
     "X.reshape(-1, W.shape[0])."),
    ("Expected dtype int64 for index",
     "indices must be int64 (torch.long): convert them with .long()."),
    ("Index tensor must have the same number of dimensions as input tensor",
     "gather needs an index with as many dimensions as the tensor it picks from: y.unsqueeze(1) "
     "(or y.reshape(-1, 1)); flatten the result afterwards."),
    ("could not infer output dtype",
     "the mean of integers (uint8 pixels, say) is not defined in torch: convert first, X.float()."),
    ("'NoneType'",
     "something is None where a tensor was expected. A parameter's .grad is None until backward() reaches it: "
     "skip such parameters (if p.grad is None: continue)."),
    ("is invalid for input of size",
     "a reshape asks for a size the tensor does not have: compute sizes from the inputs (W1.shape[0], len(X)) "
     "instead of typing them."),
    ("expected scalar type",
     "two tensors of different dtypes meet here: make new tensors with the input's dtype (dtype=X.dtype) or "
     "convert with .to(X.dtype)."),
    ("same dtype",
     "two tensors of different dtypes meet here: make new tensors with the input's dtype (dtype=X.dtype) or "
     "convert with .to(X.dtype)."),
    ("out of bounds",
     "an index is past the end of a dimension: check which dimension you index (rows are examples, columns "
     "classes)."),
    ("NameError",
     "a name the function uses is not defined where the function was defined: import it (import torch) or run "
     "the cell that defines it first."),
)

_MUTATION_WHY = ("the caller still needs its own tensors. Compute on new tensors: X = X - m rather than X -= m, "
                 "torch.exp(X) rather than X.exp_(), torch.where(...) rather than assigning to X[mask].")
_MUTATION_GRAD_WHY = ("the caller's tensor must keep its requires_grad flag and its own .grad: record on a copy, "
                      "x.detach().clone().requires_grad_(), and take the gradient from the copy.")


def seeded_randn(seed: int, *shape: int, scale: float = 1.0) -> torch.Tensor:
    """Return ``scale`` times standard normal draws of ``shape`` from a generator of its own: the same on every call."""
    return scale * torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


@dataclass(frozen=True)
class Case:
    """One input of a check: its name, a factory of fresh arguments (the same ones on every call), and what
    failing it usually means (``why_nonfinite`` when nan or inf came back where a finite value was expected)."""

    name: str
    make: Callable[[], tuple[Any, ...]]
    why: str
    why_nonfinite: str | None = None


@dataclass(frozen=True)
class Result:
    """The outcome of a check: ``passed``, and a ``message`` that says why (plain text; HTML in a notebook)."""

    exercise: str
    passed: bool
    message: str
    answered: bool = True

    def __bool__(self) -> bool:
        """Return ``passed``, so that ``assert ex.check(f)`` reads naturally."""
        return self.passed

    def __str__(self) -> str:
        """Return the message, as plain text."""
        return self.message

    def __repr__(self) -> str:
        """Return the message, as plain text (what a script prints and a notebook stores as text/plain)."""
        return self.message

    def _repr_html_(self) -> str:
        """Return the message in a coloured box for notebooks: green passed, red failed, grey not answered."""
        colour = "26, 127, 55" if self.passed else "179, 38, 30" if self.answered else "110, 110, 110"
        style = (f"border-left: 4px solid rgb({colour}); background: rgba({colour}, 0.08); padding: 0.5em 0.8em; "
                 "margin: 0; white-space: pre-wrap; color: inherit")
        return f'<pre style="{style}">{html.escape(self.message)}</pre>'


def is_stub(fn: Any) -> bool:
    """Return True if ``fn``'s body does nothing (only a docstring, ``...`` or ``pass``): a starter not filled in."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return False
    skip = {"RESUME", "NOP", "CACHE", "COPY_FREE_VARS", "MAKE_CELL"}
    ops = [(i.opname, i.argval) for i in dis.get_instructions(code) if i.opname not in skip]
    return ops in ([("LOAD_CONST", None), ("RETURN_VALUE", None)], [("RETURN_CONST", None)])


def _library_dirs() -> tuple[str, ...]:
    """Return the folders whose frames are not the learner's: the standard library, site-packages, torch, d2lnotes."""
    paths = sysconfig.get_paths()
    dirs = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    dirs |= {os.path.dirname(torch.__file__), str(Path(__file__).resolve().parents[1])}
    return tuple(os.path.realpath(d) + os.sep for d in dirs)


_LIBRARY_DIRS = _library_dirs()


def _learner_frames(err: BaseException) -> list[traceback.FrameSummary]:
    """Return the frames of ``err``'s traceback that are in the learner's code (not in a library or in ours)."""
    return [f for f in traceback.extract_tb(err.__traceback__)
            if not os.path.realpath(f.filename).startswith(_LIBRARY_DIRS)]


def _raised_here(err: BaseException) -> bool:
    """Return True if the learner's own code raised ``err`` (its innermost frame is the learner's)."""
    frames = traceback.extract_tb(err.__traceback__)
    return bool(frames) and not os.path.realpath(frames[-1].filename).startswith(_LIBRARY_DIRS)


def _exception_text(err: BaseException) -> str:
    """Return the exception's type and first line, and the learner's line that raised it, as a traceback shows."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    if len(text) > 300:
        text = text[:300] + " ..."
    lines = [f"{type(err).__name__}: {text}" if text else type(err).__name__]
    if frames := _learner_frames(err):
        frame = frames[-1]
        lines.append(f'File "{frame.filename}", line {frame.lineno}, in {frame.name}')
        if frame.line:
            lines.append(f"    {frame.line.strip()}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Exercise:
    """A checkable code exercise: ``check(answer)``, ``hint()``, ``solution()`` and ``starter()``.

    ``reference`` computes the right answer on a case's arguments; ``observe(args, returned)`` picks what is
    compared (default: the returned value), as ``{name: value}``; ``judge(before, after, returned)`` checks what a
    comparison cannot (a random order, statistics) and returns a ``Problem`` or None. ``may_change`` names the
    arguments the function is meant to change in place; any other change is reported. ``consume`` turns what the
    function returned into the value to check (``list`` of a generator's batches), inside the protection.
    """

    id: str
    chapter: str
    title: str
    params: tuple[str, ...]
    cases: tuple[Case, ...]
    reference: Callable[..., Any]
    hint_text: str
    solution_code: str
    may_change: tuple[str, ...] = ()
    returns_value: bool = True
    consume: Callable[[Any], Any] | None = None
    observe: Callable[[tuple[Any, ...], Any], dict[str, Any]] | None = None
    judge: Callable[[tuple[Any, ...], tuple[Any, ...], Any], Problem | None] | None = None
    compare_to_reference: bool = True
    exact_dtype: bool = True
    scale_with_input: bool = False
    error_meanings: tuple[tuple[str, str], ...] = ()

    @property
    def call(self) -> str:
        """Return how the exercise calls the function: ``stable_softmax(X)``."""
        return f"{self.id}({', '.join(self.params)})"

    def __repr__(self) -> str:
        """Return ``<exercise stable_softmax(X), chapter 08: title>``."""
        return f"<exercise {self.call}, chapter {self.chapter}: {self.title}>"

    def hint(self) -> str:
        """Return a hint: the idea of the answer, without its code."""
        return self.hint_text

    def solution(self) -> str:
        """Return the source code of a reference answer, written as a learner would write it."""
        return self.solution_code

    def starter(self) -> str:
        """Return the source code of the starter cell: the function to fill in, its body not yet written."""
        return f'def {self.call}:\n    """{self.title}"""\n    ...  # your code here\n'

    def check(self, answer: Any) -> Result:
        """Return the result of running ``answer`` (the learner's function) on every case; never raises."""
        try:
            return self._check(answer)
        except KeyboardInterrupt:
            raise
        except BaseException as err:  # noqa: BLE001 - check() never raises: a bug of ours becomes a message too
            return Result(self.id, False, f"{FAILED} {self.call}: the checker itself failed "
                          f"({type(err).__name__}: {err}). This is a bug in d2lnotes, not in your answer; "
                          f"please report it with this message.")

    # --- the steps of a check -------------------------------------------------------------------------------

    def _fail(self, message: str) -> Result:
        return Result(self.id, False, f"{FAILED} {message}")

    def _unusable(self, answer: Any) -> str | None:
        """Return why ``answer`` cannot be called the way the exercise calls it, or None."""
        if not callable(answer):
            return (f"check() needs your function itself, as in .check({self.id}), without parentheses after the "
                    f"name; it got {show(answer)}.")
        try:
            signature = inspect.signature(answer)
        except (TypeError, ValueError):  # some built-ins have no signature: the call itself will tell
            return None
        try:
            signature.bind(*self.params)
        except TypeError:
            name = getattr(answer, "__name__", self.id)
            return (f"{name}{signature} cannot be called as {self.call}: the exercise passes "
                    f"{len(self.params)} argument{'s' if len(self.params) > 1 else ''}. Define it as "
                    f"def {self.call}: and run the cell again.")
        return None

    def _check(self, answer: Any) -> Result:
        if (why := self._unusable(answer)) is not None:
            return self._fail(why)
        if is_stub(answer):
            return self._not_answered(answer)
        with torch.random.fork_rng(devices=[]), torch.enable_grad():
            torch.default_generator.manual_seed(0)
            for number, case in enumerate(self.cases, 1):
                outcome = self._run_case(case, answer, first=number == 1)
                if outcome is None:
                    continue
                headline, problem, before = outcome
                if problem.not_answered:
                    return self._not_answered(answer)
                why = problem.why or (case.why_nonfinite if problem.nonfinite and case.why_nonfinite else case.why)
                shown = "\n".join(f"    {n} = {show(v)}" for n, v in zip(self.params, before))
                return self._fail(f"{self.call} {headline}. Case {number} of {len(self.cases)}, {case.name}:\n"
                                  f"{shown}\n{textwrap.indent(problem.text, '  ')}\n  Usually this means: {why}")
        names = "; ".join(c.name for c in self.cases)
        return Result(self.id, True, f"{PASSED} {self.call}: all {len(self.cases)} cases pass ({names}).")

    def _not_answered(self, answer: Any) -> Result:
        name = getattr(answer, "__name__", "")
        name = name if name.isidentifier() else self.id
        return Result(self.id, False, f"{NOT_ANSWERED} {self.call}: not answered yet. Fill in the body of {name}, "
                      "then run this cell again.", answered=False)

    def _observe(self, args: tuple[Any, ...], returned: Any) -> dict[str, Any]:
        return self.observe(args, returned) if self.observe else {"result": returned}

    def _meaning(self, err: BaseException) -> str:
        text = f"{type(err).__name__}: {err}"
        for piece, meaning in (*self.error_meanings, *GENERAL_MEANINGS):
            if piece in text:
                return meaning
        return f"run {self.call} on the input above yourself, and read the line the error points to."

    def _run_case(self, case: Case, answer: Any, first: bool) -> tuple[str, Problem, tuple[Any, ...]] | None:
        """Return (headline, problem, the case's arguments) for the first thing wrong on ``case``, or None.

        A ``NotImplementedError`` the learner raises on the first case means "not answered yet"; on a later case
        (``raise NotImplementedError("float16")``, say) it is reported like any other error.
        """
        before, args = case.make(), case.make()
        frozen = [snapshot(a) for a in args]
        try:
            returned = answer(*args)
            if returned is not None and self.consume is not None:
                returned = self.consume(returned)
        except (Exception, SystemExit) as err:  # noqa: BLE001 - any error of the learner's code is reported
            if first and isinstance(err, NotImplementedError) and _raised_here(err):
                return "is not answered", Problem("", not_answered=True), before
            return "raised an exception", Problem(_exception_text(err), why=self._meaning(err)), before
        if returned is None and self.returns_value:
            return "returned None", Problem(
                f"{self.id} returned None instead of a result.",
                why="a function without a `return` statement returns None: end it with return and the result."
            ), before
        for name, arg, frozen_arg, original in zip(self.params, args, frozen, before):
            if name not in self.may_change and (what := changed(name, arg, frozen_arg)) is not None:
                return "changed its input", Problem(
                    f"it changed {what} in place.\nbefore the call: {name} = {show(original)}\n"
                    f"after the call:  {name} = {show(arg)}",
                    why=_MUTATION_GRAD_WHY if "grad" in what else _MUTATION_WHY), before
        if self.judge is not None and (problem := self.judge(before, args, returned)) is not None:
            return "is not right yet", problem, before
        if not self.compare_to_reference:
            return None
        ref_args = case.make()
        expected = self.reference(*ref_args)
        if expected is not None and self.consume is not None:
            expected = self.consume(expected)
        scale = input_scale(before) if self.scale_with_input else 1.0
        got_parts = self._observe(args, returned)
        for part, value in self._observe(ref_args, expected).items():
            problem = compare(value, got_parts[part], scale, self.exact_dtype)
            if problem is not None:
                if part != "result":
                    problem = Problem(f"{part}:\n{textwrap.indent(problem.text, '  ')}", problem.why, problem.nonfinite)
                return "is not right yet", problem, before
        return None
