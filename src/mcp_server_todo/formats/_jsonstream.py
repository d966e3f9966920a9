"""Streaming JSON for task files: the elements of a big array one at a time, with line numbers.

`json.load` would hold a 100 MB export in memory twice over. Here the text is read line by
line into a small buffer and each element is decoded as soon as it is complete
(`json.JSONDecoder.raw_decode`), then dropped. Two layouts are read:

- `array_items`: a top-level array (`task export`), or one object per line without brackets
  (what `task import` also accepts), or a single object;
- `object_items`: a top-level object whose one key holds the big array (our dump); the
  other keys are yielded as `Header`s.

An element that does not parse is reported and skipped when the elements are one per line
(the reader resumes on the next line); a broken structure around them is a fatal problem.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from . import Problem

MAX_ELEMENT = 16 * 1024 * 1024
"""The longest one element may be (characters) before the file is judged broken."""
MAX_DEPTH = 64
"""The deepest nesting of arrays and objects in one element (a task needs 3 or 4 levels);
deeper would reach Python's recursion limit, in the decoder or in the code that reads it."""

_DECODER = json.JSONDecoder()
_SPACE = " \t\r\n"


@dataclass(frozen=True, slots=True)
class Item:
    line: int
    value: Any


@dataclass(frozen=True, slots=True)
class Header:
    key: str
    value: Any


class _Broken(Exception):
    """The structure around the elements is broken: nothing after this point can be trusted."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


class _TooDeep(ValueError):
    """An element nested deeper than MAX_DEPTH: where it ends cannot be found, so it is fatal."""


class _Scanner:
    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self.buf = ""
        self.pos = 0
        self.line = 1
        self.eof = False

    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = next(self._lines, None)
        if chunk is None:
            self.eof = True
            return False
        if self.pos > 65536:
            self.buf, self.pos = self.buf[self.pos :], 0
        self.buf += chunk
        return True

    def _advance(self, to: int) -> None:
        self.line += self.buf.count("\n", self.pos, to)
        self.pos = to

    def peek(self) -> str | None:
        """The next character that is not white space (None at the end)."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _SPACE:
                if self.buf[self.pos] == "\n":
                    self.line += 1
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._fill():
                return None

    def take(self, char: str) -> bool:
        if self.peek() == char:
            self.pos += 1
            return True
        return False

    def value(self) -> tuple[int, Any]:
        """The next JSON value and the line it starts on; ValueError if it does not parse."""
        self.peek()
        line = self.line
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except RecursionError:
                raise _TooDeep(f"JSON nested deeper than {MAX_DEPTH} levels") from None
            except json.JSONDecodeError as exc:
                complete = exc.pos < len(self.buf) - 1 and "\n" in self.buf[exc.pos :]
                if complete or len(self.buf) - self.pos > MAX_ELEMENT or not self._fill():
                    raise ValueError(f"{exc.msg} (column {exc.colno})") from None
                continue
            if _deeper_than(value, MAX_DEPTH):
                raise _TooDeep(f"JSON nested deeper than {MAX_DEPTH} levels")
            self._advance(end)
            return line, value

    def skip_line(self) -> None:
        """Skip to the start of the next line (after an element that does not parse)."""
        while True:
            newline = self.buf.find("\n", self.pos)
            if newline >= 0:
                self._advance(newline + 1)
                return
            self.pos = len(self.buf)
            if not self._fill():
                return


def _deeper_than(value: Any, limit: int) -> bool:
    """Arrays and objects nested more than `limit` levels (without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        if children and depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _elements(scan: _Scanner, closing: str | None) -> Iterator[Item | Problem]:
    """Elements separated by commas (or by new lines), up to `closing` (or the end)."""
    while True:
        while scan.take(","):
            pass
        char = scan.peek()
        if char is None:
            if closing is not None:
                raise _Broken(scan.line, f"the file ends before the closing {closing!r}; is it cut short?")
            return
        if char == closing:
            scan.pos += 1
            return
        line = scan.line
        try:
            line, value = scan.value()
        except _TooDeep as exc:
            raise _Broken(line, str(exc)) from None
        except ValueError as exc:
            yield Problem(line, f"not valid JSON: {exc}; skipped")
            scan.skip_line()
            continue
        yield Item(line, value)


def array_items(lines: Iterable[str]) -> Iterator[Item | Problem]:
    """Elements of a top-level array, or objects one per line, or a single object."""
    scan = _Scanner(lines)
    try:
        if scan.take("["):
            yield from _elements(scan, "]")
            if scan.peek() is not None:
                raise _Broken(scan.line, "text after the closing ']'")
        else:
            yield from _elements(scan, None)
    except _Broken as exc:
        yield Problem(exc.line, str(exc), "fatal")


def object_items(lines: Iterable[str], key: str) -> Iterator[Item | Header | Problem]:
    """The elements of `object[key]` (an array), and every other key as a `Header`."""
    scan = _Scanner(lines)
    try:
        if not scan.take("{"):
            raise _Broken(scan.line, "expected a JSON object ('{')")
        closed = scan.take("}")
        while not closed:
            yield from _member(scan, key)
            closed = scan.take("}")
            if not closed and not scan.take(","):
                raise _Broken(scan.line, "expected ',' or '}' after a value")
        if scan.peek() is not None:
            raise _Broken(scan.line, "text after the closing '}'")
    except _Broken as exc:
        yield Problem(exc.line, str(exc), "fatal")


def _member(scan: _Scanner, key: str) -> Iterator[Item | Header | Problem]:
    try:
        line, name = scan.value()
    except ValueError as exc:
        raise _Broken(scan.line, f"expected a key: {exc}") from None
    if not isinstance(name, str) or not scan.take(":"):
        raise _Broken(line, 'expected a "key": value pair')
    if name == key:
        if not scan.take("["):
            raise _Broken(scan.line, f"{key!r} must be an array")
        yield from _elements(scan, "]")
        return
    try:
        yield Header(name, scan.value()[1])
    except ValueError as exc:
        raise _Broken(line, f"the value of {name!r} is not valid JSON: {exc}") from None
