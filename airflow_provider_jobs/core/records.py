"""Frozen dataclasses that are cheap to build: the records every status poll makes a few of."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


class _NoArgument:
    """The default of a field with a default factory (shown as dataclasses shows it)."""

    def __repr__(self) -> str:
        return "<factory>"


_NO_ARGUMENT = _NoArgument()


def quick_init(cls: type[T]) -> type[T]:
    """Give a frozen dataclass an `__init__` that fills the instance's `__dict__` directly.

    The generated one sets each field with `object.__setattr__` (a frozen class refuses plain assignment),
    about 100 ns a field; a poll builds a request, its wire form, a run and a sleep, ~40 fields. The
    replacement has the same signature, defaults, default factories and `__post_init__` call, and the class
    stays frozen after construction. Apply it on top of `@dataclass(frozen=True)`; no slots, no InitVar.
    """
    params = dataclasses.fields(cls)  # type: ignore[arg-type]
    if not cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        raise TypeError(f"quick_init is for frozen dataclasses; {cls.__name__} is not frozen")
    if "__slots__" in cls.__dict__:
        raise TypeError(f"quick_init needs an instance __dict__; {cls.__name__} has __slots__")
    names: dict[str, Any] = {"_NO_ARGUMENT": _NO_ARGUMENT}
    signature, body = [], ["    d = self.__dict__"]
    keyword_only = False
    for f in params:
        if f.kw_only and not keyword_only:
            signature.append("*")
            keyword_only = True
        if not f.init:
            if f.default is not dataclasses.MISSING:
                names[f"_default_{f.name}"] = f.default
                body.append(f"    d[{f.name!r}] = _default_{f.name}")
            elif f.default_factory is not dataclasses.MISSING:
                names[f"_factory_{f.name}"] = f.default_factory
                body.append(f"    d[{f.name!r}] = _factory_{f.name}()")
            continue
        if f.default is not dataclasses.MISSING:
            names[f"_default_{f.name}"] = f.default
            signature.append(f"{f.name}=_default_{f.name}")
            body.append(f"    d[{f.name!r}] = {f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            names[f"_factory_{f.name}"] = f.default_factory
            signature.append(f"{f.name}=_NO_ARGUMENT")
            body.append(f"    d[{f.name!r}] = _factory_{f.name}() if {f.name} is _NO_ARGUMENT else {f.name}")
        else:
            signature.append(f.name)
            body.append(f"    d[{f.name!r}] = {f.name}")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    source = f"def __init__(self, {', '.join(signature)}):\n" + "\n".join(body) + "\n"
    exec(compile(source, f"<quick_init {cls.__qualname__}>", "exec"), names)  # the source is built above
    init = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = cls.__init__.__doc__
    init.__annotations__ = {**{f.name: f.type for f in params if f.init}, "return": None}
    cls.__init__ = init  # type: ignore[method-assign]
    return cls
