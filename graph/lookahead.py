"""Looking ahead into a field's selection, so that a parent can batch-load what every
item of a list will need before the items are resolved.

graphql-core runs an awaitable item of a list as an asyncio task of its own: 200
tasks each awaiting its assignee cost more than the page itself. A connection
resolver that knows its nodes select `assignee` loads the assignees at once, and
the per-item resolver then answers from the loader's cache without awaiting.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Iterable, Iterator
from typing import Any, TypeVar

import strawberry
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from graph.loaders import Loader

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
R = TypeVar("R")
Selection = SelectedField | FragmentSpread | InlineFragment


def _fields(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    """The fields of a selection set, with fragments flattened. Directives are not
    evaluated: a field under `@skip` counts as selected, which costs at most one
    batch that was not needed."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        else:
            yield from _fields(selection.selections)


def _children(fields: Iterable[SelectedField], name: str) -> list[SelectedField]:
    return [
        child
        for field in fields
        for child in _fields(field.selections)
        if child.name == name
    ]


def selects(info: strawberry.Info[Any, Any], name: str) -> bool:
    """Whether the field being resolved selects `name` directly."""
    return _remembered(info, ("selects", name), _selects)


def node_selects(info: strawberry.Info[Any, Any], name: str) -> bool:
    """Whether the connection being resolved selects `name` on its nodes, through
    `nodes` or `edges { node }`."""
    return _remembered(info, ("node_selects", name), _node_selects)


def node_child_selects(
    info: strawberry.Info[Any, Any], name: str, *children: str
) -> bool:
    """Whether the connection being resolved selects, on its nodes' field `name`,
    any of `children` (an assignee's createdAt)."""
    return _remembered(info, ("node_child_selects", name, *children), _node_child)


def _selects(info: strawberry.Info[Any, Any], name: str) -> bool:
    return bool(_children(_fields(info.selected_fields), name))


def _nodes(info: strawberry.Info[Any, Any]) -> list[SelectedField]:
    connection = list(_fields(info.selected_fields))
    return _children(connection, "nodes") + _children(
        _children(connection, "edges"), "node"
    )


def _node_selects(info: strawberry.Info[Any, Any], name: str) -> bool:
    return bool(_children(_nodes(info), name))


def _node_child(info: strawberry.Info[Any, Any], name: str, *children: str) -> bool:
    fields = _children(_nodes(info), name)
    return any(_children(fields, child) for child in children)


# The answers depend only on the field's nodes in a parsed document (fragments
# included), which the parser cache shares between requests: the 20 sibling
# connections of a page, and every later request of the same document, ask again.
# Bounded by clearing when full. Task lists, and the owners and assignees of a
# page, read only the columns their nodes show (graph/tasks.py, graph/projects.py),
# so an answer must never be "no" for a field that is selected:
# fragments of any type and fields under @skip count as selected.
_answers: dict[tuple[object, ...], tuple[list[Any], bool]] = {}
_MAX_ANSWERS = 4096


def _remembered(
    info: strawberry.Info[Any, Any],
    question: tuple[str, ...],
    answer: Callable[..., bool],
) -> bool:
    nodes = info._raw_info.field_nodes
    key = (*question, *map(id, nodes))
    known = _answers.get(key)
    # The nodes themselves, not only their ids, which a later document may reuse.
    if known is not None and all(a is b for a, b in zip(known[0], nodes, strict=True)):
        return known[1]
    found = answer(info, *question[1:])
    if len(_answers) >= _MAX_ANSWERS:
        _answers.clear()
    _answers[key] = (list(nodes), found)
    return found


def load_now(
    loader: Loader[K, V],
    key: K,
    convert: Callable[[V], R],
    converted: dict[tuple[object, K], tuple[object, R]] | None = None,
) -> R | Awaitable[R]:
    """`convert` of the loaded value, at once when the loader already holds it,
    else as an awaitable: a plain value keeps graphql-core on its synchronous path.
    With `converted`, a value converted before is converted once (a page's 180
    assignees are some 60 users)."""
    future = loader.cached(key)
    if converted is not None and future is not None:
        known = converted.get((convert, key))
        # The same future, done when converted: the same value. A key loaded
        # again has a new one.
        if known is not None and known[0] is future:
            return known[1]
    if future is None or not future.done() or future.exception() is not None:
        return _converted(loader.load(key), convert)
    result = convert(future.result())
    if converted is not None:
        converted[(convert, key)] = (future, result)
    return result


async def _converted(loading: Awaitable[V], convert: Callable[[V], R]) -> R:
    return convert(await loading)
