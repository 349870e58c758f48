"""Selections completed in one pass, without graphql-core's per-field machinery.

A page of tasks is a list of objects whose fields are attributes (title, priority)
or resolvers that answer at once (`nodes`, an `assignee` the page loaded up front).
graphql-core completes each of those fields through the same general steps (a
path, a resolve info, five type checks, a call per step). A selection made only
of such fields gets a plan, built once per request: each field read, called or
recursed into directly.

A plan never reports an error. Whatever it does not expect (an exception, a value
still to be awaited, null where null is an error, a value its type refuses) makes
it give up the whole object, which graphql-core then completes from the start and
reports as always. Giving up only costs time: the fields a plan calls are reads.

The object graphql-core hands to execute_fields may also get a partial plan: the
fields a plan cannot take (async resolvers, arguments) are delegated
to graphql-core's execute_field, once the planned ones are done, so that a plan
that gives up has started none of them. A connection's `nodes` is then completed
by the plan while its async `totalCount` goes the general way. Plans inside plans
are always whole.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import StrawberryObjectDefinition

from graph.direct_resolvers import DirectResolver
from graph.leaves import GENERAL, PlainLeaf, read_leaf

BuildInfo = Callable[[GraphQLField, FieldDetailsList, GraphQLObjectType, Path], Any]
# An object type's name and its grouped fields by response name and field nodes.
Signature = tuple[str, tuple[tuple[object, ...], ...]]
SharedPlans = dict[Signature, "ObjectPlan | None"]
Collect = Callable[[GraphQLObjectType, FieldDetailsList], GroupedFieldSet | None]
FindLeaf = Callable[[GraphQLObjectType, FieldDetailsList], PlainLeaf | None]


class GiveUp(Exception):
    """The plan met something it does not expect: graphql-core takes over."""


@dataclass(frozen=True, slots=True)
class Completion:
    """How to complete a resolved value of one output type."""

    non_null: bool
    leaf: PlainLeaf | None = None
    item: Completion | None = None  # lists
    plan: ObjectPlan | None = None  # objects

    @property
    def needs_path(self) -> bool:
        """Whether a field under it builds an Info, whose path a plan then makes:
        the only use of paths here, since a plan reports no error."""
        if self.item is not None:
            return self.item.needs_path
        return self.plan is not None and self.plan.needs_path


@dataclass(frozen=True, slots=True)
class LeafStep:
    response_name: str
    leaf: PlainLeaf


@dataclass(frozen=True, slots=True)
class TypenameStep:
    """`__typename`, which clients such as Apollo add to every selection: a
    plan is of one object type, so its name."""

    response_name: str
    type_name: str


@dataclass(frozen=True, slots=True)
class CallStep:
    response_name: str
    field: GraphQLField
    details: FieldDetailsList
    wants_info: bool
    completion: Completion
    # The resolver's own function when it takes only the source.
    of_source: Callable[[Any], Any] | None = None
    needs_path: bool = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        needs = self.wants_info or self.completion.needs_path
        object.__setattr__(self, "needs_path", needs)


Step = LeafStep | TypenameStep | CallStep


@dataclass(frozen=True, slots=True)
class AsyncCall:
    """An async direct resolver whose value a whole plan completes (a connection)."""

    field: GraphQLField
    completion: Completion
    resolver: DirectResolver


@dataclass(frozen=True, slots=True)
class Delegated:
    """A field of a partial plan for the executor: through graphql-core's
    execute_field, or, with `call`, by the executor itself."""

    response_name: str
    details: FieldDetailsList
    call: AsyncCall | None


@dataclass(frozen=True, slots=True)
class ObjectPlan:
    object_type: GraphQLObjectType
    origin: type | None  # the Strawberry class: instances need no is_type_of
    steps: tuple[Step, ...]
    # Set when every step reads a leaf (a user's name and email): one tight loop.
    leaves: tuple[tuple[str, PlainLeaf], ...] | None
    # A partial plan's fields for graphql-core, and every response name in order.
    delegated: tuple[Delegated, ...] = ()
    order: tuple[str, ...] = ()
    needs_path: bool = dataclasses.field(init=False)
    # Whether every delegated field has a batch form: the items of a list of
    # such objects then resolve each of them once for all.
    batched: bool = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        needs = any(isinstance(s, CallStep) and s.needs_path for s in self.steps)
        object.__setattr__(self, "needs_path", needs)
        batched = bool(self.delegated) and _batchable(self.delegated)
        object.__setattr__(self, "batched", batched)


def _batchable(delegated: Iterable[Delegated]) -> bool:
    """Whether each of these fields has a batch form."""
    return all(d.call is not None and d.call.resolver.has_batch for d in delegated)


class Planner:
    """Builds the plans of one request; graphql-core supplies the selections.

    With `shared`, the plans of an operation kept from earlier requests, a plan
    is looked up by its selection's signature before it is built. Only an
    operation whose selections cannot vary with its variables (no directive on a
    field or fragment) may share them: its signatures then name the same
    selections in every request."""

    def __init__(
        self, collect: Collect, find_leaf: FindLeaf, shared: SharedPlans | None = None
    ) -> None:
        self._collect = collect
        self._find_leaf = find_leaf  # the executor's, remembered per schema
        self._shared = shared
        # By id of graphql-core's grouped field sets, which it keeps for the request:
        # the plans of execute_fields (maybe partial) and of completions (whole).
        self._plans: dict[int, ObjectPlan | None] = {}
        self._whole: dict[int, ObjectPlan | None] = {}

    def plan(
        self, object_type: GraphQLObjectType, fields: GroupedFieldSet
    ) -> ObjectPlan | None:
        """The plan of an object graphql-core executes: whole, or partial."""
        shared, key = self._shared, id(fields)
        if shared is None or key in self._plans:
            return self._cached(self._plans, object_type, fields, partial=True)
        signature = (object_type.name, _signature(fields))
        if signature in shared:
            plan = self._plans[key] = shared[signature]
            return plan
        plan = self._cached(self._plans, object_type, fields, partial=True)
        if self._shared is not None:  # still: nothing gave up while it was built
            shared[signature] = plan
        return plan

    def gave_up(self, fields: GroupedFieldSet) -> None:
        """A plan that gave up once would likely give up again on the next item
        of the list (an assignee not loaded up front): not tried again in this
        request, and plans built after it are not shared, since they may lack
        the plan given up."""
        self._plans[id(fields)] = self._whole[id(fields)] = None
        self._shared = None

    def _cached(
        self,
        plans: dict[int, ObjectPlan | None],
        object_type: GraphQLObjectType,
        fields: GroupedFieldSet,
        partial: bool,
    ) -> ObjectPlan | None:
        key = id(fields)
        if key not in plans:
            plans[key] = None  # a selection reached again while planned
            plans[key] = self._build(object_type, fields, partial)
        return plans[key]

    def _build(
        self, object_type: GraphQLObjectType, fields: GroupedFieldSet, partial: bool
    ) -> ObjectPlan | None:
        steps: list[Step] = []
        delegated: list[Delegated] = []
        for response_name, details in fields.items():
            if any(detail.defer_usage is not None for detail in details):
                return None
            step = self._step(object_type, response_name, details)
            if step is not None:
                steps.append(step)
            elif partial:
                delegated.append(self._delegated(object_type, response_name, details))
            else:
                return None
        if (
            delegated
            and not any(isinstance(step, CallStep) for step in steps)
            and not _batchable(delegated)
        ):
            return None  # graphql-core reads leaves nearly as fast on its own
        definition = (object_type.extensions or {}).get(
            GraphQLCoreConverter.DEFINITION_BACKREF
        )
        origin = (
            definition.origin
            if isinstance(definition, StrawberryObjectDefinition)
            else None
        )
        leaves = tuple(
            (step.response_name, step.leaf)
            for step in steps
            if isinstance(step, LeafStep)
        )
        all_leaves = leaves if len(leaves) == len(steps) and not delegated else None
        order = tuple(fields) if delegated else ()
        return ObjectPlan(
            object_type, origin, tuple(steps), all_leaves, tuple(delegated), order
        )

    def _step(
        self, object_type: GraphQLObjectType, name: str, details: FieldDetailsList
    ) -> Step | None:
        name_in_schema = details[0].node.name.value
        if name_in_schema == "__typename":
            return TypenameStep(name, object_type.name)
        field = object_type.fields.get(name_in_schema)
        if field is None or field.args:
            return None  # other meta fields, arguments
        leaf = self._find_leaf(object_type, details)
        if leaf is not None:
            return LeafStep(name, leaf)
        resolve = field.resolve
        of_source = None
        if isinstance(resolve, DirectResolver):
            if resolve.is_async:
                return None
            wants_info, of_source = resolve.wants_info, resolve.of_source
        elif getattr(resolve, "_is_default", False):
            wants_info = False  # an attribute holding objects (Edge.node)
        else:
            return None
        completion = self._completion(field.type, details)
        if completion is None:
            return None
        return CallStep(name, field, details, wants_info, completion, of_source)

    def _delegated(
        self, object_type: GraphQLObjectType, name: str, details: FieldDetailsList
    ) -> Delegated:
        field = object_type.fields.get(details[0].node.name.value)
        resolve = None if field is None else field.resolve
        if field is None or not (
            isinstance(resolve, DirectResolver) and resolve.is_async
        ):
            return Delegated(name, details, None)
        completion = self._completion(field.type, details)
        call = None if completion is None else AsyncCall(field, completion, resolve)
        return Delegated(name, details, call)

    def _completion(
        self, output: GraphQLOutputType, details: FieldDetailsList
    ) -> Completion | None:
        non_null = isinstance(output, GraphQLNonNull)
        named = output.of_type if isinstance(output, GraphQLNonNull) else output
        if isinstance(named, GraphQLList):
            item = self._completion(named.of_type, details)
            return None if item is None else Completion(non_null, item=item)
        if is_leaf_type(named):
            return Completion(non_null, leaf=PlainLeaf("", named, non_null))
        if not isinstance(named, GraphQLObjectType):
            return None  # interfaces and unions
        fields = self._collect(named, details)
        if fields is None:
            return None
        plan = self._cached(self._whole, named, fields, partial=False)
        return None if plan is None else Completion(non_null, plan=plan)


def _signature(fields: GroupedFieldSet) -> tuple[tuple[object, ...], ...]:
    return tuple(
        (name, *[id(detail.node) for detail in details])
        for name, details in fields.items()
    )


def run_plan(
    plan: ObjectPlan, source: Any, path: Path | None, build_info: BuildInfo
) -> dict[str, Any]:
    """The completed object; raises GiveUp for graphql-core to take over."""
    results: dict[str, Any] = {}
    if plan.leaves is not None:
        for response_name, leaf in plan.leaves:
            value = read_leaf(leaf, source)
            if value is GENERAL:
                raise GiveUp
            results[response_name] = value
        return results
    for step in plan.steps:
        if isinstance(step, LeafStep):
            value = read_leaf(step.leaf, source)
            if value is GENERAL:
                raise GiveUp
            results[step.response_name] = value
            continue
        if isinstance(step, TypenameStep):
            results[step.response_name] = step.type_name
            continue
        field, completion = step.field, step.completion
        field_path = (
            Path(path, step.response_name, plan.object_type.name)
            if step.needs_path
            else None
        )
        info = None
        if step.wants_info:
            assert field_path is not None  # needs_path
            info = build_info(field, step.details, plan.object_type, field_path)
        of_source = step.of_source
        try:
            if of_source is not None:
                resolved = of_source(source)
            else:
                resolved = field.resolve(source, info)  # type: ignore[misc]
        except Exception as exc:
            raise GiveUp from exc
        try:
            results[step.response_name] = complete(
                completion, resolved, field_path, build_info
            )
        except GiveUp:
            _discard(resolved)
            raise
    return results


def complete(
    completion: Completion, value: Any, path: Path | None, build_info: BuildInfo
) -> Any:
    """The completed `value`; raises GiveUp for graphql-core to take over."""
    if value is None:
        if completion.non_null:
            raise GiveUp
        return None
    if completion.plan is not None:
        plan = completion.plan
        if type(value) is not plan.origin and not _is_a(plan.object_type, value):
            raise GiveUp
        return run_plan(plan, value, path, build_info)
    if completion.item is not None:
        if not isinstance(value, list | tuple):
            raise GiveUp
        item = completion.item
        if not item.needs_path:
            return [complete(item, entry, None, build_info) for entry in value]
        return [
            complete(item, entry, Path(path, index, None), build_info)
            for index, entry in enumerate(value)
        ]
    assert completion.leaf is not None
    coerced = completion.leaf.coerce(value)
    if coerced is GENERAL:
        raise GiveUp
    return coerced


def _is_a(object_type: GraphQLObjectType, value: Any) -> bool:
    if hasattr(value, "__await__"):
        return False
    is_type_of = object_type.is_type_of
    # Strawberry's is_type_of does not read the info it is given.
    return is_type_of is None or bool(is_type_of(value, None))  # type: ignore[arg-type]


def _discard(value: Any) -> None:
    close = getattr(value, "close", None)
    if callable(close):
        close()  # an unawaited coroutine: graphql-core will call the field again
