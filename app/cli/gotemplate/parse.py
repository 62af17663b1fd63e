"""The parser of Go's text/template: items into trees of nodes, with Go's checks and error messages.

A template's text gives one tree per name: "" for the text itself, one for each ``{{define}}`` and
``{{block}}``. Errors read ``template: NAME:LINE: MESSAGE`` as Go's do.
"""

from __future__ import annotations

from . import lexer as L
from .errors import TemplateError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection


class Node:
    __slots__ = ("pos", "tree")

    def __init__(self, pos: int, tree: Tree) -> None:
        self.pos = pos
        self.tree = tree


class ListNode(Node):
    __slots__ = ("nodes",)

    def __init__(self, pos: int, tree: Tree) -> None:
        super().__init__(pos, tree)
        self.nodes: list[Node] = []

    def __str__(self) -> str:
        return "".join(str(n) for n in self.nodes)


class TextNode(Node):
    __slots__ = ("text",)

    def __init__(self, pos: int, tree: Tree, text: str) -> None:
        super().__init__(pos, tree)
        self.text = text

    def __str__(self) -> str:
        return self.text


class CommentNode(TextNode):
    __slots__ = ()


class PipeNode(Node):
    __slots__ = ("line", "is_assign", "decl", "cmds")

    def __init__(self, pos: int, tree: Tree, line: int) -> None:
        super().__init__(pos, tree)
        self.line = line
        self.is_assign = False
        self.decl: list[VariableNode] = []
        self.cmds: list[CommandNode] = []

    def __str__(self) -> str:
        s = ""
        if self.decl:
            s = ", ".join(str(v) for v in self.decl) + (" = " if self.is_assign else " := ")
        return s + " | ".join(str(c) for c in self.cmds)


class ActionNode(Node):
    __slots__ = ("line", "pipe")

    def __init__(self, pos: int, tree: Tree, line: int, pipe: PipeNode) -> None:
        super().__init__(pos, tree)
        self.line = line
        self.pipe = pipe

    def __str__(self) -> str:
        return "{{" + str(self.pipe) + "}}"


class CommandNode(Node):
    __slots__ = ("args",)

    def __init__(self, pos: int, tree: Tree) -> None:
        super().__init__(pos, tree)
        self.args: list[Node] = []

    def __str__(self) -> str:
        return " ".join(f"({a})" if isinstance(a, PipeNode) else str(a) for a in self.args)


class IdentifierNode(Node):
    __slots__ = ("ident",)

    def __init__(self, pos: int, tree: Tree, ident: str) -> None:
        super().__init__(pos, tree)
        self.ident = ident

    def __str__(self) -> str:
        return self.ident


class VariableNode(Node):
    __slots__ = ("ident",)

    def __init__(self, pos: int, tree: Tree, ident: str) -> None:
        super().__init__(pos, tree)
        self.ident = ident.split(".")

    def __str__(self) -> str:
        return ".".join(self.ident)


class DotNode(Node):
    __slots__ = ()

    def __str__(self) -> str:
        return "."


class NilNode(Node):
    __slots__ = ()

    def __str__(self) -> str:
        return "nil"


class FieldNode(Node):
    __slots__ = ("ident",)

    def __init__(self, pos: int, tree: Tree, ident: str) -> None:
        super().__init__(pos, tree)
        self.ident = ident[1:].split(".")  # ".A.B" -> ["A", "B"]

    def __str__(self) -> str:
        return "".join("." + i for i in self.ident)


class ChainNode(Node):
    __slots__ = ("node", "field")

    def __init__(self, pos: int, tree: Tree, node: Node) -> None:
        super().__init__(pos, tree)
        self.node = node
        self.field: list[str] = []

    def add(self, field: str) -> None:
        if not field or field[0] != ".":
            raise AssertionError("no dot in field")
        field = field[1:]
        if field == "":
            raise AssertionError("empty field")
        self.field.append(field)

    def __str__(self) -> str:
        s = f"({self.node})" if isinstance(self.node, PipeNode) else str(self.node)
        return s + "".join("." + f for f in self.field)


class BoolNode(Node):
    __slots__ = ("true",)

    def __init__(self, pos: int, tree: Tree, true: bool) -> None:
        super().__init__(pos, tree)
        self.true = true

    def __str__(self) -> str:
        return "true" if self.true else "false"


class NumberNode(Node):
    __slots__ = ("text", "is_int", "is_uint", "is_float", "is_complex", "int64", "float64", "complex128")

    def __init__(self, pos: int, tree: Tree, text: str) -> None:
        super().__init__(pos, tree)
        self.text = text
        self.is_int = self.is_uint = self.is_float = self.is_complex = False
        self.int64 = 0
        self.float64 = 0.0
        self.complex128 = 0j

    def __str__(self) -> str:
        return self.text


class StringNode(Node):
    __slots__ = ("quoted", "text")

    def __init__(self, pos: int, tree: Tree, quoted: str, text: str) -> None:
        super().__init__(pos, tree)
        self.quoted = quoted
        self.text = text

    def __str__(self) -> str:
        return self.quoted


class EndNode(Node):
    __slots__ = ()

    def __str__(self) -> str:
        return "{{end}}"


class ElseNode(Node):
    __slots__ = ("line",)

    def __init__(self, pos: int, tree: Tree, line: int) -> None:
        super().__init__(pos, tree)
        self.line = line

    def __str__(self) -> str:
        return "{{else}}"


class BranchNode(Node):
    __slots__ = ("line", "pipe", "list", "else_list")
    keyword = ""

    def __init__(
        self, pos: int, tree: Tree, line: int, pipe: PipeNode, lst: ListNode, else_list: ListNode | None
    ) -> None:
        super().__init__(pos, tree)
        self.line = line
        self.pipe = pipe
        self.list = lst
        self.else_list = else_list

    def __str__(self) -> str:
        s = "{{" + self.keyword + " " + str(self.pipe) + "}}" + str(self.list)
        if self.else_list is not None:
            s += "{{else}}" + str(self.else_list)
        return s + "{{end}}"


class IfNode(BranchNode):
    __slots__ = ()
    keyword = "if"


class RangeNode(BranchNode):
    __slots__ = ()
    keyword = "range"


class WithNode(BranchNode):
    __slots__ = ()
    keyword = "with"


class BreakNode(Node):
    __slots__ = ("line",)

    def __init__(self, pos: int, tree: Tree, line: int) -> None:
        super().__init__(pos, tree)
        self.line = line

    def __str__(self) -> str:
        return "{{break}}"


class ContinueNode(BreakNode):
    __slots__ = ()

    def __str__(self) -> str:
        return "{{continue}}"


class TemplateNode(Node):
    __slots__ = ("line", "name", "pipe")

    def __init__(self, pos: int, tree: Tree, line: int, name: str, pipe: PipeNode | None) -> None:
        super().__init__(pos, tree)
        self.line = line
        self.name = name
        self.pipe = pipe

    def __str__(self) -> str:
        from .gofmt import quote

        if self.pipe is None:
            return "{{template " + quote(self.name) + "}}"
        return "{{template " + quote(self.name) + " " + str(self.pipe) + "}}"


# -- the parser


class _Stream:
    """The items of one template's text, with Go's look-ahead (next, backup, peek)."""

    def __init__(self, items: list[L.Item]) -> None:
        self.items = items
        self.i = 0
        self.seen = 0  # how far the parser has looked: Go's errors give that item's line

    def next(self) -> L.Item:
        if self.i < len(self.items):
            it = self.items[self.i]
        else:
            last = self.items[-1] if self.items else None
            it = L.Item(L.EOF, last.pos if last else 0, "", last.line if last else 1)
        self.i += 1
        self.seen = max(self.seen, min(self.i, len(self.items)))
        return it

    def backup(self, n: int = 1) -> None:
        self.i -= n

    def line(self) -> int:
        if not self.items:
            return 1
        return self.items[max(self.seen - 1, 0)].line


class Tree:
    def __init__(self, name: str, parse_name: str, text: str, funcs: Collection[str]) -> None:
        self.name = name
        self.parse_name = parse_name
        self.text = text
        self.funcs = funcs
        self.root: ListNode = ListNode(0, self)
        self.vars: list[str] = ["$"]
        self.range_depth = 0
        self.action_line = 0
        self.stream: _Stream = _Stream([])
        self.tree_set: dict[str, Tree] = {}

    # -- errors
    def errorf(self, msg: str) -> TemplateError:
        raise TemplateError(f"template: {self.parse_name}:{self.stream.line()}: {msg}")

    def unexpected(self, token: L.Item, context: str) -> TemplateError:
        if token.kind == L.ERROR:
            extra = ""
            if self.action_line and self.action_line != token.line:
                extra = f" in action started at {self.parse_name}:{self.action_line}"
                if token.val.endswith(" action"):
                    extra = extra[len(" in action") :]
            raise self.errorf(f"{token}{extra}")
        raise self.errorf(f"unexpected {token} in {context}")

    # -- tokens
    def next(self) -> L.Item:
        return self.stream.next()

    def backup(self, n: int = 1) -> None:
        self.stream.backup(n)

    def peek(self) -> L.Item:
        it = self.next()
        self.backup()
        return it

    def next_non_space(self) -> L.Item:
        while True:
            it = self.next()
            if it.kind != L.SPACE:
                return it

    def peek_non_space(self) -> L.Item:
        it = self.next_non_space()
        self.backup()
        return it

    def expect(self, kind: str, context: str) -> L.Item:
        token = self.next_non_space()
        if token.kind != kind:
            self.unexpected(token, context)
        return token

    # -- structure
    def parse(self, stream: _Stream, tree_set: dict[str, Tree]) -> None:
        self.stream = stream
        self.tree_set = tree_set
        self.root = ListNode(self.peek().pos, self)
        while self.peek().kind != L.EOF:
            if self.peek().kind == L.LEFT_DELIM:
                delim_at = self.stream.i
                self.next()
                if self.next_non_space().kind == L.DEFINE:
                    new = Tree("definition", self.parse_name, self.text, self.funcs)
                    new.stream = stream
                    new.tree_set = tree_set
                    new.parse_definition()
                    continue
                self.stream.i = delim_at
            n = self.text_or_action()
            if isinstance(n, (EndNode, ElseNode)):
                self.errorf(f"unexpected {n}")
            self.root.nodes.append(n)
        self.add()

    def add(self) -> None:
        tree = self.tree_set.get(self.name)
        if tree is None or _is_empty(tree.root):
            self.tree_set[self.name] = self
            return
        if not _is_empty(self.root):
            self.errorf(f"template: multiple definition of template {_quote(self.name)}")

    def parse_definition(self) -> None:
        context = "define clause"
        token = self.next_non_space()
        if token.kind not in (L.STRING, L.RAW_STRING):
            self.unexpected(token, context)
        self.name = self.unquote(token.val)
        self.expect(L.RIGHT_DELIM, context)
        self.root, end = self.item_list()
        if not isinstance(end, EndNode):
            self.errorf(f"unexpected {end} in {context}")
        self.add()

    def item_list(self) -> tuple[ListNode, Node]:
        lst = ListNode(self.peek_non_space().pos, self)
        while self.peek_non_space().kind != L.EOF:
            n = self.text_or_action()
            if isinstance(n, (EndNode, ElseNode)):
                return lst, n
            lst.nodes.append(n)
        raise self.errorf("unexpected EOF")

    def text_or_action(self) -> Node:
        token = self.next_non_space()
        if token.kind == L.TEXT:
            return TextNode(token.pos, self, token.val)
        if token.kind == L.LEFT_DELIM:
            self.action_line = token.line
            try:
                return self.action()
            finally:
                self.action_line = 0
        raise self.unexpected(token, "input")

    def action(self) -> Node:
        token = self.next_non_space()
        k = token.kind
        if k == L.BLOCK:
            return self.block_control()
        if k == L.BREAK:
            return self.break_control(token, "{{break}}")
        if k == L.CONTINUE:
            return self.break_control(token, "{{continue}}")
        if k == L.ELSE:
            return self.else_control()
        if k == L.END:
            return EndNode(self.expect(L.RIGHT_DELIM, "end").pos, self)
        if k == L.IF:
            return self.branch(IfNode, "if")
        if k == L.RANGE:
            return self.branch(RangeNode, "range")
        if k == L.TEMPLATE:
            return self.template_control()
        if k == L.WITH:
            return self.branch(WithNode, "with")
        self.backup()
        token = self.peek()
        return ActionNode(token.pos, self, token.line, self.pipeline("command", L.RIGHT_DELIM))

    def break_control(self, at: L.Item, word: str) -> Node:
        token = self.next_non_space()
        if token.kind != L.RIGHT_DELIM:
            self.unexpected(token, word)
        if self.range_depth == 0:
            self.errorf(f"{word} outside {{{{range}}}}")
        if word == "{{break}}":
            return BreakNode(at.pos, self, at.line)
        return ContinueNode(at.pos, self, at.line)

    def pipeline(self, context: str, end: str) -> PipeNode:
        token = self.peek_non_space()
        pipe = PipeNode(token.pos, self, token.line)
        while True:  # declarations: "$x :=", "$x =", "$i, $e :=" (range)
            v = self.peek_non_space()
            if v.kind != L.VARIABLE:
                break
            self.next_non_space()
            after_at = self.stream.i
            token_after = self.peek()
            nxt = self.peek_non_space()
            if nxt.kind in (L.ASSIGN, L.DECLARE):
                pipe.is_assign = nxt.kind == L.ASSIGN
                self.next_non_space()
                pipe.decl.append(VariableNode(v.pos, self, v.val))
                self.vars.append(v.val)
            elif nxt.kind == L.CHAR and nxt.val == ",":
                self.next_non_space()
                pipe.decl.append(VariableNode(v.pos, self, v.val))
                self.vars.append(v.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().kind in (L.VARIABLE, L.RIGHT_DELIM, L.RIGHT_PAREN):
                        continue  # the second variable of a range
                    self.errorf("range can only initialize variables")
                self.errorf(f"too many declarations in {context}")
            elif token_after.kind == L.SPACE:
                self.stream.i = after_at - 1
            else:
                self.stream.i = after_at - 1
            break
        while True:
            token = self.next_non_space()
            if token.kind == end:
                self.check_pipeline(pipe, context)
                return pipe
            if token.kind in _OPERAND_START:
                self.backup()
                pipe.cmds.append(self.command())
            else:
                self.unexpected(token, context)

    def check_pipeline(self, pipe: PipeNode, context: str) -> None:
        if not pipe.cmds:
            self.errorf(f"missing value for {context}")
        for i, c in enumerate(pipe.cmds[1:]):
            if isinstance(c.args[0], (BoolNode, DotNode, NilNode, NumberNode, StringNode)):
                self.errorf(f"non executable command in pipeline stage {i + 2}")

    def branch(self, cls: type[BranchNode], context: str) -> Node:
        mark = len(self.vars)
        try:
            pipe = self.pipeline(context, L.RIGHT_DELIM)
            if context == "range":
                self.range_depth += 1
            lst, nxt = self.item_list()
            if context == "range":
                self.range_depth -= 1
            else_list = None
            if isinstance(nxt, ElseNode):
                # "else if" and "else with" read as {{else}}{{if ...}}...{{end}}{{end}}
                if context == "if" and self.peek().kind == L.IF:
                    self.next()
                    else_list = ListNode(nxt.pos, self)
                    else_list.nodes.append(self.branch(IfNode, "if"))
                elif context == "with" and self.peek().kind == L.WITH:
                    self.next()
                    else_list = ListNode(nxt.pos, self)
                    else_list.nodes.append(self.branch(WithNode, "with"))
                else:
                    else_list, nxt = self.item_list()
                    if not isinstance(nxt, EndNode):
                        self.errorf(f"expected end; found {nxt}")
            return cls(pipe.pos, self, pipe.line, pipe, lst, else_list)
        finally:
            del self.vars[mark:]

    def else_control(self) -> Node:
        peek = self.peek_non_space()
        if peek.kind in (L.IF, L.WITH):
            return ElseNode(peek.pos, self, peek.line)
        token = self.expect(L.RIGHT_DELIM, "else")
        return ElseNode(token.pos, self, token.line)

    def block_control(self) -> Node:
        context = "block clause"
        token = self.next_non_space()
        name = self.template_name(token, context)
        pipe = self.pipeline(context, L.RIGHT_DELIM)
        block = Tree(name, self.parse_name, self.text, self.funcs)
        block.stream = self.stream
        block.tree_set = self.tree_set
        block.root, end = block.item_list()
        if not isinstance(end, EndNode):
            self.errorf(f"unexpected {end} in {context}")
        block.add()
        return TemplateNode(token.pos, self, token.line, name, pipe)

    def template_control(self) -> Node:
        context = "template clause"
        token = self.next_non_space()
        name = self.template_name(token, context)
        pipe = None
        if self.next_non_space().kind != L.RIGHT_DELIM:
            self.backup()
            pipe = self.pipeline(context, L.RIGHT_DELIM)
        return TemplateNode(token.pos, self, token.line, name, pipe)

    def template_name(self, token: L.Item, context: str) -> str:
        if token.kind in (L.STRING, L.RAW_STRING):
            return self.unquote(token.val)
        raise self.unexpected(token, context)

    def command(self) -> CommandNode:
        cmd = CommandNode(self.peek_non_space().pos, self)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            token = self.next()
            if token.kind == L.SPACE:
                continue
            if token.kind in (L.RIGHT_DELIM, L.RIGHT_PAREN):
                self.backup()
            elif token.kind != L.PIPE:
                self.unexpected(token, "operand")
            break
        if not cmd.args:
            self.errorf("empty command")
        return cmd

    def operand(self) -> Node | None:
        node = self.term()
        if node is None:
            return None
        if self.peek().kind == L.FIELD:
            chain = ChainNode(self.peek().pos, self, node)
            while self.peek().kind == L.FIELD:
                chain.add(self.next().val)
            if isinstance(node, FieldNode):
                return FieldNode(chain.pos, self, str(chain))
            if isinstance(node, VariableNode):
                return VariableNode(chain.pos, self, str(chain))
            if isinstance(node, (BoolNode, StringNode, NumberNode, NilNode, DotNode)):
                self.errorf(f"unexpected . after term {_quote(str(node))}")
            return chain
        return node

    def term(self) -> Node | None:
        token = self.next_non_space()
        k = token.kind
        if k == L.IDENTIFIER:
            if token.val not in self.funcs:
                self.errorf(f"function {_quote(token.val)} not defined")
            return IdentifierNode(token.pos, self, token.val)
        if k == L.DOT:
            return DotNode(token.pos, self)
        if k == L.NIL:
            return NilNode(token.pos, self)
        if k == L.VARIABLE:
            name = token.val.split(".")[0]
            if name not in self.vars:
                self.errorf(f"undefined variable {_quote(name)}")
            return VariableNode(token.pos, self, token.val)
        if k == L.FIELD:
            return FieldNode(token.pos, self, token.val)
        if k == L.BOOL:
            return BoolNode(token.pos, self, token.val == "true")
        if k in (L.CHAR_CONSTANT, L.COMPLEX, L.NUMBER):
            return self.number(token)
        if k == L.LEFT_PAREN:
            return self.pipeline("parenthesized pipeline", L.RIGHT_PAREN)
        if k in (L.STRING, L.RAW_STRING):
            return StringNode(token.pos, self, token.val, self.unquote(token.val))
        self.backup()
        return None

    def unquote(self, text: str) -> str:
        try:
            return unquote(text)
        except ValueError as e:
            raise self.errorf(str(e)) from None

    def number(self, token: L.Item) -> NumberNode:
        try:
            return new_number(token.pos, self, token.val, token.kind)
        except ValueError as e:
            raise self.errorf(str(e)) from None


_OPERAND_START = frozenset(
    {
        L.BOOL,
        L.CHAR_CONSTANT,
        L.COMPLEX,
        L.DOT,
        L.FIELD,
        L.IDENTIFIER,
        L.NUMBER,
        L.NIL,
        L.RAW_STRING,
        L.STRING,
        L.VARIABLE,
        L.LEFT_PAREN,
    }
)


def _is_empty(n: Node | None) -> bool:
    if n is None:
        return True
    if isinstance(n, ListNode):
        return all(_is_empty(x) for x in n.nodes)
    if isinstance(n, TextNode):
        return n.text.strip() == ""
    return False


def _quote(s: str) -> str:
    from .gofmt import quote

    return quote(s)


# -- literals


def unquote(text: str) -> str:
    """strconv.Unquote for "..." and `...` strings (ValueError "invalid syntax" otherwise)."""
    if len(text) < 2 or text[0] != text[-1]:
        raise ValueError("invalid syntax")
    q, body = text[0], text[1:-1]
    if q == "`":
        if "`" in body:
            raise ValueError("invalid syntax")
        return body.replace("\r", "")
    if q != '"' or "\n" in body:
        raise ValueError("invalid syntax")
    out: list[str] = []
    i = 0
    raw = bytearray()  # \x and octal escapes are bytes: they join into UTF-8
    while i < len(body):
        c, i, is_byte = unquote_char(body, i, '"')
        if is_byte:
            raw.append(c)
            continue
        if raw:
            out.append(raw.decode("utf-8", "replace"))
            raw.clear()
        out.append(chr(c))
    if raw:
        out.append(raw.decode("utf-8", "replace"))
    return "".join(out)


_SIMPLE = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92}


def unquote_char(s: str, i: int, quote: str) -> tuple[int, int, bool]:
    """strconv.UnquoteChar: one character or escape of s at i; (code, next index, is a single byte)."""
    c = s[i]
    if c == quote and quote in "'\"":
        raise ValueError("invalid syntax")
    if c != "\\":
        return ord(c), i + 1, False
    if i + 1 >= len(s):
        raise ValueError("invalid syntax")
    e = s[i + 1]
    i += 2
    if e in _SIMPLE:
        return _SIMPLE[e], i, False
    if e in "xuU":
        n = {"x": 2, "u": 4, "U": 8}[e]
        digits = s[i : i + n]
        if len(digits) < n or any(d not in "0123456789abcdefABCDEF" for d in digits):
            raise ValueError("invalid syntax")
        v = int(digits, 16)
        if e == "x":
            return v, i + n, True
        if v > 0x10FFFF or 0xD800 <= v <= 0xDFFF:
            raise ValueError("invalid syntax")
        return v, i + n, False
    if e in "01234567":
        digits = s[i - 1 : i + 2]
        if len(digits) < 3 or any(d not in "01234567" for d in digits):
            raise ValueError("invalid syntax")
        v = int(digits, 8)
        if v > 255:
            raise ValueError("invalid syntax")
        return v, i + 2, True
    if e == quote and quote in "'\"":
        return ord(e), i, False
    raise ValueError("invalid syntax")


def _parse_int(text: str) -> int | None:
    """strconv.ParseInt(text, 0, 64)'s syntax (the range is checked by the caller)."""
    s = text
    sign = 1
    if s[:1] in "+-":
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if not s:
        return None
    base = 10
    body = s
    low = s[:2].lower()
    if low == "0x":
        base, body = 16, s[2:]
    elif low == "0o":
        base, body = 8, s[2:]
    elif low == "0b":
        base, body = 2, s[2:]
    elif s[0] == "0" and len(s) > 1:
        base, body = 8, s[1:]
    if "_" in body:  # Go's digit separators: between digits, or after a base prefix
        parts = body.split("_")
        if any(p == "" for p in parts[1:]) or (parts[0] == "" and base == 10):
            return None
        if body.endswith("_"):
            return None
        body = "".join(parts)
    if not body:
        return None
    try:
        return sign * int(body, base)
    except ValueError:
        return None


def _parse_float(text: str) -> float | None:
    s = text.replace("_", "") if "_" in text else text
    try:
        if s.lstrip("+-")[:2].lower() == "0x":
            sign = -1.0 if s.startswith("-") else 1.0
            f = sign * float.fromhex(s.lstrip("+-"))
        else:
            if not all(c in "0123456789.eE+-" for c in s):
                return None
            f = float(s)
    except (ValueError, OverflowError):
        return None
    if f in (float("inf"), float("-inf")):
        return None
    return f


def new_number(pos: int, tree: Tree, text: str, kind: str) -> NumberNode:
    """Go's newNumber: the kinds (int, uint, float, complex) a number literal can be."""
    n = NumberNode(pos, tree, text)
    if kind == L.CHAR_CONSTANT:
        if len(text) < 3:
            raise ValueError(f"malformed character constant: {text}")
        try:
            code, end, _ = unquote_char(text, 1, "'")
        except ValueError:
            raise ValueError("invalid syntax") from None
        if text[end:] != "'":
            raise ValueError(f"malformed character constant: {text}")
        n.int64 = code
        n.is_int = n.is_uint = n.is_float = True
        n.float64 = float(code)
        return n
    if kind == L.COMPLEX:
        try:
            c = complex(text.replace("i", "j"))
        except ValueError:
            raise ValueError(f"expected integer; found {text}") from None
        n.is_complex = True
        n.complex128 = c
        _simplify_complex(n)
        return n
    if text.endswith("i"):
        f = _parse_float(text[:-1])
        if f is not None:
            n.is_complex = True
            n.complex128 = complex(0, f)
            _simplify_complex(n)
            return n
    i = _parse_int(text)
    if i is not None:
        if 0 <= i < 1 << 64:
            n.is_uint = True
        if -(1 << 63) <= i < 1 << 63:
            n.is_int = True
            n.int64 = i
    if n.is_int or n.is_uint:
        n.is_float = True
        n.float64 = float(i) if i is not None else 0.0
        if n.is_uint and not n.is_int:
            n.int64 = i or 0
    else:
        f = _parse_float(text)
        if f is not None:
            if not any(c in text for c in ".eEpP"):
                raise ValueError(f"integer overflow: {_quote(text)}")
            n.is_float = True
            n.float64 = f
            if f == int(f) and -(1 << 63) <= int(f) < 1 << 63:
                n.is_int = True
                n.int64 = int(f)
            if f == int(f) and 0 <= int(f) < 1 << 64:
                n.is_uint = True
    if not (n.is_int or n.is_uint or n.is_float):
        raise ValueError(f"illegal number syntax: {_quote(text)}")
    return n


def _simplify_complex(n: NumberNode) -> None:
    if n.complex128.imag == 0:
        n.is_float = True
        n.float64 = n.complex128.real
        if n.float64 == int(n.float64):
            n.is_int = True
            n.int64 = int(n.float64)


def parse(text: str, funcs: Collection[str], name: str = "") -> dict[str, Tree]:
    """All the trees of a template's text, by name; ``name`` is the text's own."""
    items = L.Lexer(text, "break" not in funcs, "continue" not in funcs).run()
    trees: dict[str, Tree] = {}
    t = Tree(name, name, text, funcs)
    t.parse(_Stream(items), trees)
    trees.setdefault(name, t)
    return trees


def node_context(node: Node) -> tuple[str, str]:
    """Go's ErrorContext: ("NAME:LINE:COLUMN", the node's text) for an execution error."""
    tree = node.tree
    before = tree.text[: node.pos]
    nl = before.rfind("\n")
    col = len(before[nl + 1 :].encode("utf-8", "surrogatepass"))
    line = 1 + before.count("\n")
    return f"{tree.parse_name}:{line}:{col}", str(node)
