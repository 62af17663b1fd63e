"""The scanner of Go's text/template: the text of a template into items (text, delimiters, words inside actions).

Positions are indexes into the Python string; lines count from 1. Trim markers (``{{- `` and `` -}}``) and
comments are handled here, as Go's lexer does, so the parser never sees them.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Item kinds (Go's itemType).
ERROR = "error"
BOOL = "bool"
CHAR = "char"  # a printable ASCII character that is none of the below (a comma, say)
CHAR_CONSTANT = "charconst"
COMPLEX = "complex"
ASSIGN = "="
DECLARE = ":="
EOF = "EOF"
FIELD = "field"
IDENTIFIER = "identifier"
LEFT_DELIM = "{{"
LEFT_PAREN = "("
NUMBER = "number"
PIPE = "|"
RAW_STRING = "rawstring"
RIGHT_DELIM = "}}"
RIGHT_PAREN = ")"
SPACE = "space"
STRING = "string"
TEXT = "text"
VARIABLE = "variable"
# Keywords.
BLOCK = "block"
BREAK = "break"
CONTINUE = "continue"
DOT = "."
DEFINE = "define"
ELSE = "else"
END = "end"
IF = "if"
NIL = "nil"
RANGE = "range"
TEMPLATE = "template"
WITH = "with"

KEYWORDS = {
    ".": DOT,
    "block": BLOCK,
    "break": BREAK,
    "continue": CONTINUE,
    "define": DEFINE,
    "else": ELSE,
    "end": END,
    "if": IF,
    "range": RANGE,
    "nil": NIL,
    "template": TEMPLATE,
    "with": WITH,
}
KEYWORD_KINDS = frozenset(KEYWORDS.values())

_SPACE_CHARS = " \t\r\n"
_LEFT, _RIGHT = "{{", "}}"
_LEFT_COMMENT, _RIGHT_COMMENT = "/*", "*/"


class Item:
    __slots__ = ("kind", "pos", "val", "line")

    def __init__(self, kind: str, pos: int, val: str, line: int) -> None:
        self.kind = kind
        self.pos = pos
        self.val = val
        self.line = line

    def __str__(self) -> str:
        """As Go's item.String(), which parse errors quote."""
        from .gofmt import quote

        if self.kind == EOF:
            return "EOF"
        if self.kind == ERROR:
            return self.val
        if self.kind in KEYWORD_KINDS:
            return f"<{self.val}>"
        if len(self.val) > 10:
            return quote(self.val)[:11] + "..."  # Go's %.10q: ten characters of the quoted text
        return quote(self.val)


def _is_space(c: str) -> bool:
    return c in _SPACE_CHARS and c != ""


def _is_alnum(c: str) -> bool:
    return c == "_" or c.isalpha() or c.isdecimal()


def _has_left_trim(s: str, i: int) -> bool:
    return len(s) >= i + 2 and s[i] == "-" and s[i + 1] in _SPACE_CHARS


def _has_right_trim(s: str, i: int) -> bool:
    return len(s) >= i + 2 and s[i] in _SPACE_CHARS and s[i + 1] == "-"


class Lexer:
    """Go's state machine, run to the end at once: ``lex(text)`` gives the list of items."""

    def __init__(self, text: str, break_ok: bool = True, continue_ok: bool = True) -> None:
        self.input = text
        self.pos = 0
        self.start = 0
        self.width = 0
        self.newlines = [i for i, c in enumerate(text) if c == "\n"]
        self.paren_depth = 0
        self.items: list[Item] = []
        self.break_ok = break_ok
        self.continue_ok = continue_ok

    # -- primitives
    def next(self) -> str:
        if self.pos >= len(self.input):
            self.width = 0
            return ""
        c = self.input[self.pos]
        self.width = 1
        self.pos += 1
        return c

    def peek(self) -> str:
        return self.input[self.pos] if self.pos < len(self.input) else ""

    def backup(self) -> None:
        self.pos -= self.width
        self.width = 0

    def line_at(self, pos: int) -> int:
        from bisect import bisect_left

        return 1 + bisect_left(self.newlines, pos)

    def emit(self, kind: str) -> None:
        val = self.input[self.start : self.pos]
        self.items.append(Item(kind, self.start, val, self.line_at(self.start)))
        self.start = self.pos

    def ignore(self) -> None:
        self.start = self.pos

    def errorf(self, msg: str) -> None:
        self.items.append(Item(ERROR, self.start, msg, self.line_at(self.start)))

    def accept(self, valid: str) -> bool:
        c = self.next()
        if c and c in valid:
            return True
        self.backup()
        return False

    def accept_run(self, valid: str) -> None:
        while True:
            c = self.next()
            if not c or c not in valid:
                break
        self.backup()

    # -- states: each returns the next state, or None at the end
    def run(self) -> list[Item]:
        """Each state is a method that returns the next one (None at the end or after an error)."""
        state = self.lex_text
        while state is not None:
            state = state()
        return self.items

    def lex_text(self) -> Any:
        self.width = 0
        x = self.input.find(_LEFT, self.pos)
        if x < 0:
            self.pos = len(self.input)
            if self.pos > self.start:
                self.emit(TEXT)
            self.emit(EOF)
            return None
        self.pos = x
        trim = 0
        if _has_left_trim(self.input, x + len(_LEFT)):
            text = self.input[self.start : self.pos]
            trim = len(text) - len(text.rstrip(_SPACE_CHARS))
        self.pos -= trim
        if self.pos > self.start:
            self.emit(TEXT)
        self.pos += trim
        self.ignore()
        return self.lex_left_delim

    def at_right_delim(self) -> tuple[bool, bool]:
        if self.input.startswith(_RIGHT, self.pos):
            return True, False
        if _has_right_trim(self.input, self.pos) and self.input.startswith(_RIGHT, self.pos + 2):
            return True, True
        return False, False

    def lex_left_delim(self) -> Any:
        self.pos += len(_LEFT)
        trim = _has_left_trim(self.input, self.pos)
        after = 2 if trim else 0
        if self.input.startswith(_LEFT_COMMENT, self.pos + after):
            self.pos += after
            self.ignore()
            return self.lex_comment
        self.emit(LEFT_DELIM)
        self.pos += after
        self.ignore()
        self.paren_depth = 0
        return self.lex_inside_action

    def lex_comment(self) -> Any:
        self.pos += len(_LEFT_COMMENT)
        x = self.input.find(_RIGHT_COMMENT, self.pos)
        if x < 0:
            self.errorf("unclosed comment")
            return None
        self.pos = x + len(_RIGHT_COMMENT)
        delim, trim = self.at_right_delim()
        if not delim:
            self.errorf("comment ends before closing delimiter")
            return None
        if trim:
            self.pos += 2
        self.pos += len(_RIGHT)
        if trim:
            rest = self.input[self.pos :]
            self.pos += len(rest) - len(rest.lstrip(_SPACE_CHARS))
        self.ignore()
        return self.lex_text

    def lex_right_delim(self) -> Any:
        _, trim = self.at_right_delim()
        if trim:
            self.pos += 2
            self.ignore()
        self.pos += len(_RIGHT)
        self.emit(RIGHT_DELIM)
        if trim:
            rest = self.input[self.pos :]
            self.pos += len(rest) - len(rest.lstrip(_SPACE_CHARS))
            self.ignore()
        return self.lex_text

    def lex_inside_action(self) -> Any:
        delim, _ = self.at_right_delim()
        if delim:
            if self.paren_depth == 0:
                return self.lex_right_delim
            self.errorf("unclosed left paren")
            return None
        c = self.next()
        if c == "":
            self.errorf("unclosed action")
            return None
        if _is_space(c):
            self.backup()
            return self.lex_space
        if c == "=":
            self.emit(ASSIGN)
        elif c == ":":
            if self.next() != "=":
                self.errorf("expected :=")
                return None
            self.emit(DECLARE)
        elif c == "|":
            self.emit(PIPE)
        elif c == '"':
            return self.lex_quote
        elif c == "`":
            return self.lex_raw_quote
        elif c == "$":
            return self.lex_variable
        elif c == "'":
            return self.lex_char
        elif c == "." and self.pos < len(self.input) and not ("0" <= self.input[self.pos] <= "9"):
            return self.lex_field
        elif c in "+-." or "0" <= c <= "9":
            self.backup()
            return self.lex_number
        elif _is_alnum(c):
            self.backup()
            return self.lex_identifier
        elif c == "(":
            self.emit(LEFT_PAREN)
            self.paren_depth += 1
        elif c == ")":
            if self.paren_depth == 0:
                self.errorf("unexpected right paren")
                return None
            self.paren_depth -= 1
            self.emit(RIGHT_PAREN)
        elif c <= "\x7f" and c.isprintable():
            self.emit(CHAR)
        else:
            self.errorf(f"unrecognized character in action: {_rune(c)}")
            return None
        return self.lex_inside_action

    def lex_space(self) -> Any:
        spaces = 0
        while _is_space(self.peek()):
            self.next()
            spaces += 1
        # A space before " -}}" belongs to the trim marker.
        if _has_right_trim(self.input, self.pos - 1) and self.input.startswith(_RIGHT, self.pos + 1):
            self.backup()
            if spaces == 1:
                return self.lex_right_delim
        self.emit(SPACE)
        return self.lex_inside_action

    def lex_identifier(self) -> Any:
        while True:
            c = self.next()
            if not _is_alnum(c):
                self.backup()
                word = self.input[self.start : self.pos]
                if not self.at_terminator():
                    self.errorf(f"bad character {_rune(c)}")
                    return None
                kind = KEYWORDS.get(word)
                if kind is not None and kind != DOT:
                    if (kind == BREAK and not self.break_ok) or (kind == CONTINUE and not self.continue_ok):
                        self.emit(IDENTIFIER)
                    else:
                        self.emit(kind)
                elif word[0] == ".":
                    self.emit(FIELD)
                elif word in ("true", "false"):
                    self.emit(BOOL)
                else:
                    self.emit(IDENTIFIER)
                return self.lex_inside_action

    def lex_field(self) -> Any:
        return self.lex_field_or_variable(FIELD)

    def lex_variable(self) -> Any:
        if self.at_terminator():
            self.emit(VARIABLE)
            return self.lex_inside_action
        return self.lex_field_or_variable(VARIABLE)

    def lex_field_or_variable(self, kind: str) -> Any:
        if self.at_terminator():
            self.emit(VARIABLE if kind == VARIABLE else DOT)
            return self.lex_inside_action
        c = ""
        while True:
            c = self.next()
            if not _is_alnum(c):
                self.backup()
                break
        if not self.at_terminator():
            self.errorf(f"bad character {_rune(c)}")
            return None
        self.emit(kind)
        return self.lex_inside_action

    def at_terminator(self) -> bool:
        c = self.peek()
        if c == "" or _is_space(c) or c in ".,|:)(":
            return True
        return self.input.startswith(_RIGHT, self.pos)

    def lex_char(self) -> Any:
        while True:
            c = self.next()
            if c == "\\":
                c = self.next()
                if c not in ("", "\n"):
                    continue
            if c in ("", "\n"):
                self.errorf("unterminated character constant")
                return None
            if c == "'":
                break
        self.emit(CHAR_CONSTANT)
        return self.lex_inside_action

    def lex_number(self) -> Any:
        if not self.scan_number():
            self.errorf(f"bad number syntax: {_q(self.input[self.start : self.pos])}")
            return None
        if self.peek() in ("+", "-") and self.peek() != "":
            if not self.scan_number() or self.input[self.pos - 1] != "i":
                self.errorf(f"bad number syntax: {_q(self.input[self.start : self.pos])}")
                return None
            self.emit(COMPLEX)
        else:
            self.emit(NUMBER)
        return self.lex_inside_action

    def scan_number(self) -> bool:
        self.accept("+-")
        digits = "0123456789_"
        if self.accept("0"):
            if self.accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif self.accept("oO"):
                digits = "01234567_"
            elif self.accept("bB"):
                digits = "01_"
        self.accept_run(digits)
        if self.accept("."):
            self.accept_run(digits)
        if len(digits) == 10 + 1 and self.accept("eE"):
            self.accept("+-")
            self.accept_run("0123456789_")
        if len(digits) == 16 + 6 + 1 and self.accept("pP"):
            self.accept("+-")
            self.accept_run("0123456789_")
        self.accept("i")
        if _is_alnum(self.peek()):
            self.next()
            return False
        return True

    def lex_quote(self) -> Any:
        while True:
            c = self.next()
            if c == "\\":
                c = self.next()
                if c not in ("", "\n"):
                    continue
            if c in ("", "\n"):
                self.errorf("unterminated quoted string")
                return None
            if c == '"':
                break
        self.emit(STRING)
        return self.lex_inside_action

    def lex_raw_quote(self) -> Any:
        while True:
            c = self.next()
            if c == "":
                self.errorf("unterminated raw quoted string")
                return None
            if c == "`":
                break
        self.emit(RAW_STRING)
        return self.lex_inside_action


def _rune(c: str) -> str:
    """Go's %#U: U+007D '}'."""
    if c == "":
        return "U+FFFFFFFFFFFFFFFF"
    code = f"U+{ord(c):04X}"
    return f"{code} '{c}'" if c.isprintable() else code


def _q(s: str) -> str:
    from .gofmt import quote

    return quote(s)
