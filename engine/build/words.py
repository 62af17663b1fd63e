"""Docker's word expansion: the small shell-like lexer behind ENV/ARG substitution in a Dockerfile.

It follows the rules Docker's builder applies, not a full POSIX shell:

- ``$name`` and ``${name}`` are replaced by the variable's value ("" when unset); ``$`` not followed by a
  name stays a literal ``$``.
- ``${v:-w}`` / ``${v-w}`` (default when unset-or-empty / unset), ``${v:+w}`` / ``${v+w}`` (alternative),
  ``${v:?m}`` / ``${v?m}`` (fail with the message m), ``${v#p}`` ``${v##p}`` (strip the shortest / longest
  prefix matching the glob p), ``${v%p}`` ``${v%%p}`` (same for suffixes), ``${v/p/r}`` ``${v//p/r}``
  (replace the first / every match of p by r). Patterns know ``*`` and ``?``; ``\\*``, ``\\?`` and ``\\\\``
  stand for themselves.
- The escape character (``\\`` or the one chosen with ``# escape=``) makes the next character literal;
  single quotes keep everything literal; double quotes keep spaces and single quotes but still expand
  variables, and there the escape character only escapes ``"``, ``$`` and itself.

:func:`expand` gives one string (quotes removed), :func:`expand_words` splits the result into words the way
EXPOSE and friends need it (:mod:`engine.build.expansion` applies them to the parts of a parsed instruction
that Docker expands).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from engine.errors import BuildError

__all__ = [
    "expand",
    "expand_heredoc",
    "expand_words",
    "go_quote",
    "is_go_space",
    "process",
]

# Characters Go's unicode.IsSpace accepts (the lexer and the parser split on these, not on Python's
# wider str.isspace()).
_GO_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B)))
)
GO_SPACE_CHARS = "".join(sorted(_GO_SPACE))

_SPECIAL_PARAMS = frozenset("@*#?-$!0")


def is_go_space(ch: str) -> bool:
    """Whether ``ch`` is white space by Go's unicode.IsSpace (the definition Docker's parser uses)."""
    return ch in _GO_SPACE


def _is_letter(ch: str) -> bool:
    return unicodedata.category(ch).startswith("L")


def _is_digit(ch: str) -> bool:
    return unicodedata.category(ch) == "Nd"


def go_quote(text: str) -> str:
    """Quote ``text`` exactly as Go's strconv.Quote does (used in AST dumps and error messages)."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch == " " or (code >= 0x20 and code != 0x7F and _go_printable(ch)):
            out.append(ch)
        elif ch in _C_ESCAPES:
            out.append(_C_ESCAPES[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\\ufffd")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


_C_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def _go_printable(ch: str) -> bool:
    # Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
    return unicodedata.category(ch)[0] in "LMNPS"


class _Words:
    """Collects the words of ProcessWords: split on white space, except inside quotes."""

    def __init__(self) -> None:
        self.buf: list[str] = []
        self.words: list[str] = []
        self.in_word = False

    def add_char(self, ch: str) -> None:
        if is_go_space(ch):
            word = "".join(self.buf)
            if self.in_word and word:
                self.words.append(word)
                self.buf = []
                self.in_word = False
        else:
            self.add_raw_char(ch)

    def add_raw_char(self, ch: str) -> None:
        self.buf.append(ch)
        self.in_word = True

    def add_string(self, text: str) -> None:
        for ch in text:
            self.add_char(ch)

    def add_raw_string(self, text: str) -> None:
        self.buf.append(text)
        self.in_word = True

    def result(self) -> list[str]:
        if self.buf:
            word = "".join(self.buf)
            if word:
                self.words.append(word)
            self.buf = []
            self.in_word = False
        return self.words


class _LexError(Exception):
    pass


# Pattern tokens for ${v#p} and friends: a literal character, "?" (any one) or "*" (any run).
_STAR = object()
_ANY = object()


class _Lexer:
    def __init__(
        self,
        text: str,
        env: Mapping[str, str],
        escape: str,
        *,
        raw_quotes: bool,
        raw_escapes: bool,
        skip_quotes: bool,
        skip_unset: bool,
        heredoc_words: bool,
    ) -> None:
        self.text = text
        self.pos = 0
        self.env = env
        self.escape = escape
        self.raw_quotes = raw_quotes
        self.raw_escapes = raw_escapes
        self.skip_quotes = skip_quotes
        self.skip_unset = skip_unset
        self.heredoc_words = heredoc_words

    # -- scanning ------------------------------------------------------------------------------------
    def peek(self) -> str | None:
        return self.text[self.pos] if self.pos < len(self.text) else None

    def next(self) -> str | None:
        if self.pos < len(self.text):
            ch = self.text[self.pos]
            self.pos += 1
            return ch
        return None

    # -- the grammar -------------------------------------------------------------------------------
    def process_stop_on(self, stop: str | None, raw_escapes: bool) -> tuple[str, list[str]]:
        saved = self.raw_escapes
        self.raw_escapes = raw_escapes
        try:
            return self._process_stop_on(stop)
        finally:
            self.raw_escapes = saved

    def _process_stop_on(self, stop: str | None) -> tuple[str, list[str]]:
        result: list[str] = []
        words = _Words()
        while (ch := self.peek()) is not None:
            if stop is not None and ch == stop:
                self.next()
                return "".join(result), words.result()
            if ch == "$":
                tmp = self.process_dollar()
                result.append(tmp)
                words.add_string(tmp)
            elif ch in "'\"" and not self.skip_quotes:
                tmp = self.process_single_quote() if ch == "'" else self.process_double_quote()
                result.append(tmp)
                words.add_raw_string(tmp)
            elif ch == "<" and self.heredoc_words:
                tmp = self.process_possible_heredoc()
                result.append(tmp)
                words.add_raw_string(tmp)
            else:
                self.next()
                if ch == self.escape:
                    if self.raw_escapes:
                        words.add_raw_char(ch)
                        result.append(ch)
                    escaped = self.next()
                    if escaped is None:
                        break
                    words.add_raw_char(escaped)
                    result.append(escaped)
                else:
                    words.add_char(ch)
                    result.append(ch)
        if stop is not None:
            raise _LexError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result), words.result()

    def process_possible_heredoc(self) -> str:
        # "<<" followed by blanks stays glued to the word after it, so "<< EOF" is seen as one word.
        self.next()
        if self.peek() != "<":
            return "<"
        self.next()
        start = self.pos
        while (ch := self.peek()) is not None and ch in " \t":
            self.next()
        return "<<" + self.text[start : self.pos]

    def process_single_quote(self) -> str:
        quote = self.next()
        result = [quote] if self.raw_quotes and quote else []
        while True:
            ch = self.next()
            if ch is None:
                raise _LexError("unexpected end of statement while looking for matching single-quote")
            if ch == "'":
                if self.raw_quotes:
                    result.append(ch)
                return "".join(result)
            result.append(ch)

    def process_double_quote(self) -> str:
        quote = self.next()
        result = [quote] if self.raw_quotes and quote else []
        while True:
            ch = self.peek()
            if ch is None:
                raise _LexError("unexpected end of statement while looking for matching double-quote")
            if ch == '"':
                self.next()
                if self.raw_quotes:
                    result.append(ch)
                return "".join(result)
            if ch == "$":
                result.append(self.process_dollar())
                continue
            self.next()
            if ch == self.escape:
                if self.raw_escapes:
                    result.append(ch)
                following = self.peek()
                if following is None:
                    continue
                if following in ('"', "$", self.escape):
                    ch = following
                    self.next()
            result.append(ch)

    def lookup(self, name: str) -> tuple[str, bool]:
        value = self.env.get(name)
        if value is None:
            return "", False
        return value, True

    def process_name(self) -> str:
        name: list[str] = []
        while (ch := self.peek()) is not None:
            if not name and _is_digit(ch):
                while (d := self.peek()) is not None and _is_digit(d):
                    name.append(d)
                    self.next()
                return "".join(name)
            if not name and ch in _SPECIAL_PARAMS:
                self.next()
                return ch
            if not (_is_letter(ch) or _is_digit(ch) or ch == "_"):
                break
            name.append(ch)
            self.next()
        return "".join(name)

    def process_dollar(self) -> str:
        self.next()  # the "$"
        if self.peek() != "{":
            name = self.process_name()
            if not name:
                return "$"
            value, found = self.lookup(name)
            if not found and self.skip_unset:
                return "$" + name
            return value

        self.next()  # the "{"
        first = self.peek()
        if first is None:
            raise _LexError("syntax error: missing '}'")
        if first in "{}:":
            raise _LexError("syntax error: bad substitution")
        name = self.process_name()
        ch = self.next()
        if ch is None:
            raise _LexError("syntax error: missing '}'")
        if ch == "}":
            value, found = self.lookup(name)
            if not found and self.skip_unset:
                return "${" + name + "}"
            return value
        modifier = ch
        null_is_unset = False
        if ch == ":":
            null_is_unset = True
            nxt = self.next()
            if nxt is None:
                raise _LexError("syntax error: missing '}'")
            ch = nxt
            modifier += ch
        if ch in "+-?#%" or null_is_unset:
            return self._process_modifier(name, ch, modifier, null_is_unset)
        if ch == "/":
            return self._process_replace(name)
        raise _LexError(f"unsupported modifier ({modifier}) in substitution")

    def _read_word(self, stop: str, raw_escapes: bool, missing: str) -> str:
        try:
            word, _ = self.process_stop_on(stop, raw_escapes)
        except _LexError:
            if self.peek() is None:
                raise _LexError(missing) from None
            raise
        return word

    def _process_modifier(self, name: str, ch: str, modifier: str, null_is_unset: bool) -> str:
        pattern_op = ch in "#%"
        if null_is_unset and pattern_op:
            raise _LexError(f"unsupported modifier ({modifier}) in substitution")
        word = self._read_word("}", pattern_op, "syntax error: missing '}'")
        value, is_set = self.lookup(name)
        if self.skip_unset and not is_set:
            return "${" + name + modifier + word + "}"
        empty = not is_set or (null_is_unset and value == "")
        if ch == "-":
            return word if empty else value
        if ch == "+":
            return "" if empty else word
        if ch == "?":
            if not is_set:
                raise _LexError(f"{name}: {word or 'is not allowed to be unset'}")
            if null_is_unset and value == "":
                raise _LexError(f"{name}: {word or 'is not allowed to be empty'}")
            return value
        if ch in "#%":
            longest = word.startswith(ch)
            if longest:
                word = word[1:]
            tokens = _pattern_tokens(word)
            if ch == "#":
                ends = _match_ends(tokens, value, 0)
                if not ends:
                    return value
                return value[(max(ends) if longest else min(ends)) :]
            reverse = value[::-1]
            ends = _match_ends(tokens[::-1], reverse, 0)
            if not ends:
                return value
            cut = max(ends) if longest else min(ends)
            return reverse[cut:][::-1]
        raise _LexError(f"unsupported modifier ({modifier}) in substitution")

    def _process_replace(self, name: str) -> str:
        replace_all = self.peek() == "/"
        if replace_all:
            self.next()
        pattern = self._read_word("/", True, "syntax error: missing '/' in ${}")
        replacement = self._read_word("}", True, "syntax error: missing '}'")
        value, is_set = self.lookup(name)
        if self.skip_unset and not is_set:
            return "${" + name + "/" + ("/" if replace_all else "") + pattern + "/" + replacement + "}"
        tokens = _pattern_tokens(pattern)
        return _replace(tokens, value, _unescape(replacement, self.escape), replace_all)


def _unescape(text: str, escape: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == escape and i + 1 < len(text):
            i += 1
        out.append(text[i])
        i += 1
    return "".join(out)


def _pattern_tokens(pattern: str) -> list[object]:
    """Turn a ${v#pattern} glob into tokens; ``\\`` escapes ``*``, ``?`` and itself, and is dropped before
    ``}`` and ``/`` (which had to be escaped to be part of the pattern)."""
    tokens: list[object] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        i += 1
        if ch == "*":
            tokens.append(_STAR)
        elif ch == "?":
            tokens.append(_ANY)
        elif ch == "\\":
            if i < len(pattern) and pattern[i] in "}/":
                continue
            if i >= len(pattern) or pattern[i] not in "*?\\":
                shown = pattern[i] if i < len(pattern) else ""
                raise _LexError(f"invalid pattern ({pattern}) in substitution: invalid escape '\\{shown}'")
            tokens.append(pattern[i])
            i += 1
        else:
            tokens.append(ch)
    return tokens


def _closure(tokens: list[object], states: set[int]) -> set[int]:
    todo = list(states)
    while todo:
        j = todo.pop()
        if j < len(tokens) and tokens[j] is _STAR and j + 1 not in states:
            states.add(j + 1)
            todo.append(j + 1)
    return states


def _match_ends(tokens: list[object], value: str, start: int) -> list[int]:
    """Every end position e such that value[start:e] matches the whole glob (linear-time NFA walk)."""
    final = len(tokens)
    states = _closure(tokens, {0})
    ends = [start] if final in states else []
    for pos in range(start, len(value)):
        ch = value[pos]
        nxt: set[int] = set()
        for j in states:
            if j == final:
                continue
            tok = tokens[j]
            if tok is _STAR:
                nxt.add(j)
            elif tok is _ANY or tok == ch:
                nxt.add(j + 1)
        if not nxt:
            break
        states = _closure(tokens, nxt)
        if final in states:
            ends.append(pos + 1)
    return ends


def _replace(tokens: list[object], value: str, replacement: str, replace_all: bool) -> str:
    if not tokens:
        return value
    out: list[str] = []
    i, n = 0, len(value)
    while i <= n:
        ends = _match_ends(tokens, value, i)
        if ends and (max(ends) > i or n == 0):
            out.append(replacement)
            i = max(ends)
            if not replace_all:
                out.append(value[i:])
                return "".join(out)
            if i >= n:
                break
            continue
        if i < n:
            out.append(value[i])
        i += 1
    return "".join(out)


def process(
    text: str,
    env: Mapping[str, str],
    escape: str = "\\",
    *,
    raw_quotes: bool = False,
    raw_escapes: bool = False,
    skip_quotes: bool = False,
    skip_unset: bool = False,
    heredoc_words: bool = False,
) -> tuple[str, list[str]]:
    """Run the lexer over ``text``: returns the expanded string and its words.

    The keyword options select the lexer's raw modes (used by the parser): keep quote characters, keep
    escape characters, treat quotes as plain characters, leave unset variables as written, and keep
    ``<< NAME`` together as one word. Raises BuildError with Docker's wording on a syntax error.
    """
    lexer = _Lexer(
        text,
        env,
        escape,
        raw_quotes=raw_quotes,
        raw_escapes=raw_escapes,
        skip_quotes=skip_quotes,
        skip_unset=skip_unset,
        heredoc_words=heredoc_words,
    )
    try:
        return lexer.process_stop_on(None, raw_escapes)
    except _LexError as exc:
        raise BuildError(f"failed to process {go_quote(text)}: {exc}") from None
    except RecursionError:
        raise BuildError(
            f"failed to process {go_quote(text[:80])}...: substitutions nested too deeply"
        ) from None


def expand(word: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """Expand variables in ``word`` and remove its quoting, as Docker does for one argument."""
    return process(word, env, escape)[0]


def expand_words(text: str, env: Mapping[str, str], escape: str = "\\") -> list[str]:
    """Expand ``text`` and split it into words on white space outside quotes (empty words are dropped)."""
    return process(text, env, escape)[1]


def expand_heredoc(content: str, env: Mapping[str, str]) -> str:
    """Expand variables in a here-document's body; quotes are ordinary characters there."""
    return process(content, env, "\\", skip_quotes=True)[0]


# -- instructions --------------------------------------------------------------------------------------
