"""Follow literal values through a Python script with ``ast``, never executing it.

The evaluator walks the module in source order (function and branch bodies included, as if every
branch ran once) and keeps an environment of names whose values are literals it could work out:
constants, containers, f-strings, ``os.path.join``, ``os.environ`` (SageMaker's ``SM_*``
variables have documented values), argparse and HfArgumentParser defaults, and the keyword
arguments of calls. Every call of interest (TrainingArguments, SFTConfig, an estimator, LoraConfig,
``from_pretrained``) is recorded with its resolved keywords and their lines. What cannot be
worked out is an ``Unknown`` carrying the reason, so the reader can say so in a note.
"""

from __future__ import annotations

import ast
import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..redact import shown_value

SAGEMAKER_ENV: dict[str, str] = {
    # sagemaker-training-toolkit ENVIRONMENT_VARIABLES.md (shared/research, section 5.3)
    "SM_MODEL_DIR": "/opt/ml/model",
    "SM_OUTPUT_DATA_DIR": "/opt/ml/output/data",
    "SM_OUTPUT_DIR": "/opt/ml/output",
    "SM_INPUT_DIR": "/opt/ml/input",
    "SM_INPUT_CONFIG_DIR": "/opt/ml/input/config",
}
"""SageMaker's fixed paths, by the environment variable that names them."""


@dataclass(frozen=True)
class Unknown:
    """A value the evaluator could not work out; ``why`` says what it came from."""

    why: str


@dataclass(frozen=True)
class Dotted:
    """An unresolved dotted name kept as text, e.g. ``torch.bfloat16``."""

    text: str


class LineDict(dict[str, Any]):
    """A dict literal that remembers the line of each key (for ``**kwargs`` expansions)."""

    lines: dict[str, int]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines = {}


@dataclass
class CallValue:
    """A call the evaluator met: the callee's last name, resolved keywords and their lines."""

    name: str
    line: int
    callee: str = ""
    """The dotted call target as written (``AutoTokenizer.from_pretrained``)."""
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    kw_lines: dict[str, int] = field(default_factory=dict)
    origins: dict[str, list[str]] = field(default_factory=dict)
    """For each keyword, where its value came from (argparse defaults, environment, ...)."""
    star_unknown: list[str] = field(default_factory=list)
    """``**expr`` expansions that could not be resolved."""


@dataclass
class Argument:
    default: Any
    line: int
    required: bool = False


@dataclass
class ParserValue:
    """An argparse.ArgumentParser or a HfArgumentParser/TrlParser and what it was told."""

    kind: str  # "argparse" | "hf"
    line: int
    arguments: dict[str, Argument] = field(default_factory=dict)
    dataclasses: list[str] = field(default_factory=list)


@dataclass
class Namespace:
    """The result of parsing command-line arguments: defaults, overridden by hyperparameters."""

    label: str
    defaults: dict[str, Argument]
    overrides: dict[str, Any]


PARSE_ARGS = {"parse_args", "parse_known_args"}
HF_PARSE = {
    "parse_args_into_dataclasses",
    "parse_args_and_config",
    "parse_dict",
    "parse_yaml_file",
    "parse_json_file",
}
HF_PARSERS = {"HfArgumentParser", "TrlParser"}


@dataclass
class Evaluator:
    """Walks one module; see the module docstring."""

    interesting: Callable[[str], bool]
    """Whether a call's last name is one to record (config classes, estimators, ...)."""
    overrides: dict[str, Any] = field(default_factory=dict)
    """Command-line arguments the script will get (an estimator's hyperparameters)."""
    config_classes: frozenset[str] = frozenset()
    env: dict[str, Any] = field(default_factory=dict)
    calls: list[CallValue] = field(default_factory=list)
    dataclass_defs: dict[str, dict[str, Argument]] = field(default_factory=dict)
    sagemaker_evidence: list[tuple[str, int]] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)
    base_dir: Path | None = None
    """Directory of the file, for files it names (HfArgumentParser.parse_yaml_file)."""
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)
    returns: dict[str, Any] = field(default_factory=dict)
    _origins: list[str] = field(default_factory=list)
    _line: int = 0
    _stack: list[str] = field(default_factory=list)
    foreign_names: set[str] = field(default_factory=set)
    """Names imported from other packages than transformers/TRL/peft/SageMaker: a class
    called TrainingArguments there is that project's own, with its own fields."""
    _conditions: list[int] = field(default_factory=list)
    """Lines of the ``if`` statements being walked: what is set inside one may not happen."""

    # -- statements -----------------------------------------------------------------------
    def run(self, tree: ast.Module) -> None:
        self._body(tree.body)

    def _body(self, stmts: Iterable[ast.stmt]) -> None:
        for stmt in stmts:
            self._line = getattr(stmt, "lineno", self._line)
            try:
                self._stmt(stmt)
            except RecursionError:
                continue

    def _stmt(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            module = stmt.module or "" if isinstance(stmt, ast.ImportFrom) else ""
            own = isinstance(stmt, ast.ImportFrom) and (
                stmt.level > 0 or module.split(".")[0] not in HF_PACKAGES
            )
            for alias in stmt.names:
                if alias.asname:
                    self.aliases[alias.asname] = alias.name.split(".")[-1]
                if own:  # `from llamafactory.v1.config import TrainingArguments`: not HF's
                    self.foreign_names.add(alias.asname or alias.name)
        elif isinstance(stmt, ast.Assign):
            value = self.eval(stmt.value)
            for target in stmt.targets:
                self._bind(target, value)
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            self._bind(stmt.target, self.eval(stmt.value))
        elif isinstance(stmt, ast.Expr):
            self._expr_stmt(stmt.value)
        elif isinstance(stmt, ast.Return) and stmt.value is not None:
            value = self.eval(stmt.value)
            if self._stack:
                self.returns[self._stack[-1]] = value
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            self._function(stmt)
        elif isinstance(stmt, ast.ClassDef):
            self._class(stmt)
        elif isinstance(stmt, ast.If) and not _is_main_guard(stmt.test):
            self._conditions.append(stmt.lineno)
            self._body(stmt.body)
            self._body(stmt.orelse)
            self._conditions.pop()
        elif isinstance(stmt, ast.If | ast.For | ast.While | ast.AsyncFor):
            self._body(stmt.body)
            self._body(stmt.orelse)
        elif isinstance(stmt, ast.With | ast.AsyncWith):
            self._body(stmt.body)
        elif isinstance(stmt, ast.Try):
            self._body(stmt.body)
            for handler in stmt.handlers:
                self._body(handler.body)
            self._body(stmt.orelse)
            self._body(stmt.finalbody)

    def _expr_stmt(self, node: ast.expr) -> None:
        # d.update(x=1) / d.update({...}) / d["k"] = ... handled in _bind
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "set_hyperparameters"
            and isinstance(node.func.value, ast.Name)
            and isinstance(self.env.get(node.func.value.id), CallValue)
        ):  # estimator.set_hyperparameters(epochs=3, ...) after the estimator was built
            owner: CallValue = self.env[node.func.value.id]
            extra = self._call_value(node, "set_hyperparameters")
            current = owner.kwargs.get("hyperparameters")
            merged = LineDict(current if isinstance(current, dict) else {})
            if isinstance(current, LineDict):
                merged.lines.update(current.lines)
            merged.update(extra.kwargs)
            merged.lines.update(extra.kw_lines)
            owner.kwargs["hyperparameters"] = merged
            return
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "update"
            and isinstance(node.func.value, ast.Name)
        ):
            target = self.env.get(node.func.value.id)
            if isinstance(target, dict):
                for arg in node.args:
                    value = self.eval(arg)
                    if isinstance(value, dict):
                        target.update(value)
                        if isinstance(target, LineDict) and isinstance(value, LineDict):
                            target.lines.update(value.lines)
                for kw in node.keywords:
                    if kw.arg:
                        target[kw.arg] = self.eval(kw.value)
                        if isinstance(target, LineDict):
                            target.lines[kw.arg] = kw.value.lineno
                return
        self.eval(node)

    def _function(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        """Walk the body once as defined (defaults bound); calls walk it again with arguments."""
        self.functions[fn.name] = fn
        args = fn.args
        positional = args.posonlyargs + args.args
        for arg, default in zip(
            positional[len(positional) - len(args.defaults) :], args.defaults, strict=False
        ):
            self.env.setdefault(arg.arg, self.eval(default))
        for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=False):
            if kw_default is not None:
                self.env.setdefault(arg.arg, self.eval(kw_default))
        self._stack.append(fn.name)
        self._body(fn.body)
        self._stack.pop()

    def _call_function(self, fn: ast.FunctionDef | ast.AsyncFunctionDef, node: ast.Call) -> Any:
        """A call of a function defined in the file: bind its arguments, walk it, return its value."""
        if fn.name in self._stack or len(self._stack) >= 4:
            return self.returns.get(fn.name, Unknown(f"result of {fn.name}()"))
        params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
        for name, arg in zip(params, node.args, strict=False):
            self.env[name] = self.eval(arg)
        for kw in node.keywords:
            if kw.arg in params or kw.arg in {a.arg for a in fn.args.kwonlyargs}:
                self.env[kw.arg] = self.eval(kw.value)
        self._stack.append(fn.name)
        self._body(fn.body)
        self._stack.pop()
        return self.returns.get(fn.name, Unknown(f"result of {fn.name}()"))

    def _class(self, cls: ast.ClassDef) -> None:
        """Dataclass fields (HfArgumentParser inputs): name -> default."""
        fields: dict[str, Argument] = {}
        for stmt in cls.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                value: Any = Unknown(f"{cls.name}.{stmt.target.id} has no default")
                required = stmt.value is None
                if isinstance(stmt.value, ast.Call) and _name(stmt.value.func).endswith("field"):
                    required = True
                    for kw in stmt.value.keywords:
                        if kw.arg == "default":
                            value, required = self.eval(kw.value), False
                elif stmt.value is not None:
                    value = self.eval(stmt.value)
                fields[stmt.target.id] = Argument(value, stmt.lineno, required)
        self.dataclass_defs[cls.name] = fields

    def _bind(self, target: ast.expr, value: Any) -> None:
        if isinstance(target, ast.Name):
            self.env[target.id] = value
        elif isinstance(target, ast.Tuple | ast.List):
            items = value if isinstance(value, tuple | list) else None
            for index, element in enumerate(target.elts):
                if items is not None and index < len(items):
                    self._bind(element, items[index])
                else:
                    self._bind(element, Unknown(f"unpacking at line {self._line}"))
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            owner = self.env.get(target.value.id)
            if isinstance(owner, CallValue):  # training_args.save_total_limit = 3
                if self._conditions:  # only when the `if` holds: maybe set, value unknown
                    value = Unknown(
                        f"set at line {target.lineno} only when the `if` at line "
                        f"{self._conditions[-1]} holds"
                    )
                owner.kwargs[target.attr] = value
                owner.kw_lines[target.attr] = target.lineno
                owner.origins.pop(target.attr, None)
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            container = self.env.get(target.value.id)
            key = self.eval(target.slice)
            if isinstance(container, dict) and isinstance(key, str):
                container[key] = value
                if isinstance(container, LineDict):
                    container.lines[key] = target.lineno

    # -- expressions ----------------------------------------------------------------------
    def eval(self, node: ast.expr) -> Any:
        method = getattr(self, f"_e_{type(node).__name__}", None)
        if method is None:
            return Unknown(f"`{_short(node)}`")
        return method(node)

    def _e_Constant(self, node: ast.Constant) -> Any:
        if isinstance(node.value, str):
            return self._evidence(node.value)
        return node.value

    def _e_JoinedStr(self, node: ast.JoinedStr) -> Any:
        parts: list[str] = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            elif isinstance(value, ast.FormattedValue):
                inner = self.eval(value.value)
                if isinstance(inner, Unknown | Dotted) or value.format_spec is not None:
                    return Unknown(f"f-string `{_short(node)}`")
                parts.append(str(inner))
        return self._evidence("".join(parts))

    def _e_Name(self, node: ast.Name) -> Any:
        if node.id in self.env:
            return self.env[node.id]
        if node.id in {"True", "False", "None"}:
            return {"True": True, "False": False, "None": None}[node.id]
        return Dotted(self.aliases.get(node.id, node.id))

    def _e_List(self, node: ast.List) -> Any:
        return [self.eval(e) for e in node.elts]

    def _e_Tuple(self, node: ast.Tuple) -> Any:
        return tuple(self.eval(e) for e in node.elts)

    def _e_Set(self, node: ast.Set) -> Any:
        return [self.eval(e) for e in node.elts]

    def _e_Dict(self, node: ast.Dict) -> Any:
        out = LineDict()
        for key_node, value_node in zip(node.keys, node.values, strict=False):
            value = self.eval(value_node)
            if key_node is None:
                if isinstance(value, dict):
                    out.update(value)
                    if isinstance(value, LineDict):
                        out.lines.update(value.lines)
                continue
            key = self.eval(key_node)
            if isinstance(key, str | int | float | bool):
                out[str(key) if not isinstance(key, str) else key] = value
                out.lines[str(key)] = key_node.lineno
        return out

    def _e_UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self.eval(node.operand)
        if isinstance(value, int | float) and not isinstance(value, bool):
            if isinstance(node.op, ast.USub):
                return -value
            if isinstance(node.op, ast.UAdd):
                return value
        if isinstance(node.op, ast.Not) and isinstance(value, bool):
            return not value
        return Unknown(f"`{_short(node)}`")

    def _e_BinOp(self, node: ast.BinOp) -> Any:
        left, right = self.eval(node.left), self.eval(node.right)
        numbers = (int, float)
        try:
            if isinstance(left, numbers) and isinstance(right, numbers):
                ops: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
                    ast.Add: lambda a, b: a + b,
                    ast.Sub: lambda a, b: a - b,
                    ast.Mult: lambda a, b: a * b,
                    ast.Div: lambda a, b: a / b,
                    ast.FloorDiv: lambda a, b: a // b,
                    ast.Pow: lambda a, b: a**b if abs(b) < 64 else None,
                }
                op = ops.get(type(node.op))
                if op is not None:
                    result = op(left, right)
                    if result is not None:
                        return result
            if isinstance(left, str) and isinstance(right, str):
                if isinstance(node.op, ast.Add):
                    return self._evidence(left + right)
                if isinstance(node.op, ast.Div):  # pathlib's Path / "name"
                    return self._evidence(posixpath.join(left, right))
        except (ArithmeticError, TypeError, ValueError):
            pass
        return Unknown(f"`{_short(node)}`")

    def _e_BoolOp(self, node: ast.BoolOp) -> Any:
        first = self.eval(node.values[0])
        if isinstance(node.op, ast.Or):
            if first is None or first == "" or (isinstance(first, Unknown) and "env " in first.why):
                return self.eval(node.values[1]) if len(node.values) > 1 else first
            return first
        return Unknown(f"`{_short(node)}`")

    def _e_IfExp(self, node: ast.IfExp) -> Any:
        body, orelse = self.eval(node.body), self.eval(node.orelse)
        if body == orelse and not isinstance(body, Unknown):
            return body
        return Unknown(f"conditional `{_short(node)}`")

    def _e_Attribute(self, node: ast.Attribute) -> Any:
        base = self.eval(node.value)
        if isinstance(base, Namespace):
            return self._namespace_attr(base, node.attr, _short(node.value))
        if isinstance(base, CallValue):
            if node.attr in base.kwargs:
                return base.kwargs[node.attr]
            return Unknown(f"{base.name}.{node.attr} (not set where it was built)")
        if isinstance(base, Dotted):
            return Dotted(f"{base.text}.{node.attr}")
        return Unknown(f"`{_short(node)}`")

    def _e_Subscript(self, node: ast.Subscript) -> Any:
        if _name(node.value) == "os.environ":
            key = self.eval(node.slice)
            return self._environ(key, None, has_default=False)
        base, key = self.eval(node.value), self.eval(node.slice)
        if isinstance(base, dict) and isinstance(key, str) and key in base:
            return base[key]
        if (
            isinstance(base, list | tuple)
            and isinstance(key, int)
            and -len(base) <= key < len(base)
        ):
            return base[key]
        return Unknown(f"`{_short(node)}`")

    def _e_Call(self, node: ast.Call) -> Any:
        func = _name(node.func)
        last = self.aliases.get(func.split(".")[-1], func.split(".")[-1])
        if func in {"os.environ.get", "os.getenv", "environ.get", "getenv"}:
            key = self.eval(node.args[0]) if node.args else None
            default = self.eval(node.args[1]) if len(node.args) > 1 else None
            return self._environ(key, default, has_default=len(node.args) > 1)
        if func in {"os.path.join", "posixpath.join", "path.join"}:
            parts = [self.eval(a) for a in node.args]
            if all(isinstance(p, str) for p in parts) and parts:
                return self._evidence(posixpath.join(*parts))
            return Unknown(f"`{_short(node)}`")
        if last in {"Path", "PurePosixPath"} and len(node.args) == 1:
            value = self.eval(node.args[0])
            return value if isinstance(value, str) else Unknown(f"`{_short(node)}`")
        if last in {"str", "int", "float", "bool"} and len(node.args) == 1 and not node.keywords:
            return self._convert(last, self.eval(node.args[0]), node)
        if last == "dict" and not node.args:
            call = self._call_value(node, "dict")
            out = LineDict(call.kwargs)
            out.lines.update(call.kw_lines)
            return out
        if isinstance(node.func, ast.Attribute):
            owner = self.eval(node.func.value)
            if isinstance(owner, ParserValue):
                return self._parser_call(owner, node)
        if isinstance(node.func, ast.Name) and node.func.id in self.functions:
            return self._call_function(self.functions[node.func.id], node)
        if last == "ArgumentParser":
            return ParserValue("argparse", node.lineno)
        if last in HF_PARSERS:
            classes = [self.eval(a) for a in node.args]
            names = _class_names(classes)
            return ParserValue("hf", node.lineno, dataclasses=names)
        if self.interesting(last):
            call = self._call_value(node, last)
            call.callee = func
            # a function walked again replaces what its first walk recorded at this line
            self.calls = [c for c in self.calls if (c.line, c.name) != (call.line, call.name)]
            self.calls.append(call)
            return call
        for arg in node.args:  # nested calls such as Trainer(args=TrainingArguments(...))
            self.eval(arg)
        for kw in node.keywords:
            self.eval(kw.value)
        return Unknown(f"result of `{_short(node.func)}(...)`")

    # -- helpers --------------------------------------------------------------------------
    def _call_value(self, node: ast.Call, name: str) -> CallValue:
        call = CallValue(name, node.lineno)
        for arg in node.args:
            call.args.append(self.eval(arg))
        for kw in node.keywords:
            self._origins = []
            value = self.eval(kw.value)
            if kw.arg is None:
                if isinstance(value, dict):
                    for key, item in value.items():
                        call.kwargs[key] = item
                        line = value.lines.get(key) if isinstance(value, LineDict) else None
                        call.kw_lines[key] = line or kw.value.lineno
                        if self._origins:
                            call.origins[key] = list(self._origins)
                else:
                    call.star_unknown.append(_short(kw.value))
                continue
            call.kwargs[kw.arg] = value
            call.kw_lines[kw.arg] = kw.value.lineno
            if self._origins:
                call.origins[kw.arg] = list(self._origins)
        self._origins = []
        return call

    def _environ(self, key: Any, default: Any, *, has_default: bool) -> Any:
        if not isinstance(key, str):
            return Unknown("an environment variable")
        if key in SAGEMAKER_ENV:
            self.sagemaker_evidence.append((f"${key}", self._line))
            self._origins.append(f"${key} (SageMaker sets it to {SAGEMAKER_ENV[key]})")
            return SAGEMAKER_ENV[key]
        if key.startswith("SM_CHANNEL_"):
            self.sagemaker_evidence.append((f"${key}", self._line))
            return f"/opt/ml/input/data/{key[len('SM_CHANNEL_') :].lower()}"
        if key.startswith("SM_"):
            self.sagemaker_evidence.append((f"${key}", self._line))
        if has_default and not isinstance(default, Unknown):
            self._origins.append(f"${key} unset: its default {default!r} in the script")
            return default
        return Unknown(f"env ${key}")

    def _namespace_attr(self, ns: Namespace, attr: str, label: str) -> Any:
        ns = Namespace(label, ns.defaults, ns.overrides)
        if attr in ns.overrides:
            self._origins.append(f"{ns.label}.{attr} = {ns.overrides[attr]!r} (hyperparameter)")
            return ns.overrides[attr]
        arg = ns.defaults.get(attr)
        if arg is None:
            return Unknown(f"{ns.label}.{attr} (no such argument found)")
        if arg.required or isinstance(arg.default, Unknown):
            return Unknown(f"{ns.label}.{attr} (required on the command line, no default)")
        self._origins.append(f"{ns.label}.{attr} (default {arg.default!r}, line {arg.line})")
        return arg.default

    def _parser_call(self, parser: ParserValue, node: ast.Call) -> Any:
        method = node.func.attr if isinstance(node.func, ast.Attribute) else ""
        if method == "add_argument" and node.args:
            flags = [self.eval(a) for a in node.args]
            kw = {k.arg: k.value for k in node.keywords if k.arg}
            dest_node = kw.get("dest")
            dest = self.eval(dest_node) if dest_node is not None else None
            if not isinstance(dest, str):
                longs = [f for f in flags if isinstance(f, str) and f.startswith("--")]
                first = longs[0] if longs else flags[0]
                dest = str(first).lstrip("-").replace("-", "_")
            default = self.eval(kw["default"]) if "default" in kw else None
            if kw.get("action") is not None:
                action = self.eval(kw["action"])
                if action == "store_true" and "default" not in kw:
                    default = False
                elif action == "store_false" and "default" not in kw:
                    default = True
            required = "required" in kw and self.eval(kw["required"]) is True
            self._origins = []
            parser.arguments[dest] = Argument(default, node.lineno, required)
            return None
        if method in PARSE_ARGS and parser.kind == "argparse":
            ns = Namespace("args", parser.arguments, self.overrides)
            return (ns, []) if method == "parse_known_args" else ns
        if method in HF_PARSE or (method in PARSE_ARGS and parser.kind == "hf"):
            given, where = self._hf_given(method, node)
            values = {**given, **self.overrides}
            out: list[Any] = []
            for name in parser.dataclasses:
                if name in self.config_classes:
                    call = CallValue(name, node.lineno)
                    accepted = _accepted_fields(name)
                    for key, value in values.items():
                        if key not in accepted:
                            continue  # another dataclass's argument (model, data, script)
                        call.kwargs[key] = value
                        call.kw_lines[key] = node.lineno
                        origin = "hyperparameter" if key in self.overrides else where
                        call.origins[key] = [f"{key} = {shown_value(key, value)} ({origin})"]
                    if method in {"parse_args_into_dataclasses", "parse_args_and_config"}:
                        call.star_unknown.append("@command line (HfArgumentParser)")
                    self.calls = [
                        c for c in self.calls if (c.line, c.name) != (call.line, call.name)
                    ]
                    self.calls.append(call)
                    out.append(call)
                else:
                    defaults = self.dataclass_defs.get(name, {})
                    out.append(Namespace(_lower(name), defaults, values))
            if method == "parse_args_and_config" or method == "parse_known_args":
                out.append([])
            return tuple(out)
        return Unknown(f"`{_short(node)}`")

    def _hf_given(self, method: str, node: ast.Call) -> tuple[dict[str, Any], str]:
        """Values handed to HfArgumentParser.parse_dict / parse_yaml_file / parse_json_file."""
        if not node.args:
            return {}, ""
        arg = self.eval(node.args[0])
        if method == "parse_dict" and isinstance(arg, dict):
            return dict(arg), "parse_dict"
        if method in {"parse_yaml_file", "parse_json_file"} and isinstance(arg, str):
            if self.base_dir is None:
                return {}, ""
            path = self.base_dir / arg
            try:
                from ..spec.yaml_source import load_yaml

                data = load_yaml(path).data if path.is_file() else None
            except Exception:  # SpecError and friends: the file is the user's, not ours
                data = None
            if isinstance(data, dict):
                return {str(k): v for k, v in data.items()}, path.name
            self._origins.append(f"{arg} not at hand")
        return {}, ""

    def _convert(self, kind: str, value: Any, node: ast.expr) -> Any:
        if isinstance(value, Unknown | Dotted):
            return Unknown(f"`{_short(node)}`")
        try:
            if kind == "bool":
                return value if isinstance(value, bool) else str(value).lower() in {"1", "true"}
            return {"str": str, "int": int, "float": float}[kind](value)
        except (TypeError, ValueError):
            return Unknown(f"`{_short(node)}`")

    def _evidence(self, text: str) -> str:
        if text.startswith("/opt/ml/"):
            self.sagemaker_evidence.append((text, self._line))
        return text


def _accepted_fields(config: str) -> set[str]:
    """Keys a TrainingArguments-like class takes: its fields, plus removed ones (PF501/PF510)."""
    from ..rules.arguments import removed_arguments
    from ..spec.training_fields import training_fields
    from .builder import trainer_config_fields

    own, removed = trainer_config_fields(config)
    return set(training_fields().fields) | own | set(removed) | set(removed_arguments())


def _class_names(values: list[Any]) -> list[str]:
    names: list[str] = []
    for value in values:
        if isinstance(value, tuple | list):
            names.extend(_class_names(list(value)))
        elif isinstance(value, Dotted):
            names.append(value.text.split(".")[-1])
    return names


def _lower(name: str) -> str:
    out = "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
    return out or name


def _name(node: ast.expr) -> str:
    """Dotted name of a call target (``os.path.join``), or its source text."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ast.unparse(node)


def _short(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_python(text: str, path: Path) -> ast.Module:
    """Parse, raising SyntaxError with the file name for the caller to report."""
    return ast.parse(text, filename=str(path))


HF_PACKAGES = frozenset({"transformers", "trl", "peft", "sagemaker", "unsloth", "accelerate"})


def _is_main_guard(test: ast.expr) -> bool:
    """``if __name__ == "__main__":``: the script's body, which always runs."""
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
    )
