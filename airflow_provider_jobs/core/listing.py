"""Shared listings: one "list the active runs" call answers the status reads of many waits.

A vendor whose API lists every queued or running run in one call sets `lists_active_runs` on its hook
and implements `list_active_runs()`. The waits of one event loop (the triggerer's) on the same
connection and credential then share that call: a status read is answered from a listing taken no
more than `max_age` seconds ago, and only a run missing from it (it ended, or is not visible yet) is
read on its own, with get_run. The listing is used only while it pays for itself: when the reads one
listing answers (the measured read rate times `max_age`) are at least MIN_SHARED_READS and outweigh
the entries it returns, each costing the hook's `listing_entry_cost` (a share of one status call). A
handful of waits read their runs one by one, as before. A hook whose server turns out to have no listing
(list_active_runs raises NotImplementedError) is not asked again in that event loop.

Nothing here knows a vendor: the hook says what a listing is and how an entry becomes a JobRun.
"""

from __future__ import annotations

import asyncio
import logging
import math
import weakref
from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_jobs.core.hook import JobApiHook

log = logging.getLogger(__name__)

#: A listing is taken only if it answers at least this many status reads (and outweighs its entries).
MIN_SHARED_READS = 4.0
#: Seconds over which the rate of status reads on a connection is measured.
RATE_WINDOW = 1.0
#: After a listing fails, the connection's runs are read one by one for this many seconds.
UNAVAILABLE_SECONDS = 300.0
#: Seconds a listing is kept in memory (no wait accepts one older than MAX_AGE).
KEEP_SECONDS = 5.0
#: The oldest listing a wait accepts: this share of its poll interval, at most MAX_AGE seconds.
AGE_SHARE = 0.2
MAX_AGE = 0.5


def listing_age(poll_interval: float) -> float:
    """How old a shared listing may be to answer a wait that polls every `poll_interval` seconds.

    It adds at most this much to the moment a run's end is seen (a small share of the interval).
    """
    return min(MAX_AGE, AGE_SHARE * max(0.0, poll_interval))


class ListingBoard:
    """The last listing of one connection in one event loop, the one being taken, and the read rate."""

    def __init__(self, scope: str) -> None:
        self.scope = scope
        self.entries: Mapping[Hashable, Any] | None = None
        self.size = 0  # entries in the last listing (kept after a failure)
        self.taken_at = -math.inf
        self.refreshing: asyncio.Task | None = None
        self.unavailable_until = -math.inf
        self.rate = 0.0
        self._window_start: float | None = None
        self._window_reads = 0

    def count_read(self, now: float) -> None:
        start = self._window_start
        if start is None:
            self._window_start = now
        elif now - start >= RATE_WINDOW:
            self.rate = self._window_reads / (now - start)
            self._window_start, self._window_reads = now, 0
        self._window_reads += 1

    def worth_listing(self, max_age: float, entry_cost: float) -> bool:
        answered = self.rate * max_age
        return answered >= MIN_SHARED_READS and answered >= self.size * entry_cost

    def fresh(self, now: float, max_age: float) -> Mapping[Hashable, Any] | None:
        if self.entries is not None and now - self.taken_at <= max_age:
            return self.entries
        return None


_boards: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, ListingBoard]] = weakref.WeakKeyDictionary()


def board_for(hook: JobApiHook) -> ListingBoard:
    """The running loop's board for the hook's connection and credential."""
    boards = _boards.setdefault(asyncio.get_running_loop(), {})
    scope = hook.listing_scope()
    board = boards.get(scope)
    if board is None:
        board = boards[scope] = ListingBoard(scope)
    return board


async def shared_active_runs(hook: JobApiHook, max_age: float) -> Mapping[Hashable, Any] | None:
    """The connection's active runs (listing key -> entry) from a listing no older than `max_age`
    seconds, taken now if need be and shared with every caller of the moment; None when a listing
    does not pay for itself here or failed lately (the caller then reads its run on its own)."""
    loop = asyncio.get_running_loop()
    board = board_for(hook)
    now = loop.time()
    board.count_read(now)
    entries = board.fresh(now, max_age)
    if entries is None:
        if board.refreshing is None:
            if now < board.unavailable_until or not board.worth_listing(max_age, hook.listing_entry_cost):
                return None
            board.refreshing = loop.create_task(_refresh(board, hook, now))
        # shield: a wait that is cancelled does not cancel the listing the others wait for
        entries = await asyncio.shield(board.refreshing)
    return entries


async def _refresh(board: ListingBoard, hook: JobApiHook, started: float) -> Mapping[Hashable, Any] | None:
    loop = asyncio.get_running_loop()
    try:
        entries = await hook.arun_operation(hook.list_active_runs.steps(hook))
    except NotImplementedError as exc:  # this server has no such listing (e.g. an older version): never ask again
        board.entries, board.unavailable_until = None, math.inf
        log.info("%s: connection '%s' has no listing of active runs (%s); each run is read on its own.",
                 hook.vendor, hook.conn_id, exc)
        return None
    except Exception as exc:  # the reads fall back to get_run, which reports its own errors
        board.entries, board.unavailable_until = None, loop.time() + UNAVAILABLE_SECONDS
        log.warning(
            "%s: listing the active runs of connection '%s' failed (%s); each run is read on its own "
            "for the next %.0f s.",
            hook.vendor, hook.conn_id, exc, UNAVAILABLE_SECONDS,
        )
        return None
    finally:
        board.refreshing = None
    # the listing shows the runs as they were at some moment after `started`: its age counts from then
    board.entries, board.taken_at, board.size = entries, started, len(entries)
    loop.call_later(KEEP_SECONDS, _forget, board, started)
    return entries


def _forget(board: ListingBoard, taken_at: float) -> None:
    """Drop a listing nobody replaced: its waits have ended, and it may hold thousands of entries."""
    if board.taken_at == taken_at:
        board.entries = None
