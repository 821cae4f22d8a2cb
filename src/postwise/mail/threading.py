"""Conversation threading: JWZ in memory.

`thread_messages` is Jamie Zawinski's algorithm (https://www.jwz.org/doc/threading.html) for a
complete set of messages. `thread_store.assign_threads` threads freshly stored rows against what
the database already holds, with a constant number of statements per batch, so that mail
arriving in any order and in any batching ends up in the same conversations. Both use
`subjects.subject_links` for the subject fallback, so they agree with each other.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from postwise.mime.subjects import (
    SubjectGroup,
    is_original,
    is_reply_or_forward,
    subject_key,
    subject_links,
)

__all__ = [
    "ThreadInput",
    "is_reply_or_forward",
    "subject_key",
    "thread_messages",
]

N = TypeVar("N", bound=Hashable)


def ancestry(message_id: str | None, in_reply_to: str | None, refs: Sequence[str]) -> list[str]:
    """The ancestry a message claims, oldest first: References, then In-Reply-To as the
    parent when References is empty or does not mention it. Its own id (a self-reference)
    and repeats are dropped, so a message can never be its own ancestor."""
    chain: list[str] = []
    seen = {message_id} if message_id else set()
    for ref in (*refs, in_reply_to or ""):
        if ref and ref not in seen:
            seen.add(ref)
            chain.append(ref)
    return chain


class Components(Generic[N]):
    """Union-find: which messages and threads have turned out to be one conversation."""

    def __init__(self) -> None:
        self._parent: dict[N, N] = {}

    def add(self, node: N) -> None:
        self._parent.setdefault(node, node)

    def find(self, node: N) -> N:
        self.add(node)
        root = node
        while (up := self._parent[root]) != root:
            # Path halving keeps the trees flat without recursion.
            self._parent[root] = self._parent[up]
            root = up
        return root

    def union(self, a: N, b: N) -> None:
        self._parent[self.find(a)] = self.find(b)

    def union_all(self, nodes: Sequence[N]) -> None:
        for node in nodes:
            self.union(node, nodes[0])

    def groups(self) -> list[list[N]]:
        by_root: dict[N, list[N]] = {}
        for node in list(self._parent):
            by_root.setdefault(self.find(node), []).append(node)
        return list(by_root.values())


# --- JWZ in memory --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ThreadInput:
    key: int | str  # the caller's id, handed back in the groups
    message_id: str | None
    in_reply_to: str | None
    references: Sequence[str]
    subject: str
    date: datetime


@dataclass(eq=False, slots=True)
class _Container:
    item: int | None = None  # position in the input; None for a message only referred to
    parent: _Container | None = None
    children: list[_Container] = field(default_factory=list)


def thread_messages(messages: Sequence[ThreadInput]) -> list[list[int | str]]:
    """Group messages into conversations: lists of keys, each ordered by date, the lists
    ordered by their first message.

    Deviations from JWZ, each for a reason: a repeated Message-ID is a distinct message (as
    JWZ says) but stays in the conversation of the first one, because it is the same mail in
    another folder; the subject step is `subject_links` (JWZ's, with guards against gluing
    unrelated mail together).
    """
    roots, duplicates = _build_forest(messages)
    roots = _prune(roots)
    components = Components[int]()
    for index in range(len(messages)):
        components.add(index)
    for root in roots:
        components.union_all(_items(root))
    for duplicate, original in duplicates:
        components.union(duplicate, original)
    groups = [_subject_group(messages, members) for members in components.groups()]
    for a, b in subject_links(groups):
        components.union(a, b)

    def order(index: int) -> tuple[datetime, int]:
        return messages[index].date, index

    result = [sorted(members, key=order) for members in components.groups()]
    result.sort(key=lambda members: order(members[0]))
    return [[messages[index].key for index in members] for members in result]


def _build_forest(
    messages: Sequence[ThreadInput],
) -> tuple[list[_Container], list[tuple[int, int]]]:
    """JWZ steps 1-2: the id table, References chains linked without loops, the root set."""
    table: dict[str, _Container] = {}
    outside: list[_Container] = []  # messages without a usable id: never referred to
    duplicates: list[tuple[int, int]] = []
    for index, message in enumerate(messages):
        own = message.message_id or None
        container = table.setdefault(own, _Container()) if own else None
        if container is not None and container.item is not None:
            duplicates.append((index, container.item))
            container = None
        if container is None:
            container = _Container()
            outside.append(container)
        container.item = index
        chain = ancestry(own, message.in_reply_to, message.references)
        links = [table.setdefault(ref, _Container()) for ref in chain]
        for parent, child in itertools.pairwise(links):
            # An earlier, possibly more complete chain already placed `child`: keep it.
            if child.parent is None and not _would_loop(parent, child):
                _attach(child, parent)
        # The message's own last reference is the most definite word on its parent.
        _set_parent(container, links[-1] if links else None)
    roots = [c for c in itertools.chain(table.values(), outside) if c.parent is None]
    return roots, duplicates


def _would_loop(parent: _Container, child: _Container) -> bool:
    """Whether `child` is `parent` or one of its ancestors."""
    if parent is child:
        return True
    if not child.children:  # nothing below it: it cannot be above anyone (the common case)
        return False
    node: _Container | None = parent
    while node is not None:
        if node is child:
            return True
        node = node.parent
    return False


def _attach(child: _Container, parent: _Container) -> None:
    child.parent = parent
    parent.children.append(child)


def _set_parent(container: _Container, parent: _Container | None) -> None:
    if container.parent is parent:
        return
    if parent is not None and _would_loop(parent, container):
        return  # a References loop: keep what we have rather than build a cycle
    if container.parent is not None:
        container.parent.children.remove(container)
        container.parent = None
    if parent is not None:
        _attach(container, parent)


def _prune(roots: list[_Container]) -> list[_Container]:
    """JWZ step 4: drop empty containers, splice their children into their place; an empty
    root keeps several children together (they share the missing ancestor) and hands a single
    child the root's place."""
    stack: list[tuple[_Container, bool]] = [(root, False) for root in roots]
    while stack:
        node, done = stack.pop()
        if not done:
            stack.append((node, True))
            stack.extend((child, False) for child in node.children)
            continue
        kept: list[_Container] = []
        for child in node.children:  # already pruned themselves: their children are messages
            if child.item is None:
                for grandchild in child.children:
                    grandchild.parent = node
                kept.extend(child.children)
            else:
                kept.append(child)
        node.children = kept
    result: list[_Container] = []
    for root in roots:
        if root.item is None and len(root.children) == 1:
            root = root.children[0]
            root.parent = None
        if root.item is not None or root.children:
            result.append(root)
    return result


def _items(root: _Container) -> list[int]:
    found: list[int] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.item is not None:
            found.append(node.item)
        stack.extend(node.children)
    return found


def _subject_group(messages: Sequence[ThreadInput], members: list[int]) -> SubjectGroup[int]:
    group = [messages[i] for i in members]
    earliest = min(members, key=lambda i: (messages[i].date, i))
    return SubjectGroup(
        gid=members[0],
        first=min(m.date for m in group),
        last=max(m.date for m in group),
        subject=messages[earliest].subject,
        subject_only_replies=[
            m.date
            for m in group
            if is_subject_only_reply(m.message_id, m.in_reply_to, m.references, m.subject)
        ],
        has_original=any(is_original(m.in_reply_to, m.subject) for m in group),
    )


def is_subject_only_reply(
    message_id: str | None, in_reply_to: str | None, refs: Sequence[str], subject: str
) -> bool:
    """A reply or forward without In-Reply-To/References: only its subject places it."""
    return not ancestry(message_id, in_reply_to, refs) and is_reply_or_forward(subject)
