"""graphql-core's executor with a short path for plain leaf fields.

Most fields of a response are attributes of an object already built (a task's
title, priority, isCompleted). graphql-core runs each through the general machinery
(a resolve info, the argument values, Strawberry's resolver chain, four completion
steps), which costs more than the rest of a list page. A leaf without resolver,
arguments or extensions is read and coerced here instead; anything unusual (null,
a value the scalar refuses) goes the general way, which reports it as always.

An object whose selection is made of such leaves and of fields that answer at once
is completed by a plan (graph/plans.py) in one pass; an object with other fields
besides gets a partial plan, and only those others go through graphql-core.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Sequence
from functools import cached_property
from typing import Any
from weakref import WeakKeyDictionary

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
)
from graphql.execution.collect_fields import (
    FieldDetails,
    FieldDetailsList,
    GroupedFieldSet,
)
from graphql.execution.values import get_argument_values
from graphql.pyutils import (
    AwaitableOrValue,
    Path,
    Undefined,
    UndefinedType,
    gather_with_cancel,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graph.leaves import GENERAL, PlainLeaf, plain_leaf, read_leaf
from graph.plans import (
    AsyncCall,
    Completion,
    Delegated,
    GiveUp,
    ObjectPlan,
    Planner,
    SharedPlans,
    complete,
    run_plan,
)

LeafPlans = dict[tuple[str, str], PlainLeaf | None]
_plans: WeakKeyDictionary[GraphQLSchema, LeafPlans] = WeakKeyDictionary()
ExecutableNode = (
    OperationDefinitionNode | FragmentDefinitionNode | InlineFragmentNode | FieldNode
)
# The plans of recent operations by id (AST nodes hash by their whole structure),
# with the schema and the operation itself: holding the operation keeps its nodes'
# ids, which the signatures use, from being reused. None: its selections may vary
# with its variables, so each request plans its own. Bounded by clearing when full.
SharedEntry = tuple[GraphQLSchema, OperationDefinitionNode, SharedPlans | None]
_shared: dict[int, SharedEntry] = {}
_MAX_SHARED = 256


class TrackqlExecutionContext(StrawberryGraphQLCoreExecutionContext):
    @cached_property
    def _leaf_plans(self) -> LeafPlans | None:
        """None when every field must take the general path: Strawberry always
        passes a middleware manager, which wraps resolvers only when some extension
        implements `resolve`."""
        manager = self.middleware_manager
        if manager is not None and manager.middlewares:
            return None
        return _plans.setdefault(self.schema, {})

    @cached_property
    def _planner(self) -> Planner | None:
        if self._leaf_plans is None:
            return None
        return Planner(self._collect, self._leaf, self._shared_plans())

    def _shared_plans(self) -> SharedPlans | None:
        operation = self.operation
        known = _shared.get(id(operation))
        if known is not None and known[0] is self.schema and known[1] is operation:
            return known[2]
        nodes: list[ExecutableNode] = [operation]
        nodes.extend(self.fragment_definitions.values())
        plans: SharedPlans | None = None if any(map(_has_directives, nodes)) else {}
        if len(_shared) >= _MAX_SHARED:
            _shared.clear()
        _shared[id(operation)] = (self.schema, operation, plans)
        return plans

    def _collect(
        self, object_type: GraphQLObjectType, details: FieldDetailsList
    ) -> GroupedFieldSet | None:
        fields, deferred, forbidden = self.collect_subfields(object_type, details)
        return None if deferred or forbidden else fields

    def _build_info(
        self,
        field: GraphQLField,
        details: FieldDetailsList,
        parent_type: GraphQLObjectType,
        path: Path,
    ) -> Any:
        return self.build_resolve_info(
            field, [detail.node for detail in details], parent_type, path
        )

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        planner = self._planner
        if planner is not None and position_context is None:
            plan = planner.plan(parent_type, grouped_field_set)
            if plan is not None:
                try:
                    planned = run_plan(plan, source_value, path, self._build_info)
                except GiveUp:
                    planner.gave_up(grouped_field_set)
                else:
                    if not plan.delegated:
                        return planned
                    return self._with_delegated(plan, planned, source_value, path)
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )

    def _with_delegated(
        self,
        plan: ObjectPlan,
        planned: dict[str, Any],
        source: Any,
        path: Path | None,
    ) -> AwaitableOrValue[dict[str, Any]]:
        """A partial plan's results with its delegated fields, executed and awaited
        as graphql-core's execute_fields does, in the selection's order."""
        parent_type, is_awaitable = plan.object_type, self.is_awaitable
        results: dict[str, Any] = {}
        awaited: list[str] = []
        try:
            for step in plan.delegated:
                name = step.response_name
                field_path = Path(path, name, parent_type.name)
                if step.call is None:
                    result = self.execute_field(
                        parent_type, source, step.details, field_path, None
                    )
                else:
                    result = self._execute_async(
                        parent_type, source, step.details, step.call, field_path
                    )
                if result is not Undefined:
                    results[name] = result
                    if is_awaitable(result):
                        awaited.append(name)
        except Exception:
            if awaited:
                self.settle_in_background([results[name] for name in awaited])
            raise

        if not awaited:
            return _in_order(plan, planned, results)

        async def awaiting() -> dict[str, Any]:
            if len(awaited) == 1:
                results[awaited[0]] = await results[awaited[0]]
            else:
                values = await gather_with_cancel(*(results[n] for n in awaited))
                results.update(zip(awaited, values, strict=True))
            return _in_order(plan, planned, results)

        return awaiting()

    def _execute_async(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        details: FieldDetailsList,
        call: AsyncCall,
        path: Path,
    ) -> Any:
        """graphql-core's execute_field for an async direct resolver whose value a
        plan completes: its arguments coerced once per field node in the request
        (the same `tasks(first: 10)` of 20 projects), its value completed by the
        plan instead of graphql-core's completion steps. Errors are handled as
        there; a value the plan gives up on is completed by graphql-core."""
        field = call.field
        info = self._build_info(field, details, parent_type, path)
        try:
            arguments = self._arguments(field, details[0])
            result = field.resolve(source, info, **arguments)  # type: ignore[misc]
        except Exception as raw_error:
            self.handle_field_error(raw_error, field.type, details, path)
            return None
        return self._completed(details, call, info, path, result)

    async def _completed(
        self,
        details: FieldDetailsList,
        call: AsyncCall,
        info: Any,
        path: Path,
        result: Any,
    ) -> Any:
        try:
            completed = self._complete_call(details, call, info, path, await result)
            if self.is_awaitable(completed):
                completed = await completed
            return completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, call.field.type, details, path)
            return None

    def _complete_call(
        self,
        details: FieldDetailsList,
        call: AsyncCall,
        info: Any,
        path: Path,
        resolved: Any,
    ) -> AwaitableOrValue[Any]:
        """The resolved value of `call` completed by its plan, or by graphql-core
        when the plan gives up; raises what graphql-core's completion raises."""
        try:
            return complete(call.completion, resolved, path, self._build_info)
        except GiveUp:
            return self.complete_value(
                call.field.type, details, info, path, resolved, None
            )

    def complete_iterable_value(
        self,
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        items: Iterable[Any],
        position_context: Any,
    ) -> AwaitableOrValue[list[Any]]:
        batched = self._batched_items(
            item_type, field_details_list, path, items, position_context
        )
        if batched is not None:
            return batched
        return super().complete_iterable_value(
            item_type, field_details_list, info, path, items, position_context
        )

    def _batched_items(
        self,
        item_type: GraphQLOutputType,
        details: FieldDetailsList,
        path: Path,
        items: Iterable[Any],
        position_context: Any,
    ) -> Awaitable[list[Any]] | None:
        """The completed items of a list of objects whose partial plan delegates
        only fields with a batch form (the projects of a page, for their tasks):
        each item's plan run, then each batch form called once for all items.
        Without it, each item's fields are called, awaited in an asyncio task of
        its own, and batched again by a loader. None: graphql-core's way."""
        planner = self._planner
        non_null = isinstance(item_type, GraphQLNonNull)
        named = (
            item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        )
        if (
            planner is None
            or position_context is not None
            or not isinstance(named, GraphQLObjectType)
            or not isinstance(items, list | tuple)
            or any(detail.node.directives for detail in details)  # @stream
        ):
            return None
        fields = self._collect(named, details)
        plan = None if fields is None else planner.plan(named, fields)
        if plan is None or not plan.batched:
            return None
        assert fields is not None
        each = Completion(non_null, plan=plan)
        planned: list[dict[str, Any] | None] = []
        try:
            for index, item in enumerate(items):
                item_path = Path(path, index, None) if plan.needs_path else None
                planned.append(complete(each, item, item_path, self._build_info))
        except GiveUp:
            planner.gave_up(fields)
            return None
        return self._with_batches(plan, item_type, details, path, items, planned)

    async def _with_batches(
        self,
        plan: ObjectPlan,
        item_type: GraphQLOutputType,
        details: FieldDetailsList,
        path: Path,
        items: Sequence[Any],
        planned: list[dict[str, Any] | None],
    ) -> list[Any]:
        present = [index for index, done in enumerate(planned) if done is not None]
        sources = [items[index] for index in present]
        paths = [Path(path, index, None) for index in present]
        batches = [self._batch(plan, step, sources, paths) for step in plan.delegated]
        if len(batches) == 1:
            columns = [await batches[0]]
        else:
            columns = await gather_with_cancel(*batches)
        completed: list[Any] = list(planned)
        names = [step.response_name for step in plan.delegated]
        for row, index in enumerate(present):
            done = planned[index]
            assert done is not None
            values = dict(zip(names, (column[row] for column in columns), strict=True))
            failed = next((v for v in values.values() if isinstance(v, _Failed)), None)
            if failed is None:
                completed[index] = _in_order(plan, done, values)
            else:  # raises when the item is non-null too, as graphql-core does
                self.handle_field_error(failed.error, item_type, details, paths[row])
                completed[index] = None
        return completed

    async def _batch(
        self,
        plan: ObjectPlan,
        step: Delegated,
        sources: list[Any],
        paths: list[Path],
    ) -> list[Any]:
        """A delegated field of every item, by its batch form: one value per item,
        or _Failed when a non-null field failed."""
        call = step.call
        assert call is not None  # plan.batched
        field, parent, details = call.field, plan.object_type, step.details
        field_paths = [Path(path, step.response_name, parent.name) for path in paths]
        info = self._build_info(field, details, parent, field_paths[0])
        try:
            arguments = self._arguments(field, details[0])
            values = await call.resolver.batch(sources, info, arguments)
            if len(values) != len(sources):
                raise RuntimeError(
                    f"{parent.name}.{details[0].node.name.value}'s batch form gave "
                    f"{len(values)} values for {len(sources)} sources"
                )
        except Exception as raw_error:
            return [self._failed(raw_error, call, details, p) for p in field_paths]
        column: list[Any] = []
        for value, field_path in zip(values, field_paths, strict=True):
            try:
                completed = self._complete_call(details, call, info, field_path, value)
                if self.is_awaitable(completed):
                    completed = await completed
                column.append(completed)
            except Exception as raw_error:
                column.append(self._failed(raw_error, call, details, field_path))
        return column

    def _failed(
        self,
        raw_error: Exception,
        call: AsyncCall,
        details: FieldDetailsList,
        path: Path,
    ) -> Any:
        """None for a nullable field, whose error is recorded; for a non-null
        one, its error as _Failed, for its item."""
        try:
            self.handle_field_error(raw_error, call.field.type, details, path)
        except GraphQLError as error:
            return _Failed(error)
        return None

    def _arguments(self, field: GraphQLField, detail: FieldDetails) -> dict[str, Any]:
        if detail.fragment_variable_values is not None:
            return self._coerce_arguments(field, detail)
        known = self._argument_values.get(id(detail.node))
        if known is None:
            known = self._argument_values[id(detail.node)] = self._coerce_arguments(
                field, detail
            )
        return known

    def _coerce_arguments(
        self, field: GraphQLField, detail: FieldDetails
    ) -> dict[str, Any]:
        return get_argument_values(
            field,
            detail.node,
            self.variable_values,
            detail.fragment_variable_values,
            self.hide_suggestions,
        )

    @cached_property
    def _argument_values(self) -> dict[int, dict[str, Any]]:
        # By id of the field node: the document holds its nodes for the request.
        return {}

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> AwaitableOrValue[Any] | UndefinedType:
        leaf = self._leaf(parent_type, field_details_list)
        if leaf is not None:
            value = read_leaf(leaf, source)
            if value is not GENERAL:
                return value
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def _leaf(
        self, parent_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> PlainLeaf | None:
        plans = self._leaf_plans
        if plans is None:
            return None
        key = (parent_type.name, field_details_list[0].node.name.value)
        try:
            return plans[key]
        except KeyError:
            field = parent_type.fields.get(key[1])
            leaf = plans[key] = None if field is None else plain_leaf(field)
            return leaf


class _Failed:
    """A non-null field's error, which makes its item null."""

    __slots__ = ("error",)

    def __init__(self, error: GraphQLError) -> None:
        self.error = error


def _in_order(
    plan: ObjectPlan, planned: dict[str, Any], results: dict[str, Any]
) -> dict[str, Any]:
    """A partial plan's object: its planned and delegated fields in the order of
    the selection (a delegated field that graphql-core skipped is absent)."""
    return {
        name: planned[name] if name in planned else results[name]
        for name in plan.order
        if name in planned or name in results
    }


def _has_directives(node: ExecutableNode) -> bool:
    """Whether a selection under `node` has a directive (@skip, @include, @defer),
    which may make the fields collected vary with the variables."""
    selections = node.selection_set.selections if node.selection_set else ()
    return any(
        selection.directives
        or (
            isinstance(selection, FieldNode | InlineFragmentNode)
            and _has_directives(selection)
        )
        for selection in selections
    )
