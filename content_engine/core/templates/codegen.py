"""Jinja's code generator, with the sandbox's checks compiled in where Jinja has no hook.

In: a parsed template. Out: Python source in which slices go through ``environment.getitem``,
template text through ``environment.ce_text``, ``~`` operands through ``ce_piece``, loops
through ``ce_iter`` and comparisons through ``ce_compare``: methods of ``BoundedSandbox``
(``bounded``), which size and time what the body does. Nothing is folded at compile time.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any, cast

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst


def _checked(method: str, node: nodes.Expr) -> nodes.Expr:
    """``node`` handed to the sandbox's ``method`` at run time, which checks it and returns it."""
    return nodes.Call(
        nodes.EnvironmentAttribute(method, lineno=node.lineno),
        [node],
        [],
        None,
        None,
        lineno=node.lineno,
    )


class CheckedCodeGenerator(CodeGenerator):
    """Jinja's code generator, with the sandbox's checks where Jinja has no hook.

    Slices go through ``getitem`` like indexes do: Jinja compiles ``x[1:3]`` to a plain Python
    subscript, and a slice of ``Markup`` is ``Markup``, so pieces of a body's markup could be
    put together anew. Template text is charged to the render's budget as it is written (a
    loop in a macro buffers it, out of the output check's sight), ``~`` operands and compared
    values are sized first, loops check the clock, and nothing is computed at compile time.
    """

    @optimizeconst
    def visit_Getitem(self, node: nodes.Getitem, frame: Frame) -> None:
        if not isinstance(node.arg, nodes.Slice):
            super().visit_Getitem(node, frame)
            return
        self.write("environment.getitem(")
        self.visit(node.node, frame)
        self.write(", slice(")
        for n, part in enumerate((node.arg.start, node.arg.stop, node.arg.step)):
            self.write(", " if n else "")
            if part is None:
                self.write("None")
            else:
                self.visit(part, frame)
        self.write("))")

    def _output_child_to_const(self, node: nodes.Expr, frame: Frame, finalize: Any) -> str:
        # Jinja folds ``{{ 'x'|center(10**9) }}`` while compiling, outside any limit.
        if not isinstance(node, nodes.TemplateData):
            raise nodes.Impossible()
        return str(super()._output_child_to_const(node, frame, finalize))

    def _output_const_repr(self, group: Iterable[Any]) -> str:
        return f"environment.ce_text({super()._output_const_repr(group)})"

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        loop = copy.copy(node)
        loop.iter = _checked("ce_iter", cast(nodes.Expr, node.iter))
        super().visit_For(loop, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        joined = copy.copy(node)
        joined.nodes = [_checked("ce_piece", part) for part in node.nodes]
        super().visit_Concat(joined, frame)

    def visit_Compare(self, node: nodes.Compare, frame: Frame) -> None:
        # Equal nested lists built apart compare element by element, in C, with no clock: a
        # comparison runs in the sandbox, which sizes both sides first.
        if len(node.ops) == 1:
            (op,) = node.ops
            operands = [nodes.Const(op.op), node.expr, op.expr]
            call = nodes.Call(nodes.EnvironmentAttribute("ce_compare"), operands, [], None, None)
            self.visit(call.set_lineno(node.lineno or 1), frame)
            return
        # A chain (``a < b < c``) keeps Python's meaning: each operand is sized alone.
        compared = copy.copy(node)
        compared.expr = _checked("ce_compared", node.expr)
        compared.ops = [
            nodes.Operand(op.op, _checked("ce_compared", op.expr), lineno=op.lineno)
            for op in node.ops
        ]
        super().visit_Compare(compared, frame)
