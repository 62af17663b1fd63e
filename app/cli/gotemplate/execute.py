"""The executor of Go's text/template: a tree and data into text, with Go's rules and error messages.

Data is Python's: dicts are Go maps (a field is a key; a missing key is ``<no value>``), lists are slices,
and a callable found as a field is a method, called with the action's arguments (``{{.Label "k"}}``).
"""

from __future__ import annotations

from . import parse as P
from .errors import TemplateError
from .funcs import Func, FuncError, is_true, truth
from .gofmt import MISSING, go_type, sort_keys, to_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_NO_FINAL: Any = object()  # Go's missingVal: no value piped into a command
MAX_DEPTH = 1000


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class State:
    def __init__(self, trees: dict[str, P.Tree], funcs: dict[str, Func], name: str, out: list[str]) -> None:
        self.trees = trees
        self.funcs = funcs
        self.name = name
        self.out = out
        self.node: P.Node | None = None
        self.vars: list[list[Any]] = []
        self.depth = 0

    # -- errors
    def errorf(self, msg: str) -> TemplateError:
        if self.node is None:
            raise TemplateError(f"template: {self.name}: {msg}")
        location, context = P.node_context(self.node)
        name = _go_quote(self.name)
        raise TemplateError(f"template: {location}: executing {name} at <{context}>: {msg}")

    def at(self, node: P.Node) -> None:
        self.node = node

    # -- variables
    def push(self, name: str, value: Any) -> None:
        self.vars.append([name, value])

    def mark(self) -> int:
        return len(self.vars)

    def pop(self, mark: int) -> None:
        del self.vars[mark:]

    def set_var(self, name: str, value: Any) -> None:
        for v in reversed(self.vars):
            if v[0] == name:
                v[1] = value
                return
        raise self.errorf(f"undefined variable: {name}")

    def set_top_var(self, n: int, value: Any) -> None:
        self.vars[len(self.vars) - n][1] = value

    def var_value(self, name: str) -> Any:
        for v in reversed(self.vars):
            if v[0] == name:
                return v[1]
        raise self.errorf(f"undefined variable: {name}")

    # -- statements
    def walk(self, dot: Any, node: P.Node) -> None:
        self.at(node)
        if isinstance(node, P.ListNode):
            for n in node.nodes:
                self.walk(dot, n)
        elif isinstance(node, P.TextNode):
            if not isinstance(node, P.CommentNode):
                self.out.append(node.text)
        elif isinstance(node, P.ActionNode):
            val = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.print_value(node, val)
        elif isinstance(node, P.IfNode):
            self.walk_if_or_with(False, dot, node)
        elif isinstance(node, P.WithNode):
            self.walk_if_or_with(True, dot, node)
        elif isinstance(node, P.RangeNode):
            self.walk_range(dot, node)
        elif isinstance(node, P.TemplateNode):
            self.walk_template(dot, node)
        elif isinstance(node, P.ContinueNode):
            raise _Continue()
        elif isinstance(node, P.BreakNode):
            raise _Break()
        else:
            raise self.errorf(f"unknown node: {node}")

    def print_value(self, node: P.Node, v: Any) -> None:
        self.at(node)
        if v is not MISSING and v is not None and _is_func(v):
            raise self.errorf(f"can't print {node} of type {go_type(v)}")
        self.out.append(to_text(v))

    def walk_if_or_with(self, is_with: bool, dot: Any, node: P.BranchNode) -> None:
        mark = self.mark()
        try:
            val = self.eval_pipeline(dot, node.pipe)
            t, ok = is_true(val)
            if not ok:
                raise self.errorf(f"if/with can't use {to_text(val)}")
            if t:
                self.walk(val if is_with else dot, node.list)
            elif node.else_list is not None:
                self.walk(dot, node.else_list)
        finally:
            self.pop(mark)

    def walk_range(self, dot: Any, r: P.RangeNode) -> None:
        self.at(r)
        outer = self.mark()
        try:
            val = self.eval_pipeline(dot, r.pipe)
            mark = self.mark()
            decl = r.pipe.decl

            def one(index: Any, elem: Any) -> bool:
                if decl:
                    if r.pipe.is_assign:
                        self.set_var(decl[0].ident[0], index if len(decl) > 1 else elem)
                    else:
                        self.set_top_var(1, elem)
                if len(decl) > 1:
                    if r.pipe.is_assign:
                        self.set_var(decl[1].ident[0], elem)
                    else:
                        self.set_top_var(2, index)
                try:
                    self.walk(elem, r.list)
                except _Continue:
                    pass
                except _Break:
                    return False
                finally:
                    self.pop(mark)
                return True

            ran = False
            if isinstance(val, (list, tuple)):
                for i, e in enumerate(val):
                    ran = True
                    if not one(i, e):
                        break
            elif isinstance(val, dict):
                for k in sort_keys(val):
                    ran = True
                    if not one(k, val[k]):
                        break
            elif isinstance(val, int) and not isinstance(val, bool):
                if len(decl) > 1:
                    raise self.errorf(f"can't use {val} to iterate over more than one variable")
                for i in range(max(val, 0)):
                    ran = True
                    if not one(i, i):
                        break
            elif val is MISSING or val is None:
                pass
            else:
                raise self.errorf(f"range can't iterate over {to_text(val)}")
            if not ran and r.else_list is not None:
                self.walk(dot, r.else_list)
        finally:
            self.pop(outer)

    def walk_template(self, dot: Any, t: P.TemplateNode) -> None:
        self.at(t)
        tree = self.trees.get(t.name)
        if tree is None:
            raise self.errorf(f"template {_go_quote(t.name)} not defined")
        if self.depth >= MAX_DEPTH:
            raise self.errorf(f"exceeded maximum template depth ({MAX_DEPTH})")
        dot = self.eval_pipeline(dot, t.pipe)
        new = State(self.trees, self.funcs, t.name, self.out)
        new.depth = self.depth + 1
        new.vars = [["$", dot]]
        new.walk(dot, tree.root)

    # -- expressions
    def eval_pipeline(self, dot: Any, pipe: P.PipeNode | None) -> Any:
        if pipe is None:
            return MISSING
        self.at(pipe)
        value = _NO_FINAL
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
            if value is None:  # a nil interface{} is dug into: nothing, printed <no value>
                value = MISSING
        for v in pipe.decl:
            if pipe.is_assign:
                self.set_var(v.ident[0], value)
            else:
                self.push(v.ident[0], value)
        return value

    def not_a_function(self, args: list[P.Node], final: Any) -> None:
        if len(args) > 1 or final is not _NO_FINAL:
            raise self.errorf(f"can't give argument to non-function {args[0]}")

    def eval_command(self, dot: Any, cmd: P.CommandNode, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, P.FieldNode):
            return self.eval_field_node(dot, first, cmd.args, final)
        if isinstance(first, P.ChainNode):
            return self.eval_chain_node(dot, first, cmd.args, final)
        if isinstance(first, P.IdentifierNode):
            return self.eval_function(dot, first, cmd, cmd.args, final)
        if isinstance(first, P.PipeNode):
            self.not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, first)
        if isinstance(first, P.VariableNode):
            return self.eval_variable_node(dot, first, cmd.args, final)
        self.at(first)
        self.not_a_function(cmd.args, final)
        if isinstance(first, P.BoolNode):
            return first.true
        if isinstance(first, P.DotNode):
            return dot
        if isinstance(first, P.NilNode):
            raise self.errorf("nil is not a command")
        if isinstance(first, P.NumberNode):
            return self.ideal_constant(first)
        if isinstance(first, P.StringNode):
            return first.text
        raise self.errorf(f"can't evaluate command {_go_quote(str(first))}")

    def ideal_constant(self, n: P.NumberNode) -> Any:
        self.at(n)
        if n.is_complex:
            return n.complex128
        text = n.text
        hex_int = len(text) > 2 and text[0] == "0" and text[1] in "xX" and not any(c in text for c in ".pP")
        rune = text.startswith("'")
        if n.is_float and not hex_int and not rune and any(c in text for c in ".eEpP"):
            return n.float64
        if n.is_int:
            return n.int64
        if n.is_uint:
            raise self.errorf(f"{text} overflows int")
        return MISSING

    def eval_field_node(self, dot: Any, field: P.FieldNode, args: list[P.Node], final: Any) -> Any:
        self.at(field)
        return self.eval_field_chain(dot, dot, field, field.ident, args, final)

    def eval_chain_node(self, dot: Any, chain: P.ChainNode, args: list[P.Node], final: Any) -> Any:
        self.at(chain)
        if isinstance(chain.node, P.NilNode):
            raise self.errorf(f"indirection through explicit nil in {chain}")
        pipe = self.eval_arg(dot, None, chain.node)
        return self.eval_field_chain(dot, pipe, chain, chain.field, args, final)

    def eval_variable_node(self, dot: Any, var: P.VariableNode, args: list[P.Node], final: Any) -> Any:
        self.at(var)
        value = self.var_value(var.ident[0])
        if len(var.ident) == 1:
            self.not_a_function(args, final)
            return value
        return self.eval_field_chain(dot, value, var, var.ident[1:], args, final)

    def eval_field_chain(
        self, dot: Any, receiver: Any, node: P.Node, ident: list[str], args: list[P.Node], final: Any
    ) -> Any:
        iface = False  # a value read out of a map is an interface{} to Go
        for name in ident[:-1]:
            receiver = self.eval_field(dot, name, node, [], _NO_FINAL, receiver, iface)
            iface = True
        return self.eval_field(dot, ident[-1], node, args, final, receiver, iface)

    def eval_field(
        self, dot: Any, name: str, node: P.Node, args: list[P.Node], final: Any, receiver: Any, iface: bool
    ) -> Any:
        if receiver is MISSING:
            return MISSING
        typ = "interface {}" if iface else go_type(receiver)
        if receiver is None:
            raise self.errorf(f"nil pointer evaluating {typ}.{name}")
        has_args = len(args) > 1 or final is not _NO_FINAL
        if isinstance(receiver, dict):
            if name not in receiver:
                if has_args:
                    raise self.errorf(f"{name} is not a method but has arguments")
                return MISSING
            value = receiver[name]
            if _is_func(value):
                return self.eval_call(dot, value, None, node, name, args, final)
            if has_args:
                raise self.errorf(f"{name} is not a method but has arguments")
            return value
        raise self.errorf(f"can't evaluate field {name} in type {typ}")

    def eval_function(
        self, dot: Any, node: P.IdentifierNode, cmd: P.Node, args: list[P.Node], final: Any
    ) -> Any:
        self.at(node)
        name = node.ident
        fn = self.funcs.get(name)
        if fn is None:
            raise self.errorf(f"{_go_quote(name)} is not a defined function")
        return self.eval_call(dot, None, fn, cmd, name, args, final)

    def eval_call(
        self,
        dot: Any,
        method: Any,
        fn: Func | None,
        node: P.Node,
        name: str,
        args: list[P.Node],
        final: Any,
    ) -> Any:
        """A function (``fn``) or a method (``method``, a callable of the data) called with the
        command's arguments and the piped value, as Go's evalCall."""
        args = args[1:] if args else []
        num_in = len(args) + (0 if final is _NO_FINAL else 1)
        if fn is not None:
            params, variadic = fn.params, fn.variadic
        else:
            params, variadic = _method_params(method)
        if variadic:
            num_fixed = len(params) - 1
            if num_in < num_fixed:
                raise self.errorf(
                    f"wrong number of args for {name}: want at least {len(params) - 1} got {len(args)}"
                )
        else:
            num_fixed = len(args)
            if num_in != len(params):
                raise self.errorf(f"wrong number of args for {name}: want {len(params)} got {num_in}")

        if fn is not None and name in ("and", "or"):  # they short-circuit
            v: Any = MISSING
            for a in args:
                v = self.eval_arg(dot, "value", a)
                if truth(v) == (name == "or"):
                    return v
            if final is not _NO_FINAL:
                v = final
            return v

        argv: list[Any] = []
        i = 0
        while i < num_fixed and i < len(args):
            argv.append(self.eval_arg(dot, params[i], args[i]))
            i += 1
        if variadic:
            while i < len(args):
                argv.append(self.eval_arg(dot, params[-1], args[i]))
                i += 1
        if final is not _NO_FINAL:
            t = params[-1]
            if variadic and num_in - 1 < num_fixed:
                t = params[num_in - 1]
            argv.append(self.validate_type(final, t))

        try:
            if fn is not None and name == "call":
                callee = str(args[0]) if args else to_text(final)
                return self.call(callee, argv[0], argv[1:])
            target = fn.fn if fn is not None else method
            return target(*argv)
        except FuncError as e:
            self.at(node)
            raise self.errorf(f"error calling {name}: {e}") from None
        except TemplateError:
            raise
        except (_Break, _Continue):
            raise
        except Exception as e:  # a method of the data failed: Go reports its error the same way
            self.at(node)
            raise self.errorf(f"error calling {name}: {e}") from None

    def call(self, name: str, fn: Any, args: list[Any]) -> Any:
        if fn is MISSING or fn is None:
            raise FuncError("call of nil")
        if not _is_func(fn):
            raise FuncError(f"non-function {name} of type {go_type(fn)}")
        params, variadic = _method_params(fn)
        if variadic:
            if len(args) < len(params) - 1:
                raise FuncError(
                    f"wrong number of args for {name}: got {len(args)} want at least {len(params) - 1}"
                )
        elif len(args) != len(params):
            raise FuncError(f"wrong number of args for {name}: got {len(args)} want {len(params)}")
        args = [None if a is MISSING else a for a in args]
        try:
            return fn(*args)
        except FuncError:
            raise
        except Exception as e:
            raise FuncError(str(e)) from None

    def eval_arg(self, dot: Any, typ: str | None, n: P.Node) -> Any:
        self.at(n)
        if isinstance(n, P.DotNode):
            return self.validate_type(dot, typ)
        if isinstance(n, P.NilNode):
            if typ in (None, "any", "value", "[]string"):
                return MISSING if typ == "value" else None
            raise self.errorf(f"cannot assign nil to {typ}")
        if isinstance(n, P.FieldNode):
            return self.validate_type(self.eval_field_node(dot, n, [n], _NO_FINAL), typ)
        if isinstance(n, P.VariableNode):
            return self.validate_type(self.eval_variable_node(dot, n, [], _NO_FINAL), typ)
        if isinstance(n, P.PipeNode):
            return self.validate_type(self.eval_pipeline(dot, n), typ)
        if isinstance(n, P.IdentifierNode):
            return self.validate_type(self.eval_function(dot, n, n, [], _NO_FINAL), typ)
        if isinstance(n, P.ChainNode):
            return self.validate_type(self.eval_chain_node(dot, n, [], _NO_FINAL), typ)
        if typ == "string":
            if isinstance(n, P.StringNode):
                return n.text
            raise self.errorf(f"expected string; found {n}")
        if typ == "int":
            if isinstance(n, P.NumberNode) and n.is_int:
                return n.int64
            if isinstance(n, P.NumberNode):
                raise self.errorf(f"expected integer; found {n.text}")
            raise self.errorf(f"expected integer; found {n}")
        if typ in (None, "any", "value"):
            if isinstance(n, P.BoolNode):
                return n.true
            if isinstance(n, P.NumberNode):
                return self.ideal_constant(n)
            if isinstance(n, P.StringNode):
                return n.text
            raise self.errorf(f"can't handle assignment of {n} to empty interface argument")
        raise self.errorf(f"can't handle {n} for arg of type {typ}")

    def validate_type(self, value: Any, typ: str | None) -> Any:
        if value is MISSING or value is None:
            if typ == "value":
                return MISSING
            if typ in (None, "any", "[]string"):
                return None
            raise self.errorf(f"invalid value; expected {typ}")
        if typ in (None, "any", "value"):
            return value
        ok = (
            (typ == "string" and isinstance(value, str))
            or (typ == "int" and isinstance(value, int) and not isinstance(value, bool))
            or (
                typ == "[]string"
                and isinstance(value, (list, tuple))
                and all(isinstance(x, str) for x in value)
            )
        )
        if not ok:
            raise self.errorf(f"wrong type for value; expected {typ}; got {go_type(value)}")
        return value


def _is_func(v: Any) -> bool:
    return callable(v) and not isinstance(v, type)


def _method_params(fn: Any) -> tuple[tuple[str, ...], bool]:
    """The parameters of a callable of the data, as (types, variadic): positional parameters without a
    default are required; ``*args`` makes it variadic."""
    import inspect

    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return ("any",), True
    params: list[str] = []
    variadic = False
    for p in sig.parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            variadic = True
        elif p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty:
            params.append("any")
    if variadic:
        params.append("any")
    return tuple(params), variadic


def _go_quote(s: str) -> str:
    from .gofmt import quote

    return quote(s)


def execute(trees: dict[str, P.Tree], funcs: dict[str, Func], name: str, data: Any, out: list[str]) -> None:
    """Render the tree ``name`` over ``data`` into ``out`` (which keeps what was written before a failure)."""
    state = State(trees, funcs, name, out)
    state.vars = [["$", data]]
    tree = trees.get(name)
    if tree is None:
        raise state.errorf(f"{_go_quote(name)} is an incomplete or empty template")
    try:
        state.walk(data, tree.root)
    except RecursionError:
        raise TemplateError(f"template: {name}: exceeded maximum template depth ({MAX_DEPTH})") from None
    except (_Break, _Continue):  # the parser allows them only inside a range
        raise TemplateError(f"template: {name}: break or continue outside range") from None
