"""Pins of durable-rules 2.0.28 behaviour that tierbook relies on or must work around.

Each test builds its own host and its own uniquely named ruleset: durable-rules keeps
process-global state in its C extension (handle table, ruleset pools).

Everything here goes through the "threadless" host below, so no test starts a dispatcher
thread; the ``no_new_threads`` fixture checks that after every test.

Crash-prone behaviour (the SIGSEGV in ``delete_state``) only runs in a child process.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import pytest

# Not installed: skip (tierbook only depends on durable-rules below Python 3.13).
pytest.importorskip("durable")
# Installed but broken: on 3.13+ `import durable` still works (its __init__ only sets up a
# logger); the C extension fails (undefined symbol: PyEval_CallObject), raising ImportError,
# which pytest>=9 importorskip no longer turns into a skip. Hence the explicit skip.
try:
    import durable.engine as de
    import durable_rules_engine
except ImportError as exc:
    pytest.skip(f"durable-rules does not import: {exc}", allow_module_level=True)

# Python 3.12+: durable.engine._unix_now() calls datetime.utcfromtimestamp(), deprecated; with
# filterwarnings=error every action would raise it (see test_utcfromtimestamp_deprecation).
pytestmark = pytest.mark.filterwarnings(
    "ignore:datetime.datetime.utcfromtimestamp:DeprecationWarning"
)

MessageNotHandledException = de.MessageNotHandledException
MessageObservedException = de.MessageObservedException
EngineError = durable_rules_engine.error


class ThreadlessHost(de.Host):
    """durable.engine.Host whose __init__ does not start the dispatch/timer threads.

    Host.__init__ ends with ``self._run()``, which starts two self-rescheduling
    ``threading.Timer`` threads (ruleset dispatch + timer dispatch). Actions still run
    synchronously inside host.assert_fact/post, so nothing is lost by skipping them
    (we use no timers and no async actions).
    """

    def _run(self):
        pass


def make_host(name: str, rules: dict) -> ThreadlessHost:
    host = ThreadlessHost()
    assert host.register_rulesets({name: rules}) == [name]
    return host


def recorder(log: list, name: str, then=None):
    """A 1-argument action (Promise requires exactly c, or c+complete for async)."""

    def action(c):
        log.append(name)
        if then is not None:
            then(c)

    return action


@pytest.fixture(autouse=True)
def no_new_threads():
    before = set(threading.enumerate())
    yield
    after = set(threading.enumerate())
    assert after - before == set(), f"threads leaked: {after - before}"


# ---------------------------------------------------------------------------------------
# 1. Host without threads, dict registration, state lifecycle
# ---------------------------------------------------------------------------------------


def test_threadless_host_register_assert_get_delete_state():
    log: list = []
    name = "pin01_lifecycle"
    definition = {
        name: {
            "seen": {"all": [{"m": {"t": "account"}}], "pri": 0, "run": recorder(log, "seen")},
        }
    }
    threads_before = set(threading.enumerate())
    host = ThreadlessHost()
    assert host.register_rulesets(definition) == [name]

    # host.assert_fact runs every action synchronously and returns the state dict.
    state = host.assert_fact(name, {"sid": "acct-1", "t": "account", "arr": 10})
    assert log == ["seen"]
    assert state == {"sid": "acct-1", "id": "sid-acct-1", "$s": 1}
    # equivalent low-level handle: host.get_ruleset(name) -> durable.engine.Ruleset
    assert isinstance(host.get_ruleset(name), de.Ruleset)
    assert host.get_state(name, "acct-1") == state
    assert host.get_facts(name, "acct-1") == [{"sid": "acct-1", "t": "account", "arr": 10}]

    host.delete_state(name, "acct-1")
    with pytest.raises(EngineError) as err:
        host.get_state(name, "acct-1")
    assert str(err.value) == "Could not get state, error code: 309"  # ERR_SID_NOT_FOUND
    with pytest.raises(EngineError, match="Could not delete state, error code: 309"):
        host.delete_state(name, "acct-1")  # deleting twice / unknown sid raises

    # the sid is reusable and starts empty
    host.assert_fact(name, {"sid": "acct-1", "t": "account", "arr": 10})
    assert log == ["seen", "seen"]
    host.delete_state(name, "acct-1")

    # sid is stringified; no sid means sid "0"
    host.assert_fact(name, {"sid": 5, "t": "account"})
    assert host.get_state(name, "5")["sid"] == "5"
    host.delete_state(name, 5)
    host.assert_fact(name, {"t": "account"})
    assert host.get_state(name, None)["sid"] == "0"
    host.delete_state(name, None)

    assert set(threading.enumerate()) == threads_before  # the host started no thread


def test_registration_errors():
    name = "pin01_regerr"
    host = make_host(name, {"r": {"all": [{"m": {"t": "a"}}], "run": lambda c: None}})
    with pytest.raises(Exception) as err:
        host.register_rulesets({name: {"r": {"all": [{"m": {"t": "a"}}], "run": lambda c: None}}})
    assert type(err.value) is Exception
    assert str(err.value) == f"Ruleset with name {name} already registered"
    with pytest.raises(Exception, match="Ruleset with name pin01_nosuch not found"):
        host.assert_fact("pin01_nosuch", {"t": "a"})
    # a second host may register the same name: the name is not global in the C engine
    other = make_host(name, {"r": {"all": [{"m": {"t": "a"}}], "run": lambda c: None}})
    other.assert_fact(name, {"sid": "x", "t": "a"})
    other.delete_state(name, "x")
    # actions must take exactly 1 (sync) or 2 (async) positional parameters
    with pytest.raises(Exception, match="Invalid function signature"):
        ThreadlessHost().register_rulesets(
            {"pin01_badsig": {"r": {"all": [{"m": {"t": "a"}}], "run": lambda c, x, y: None}}}
        )


def test_default_host_would_start_two_timer_threads(monkeypatch):
    """Why the subclass is needed: Host.__init__ -> _run() -> two threading.Timer threads."""
    created = []

    class FakeTimer:
        def __init__(self, interval, function, args=None):
            created.append(interval)
            self.daemon = False

        def start(self):
            pass

    monkeypatch.setattr(de.threading, "Timer", FakeTimer)
    de.Host()
    assert created == [0.1, 0.1]  # dispatch_ruleset + dispatch_timers, rescheduling forever
    created.clear()
    ThreadlessHost()
    assert created == []


# ---------------------------------------------------------------------------------------
# 2. Facts vs events
# ---------------------------------------------------------------------------------------


def test_fact_fires_every_matching_rule_event_only_the_first():
    log: list = []
    name = "pin02_fact_event"
    host = make_host(
        name,
        {
            "r1": {"all": [{"m": {"t": "a"}}], "pri": 1, "run": recorder(log, "r1")},
            "r2": {"all": [{"m": {"t": "a"}}], "pri": 2, "run": recorder(log, "r2")},
        },
    )
    host.assert_fact(name, {"sid": "f", "t": "a"})
    assert log == ["r1", "r2"]
    assert host.get_facts(name, "f") == [{"sid": "f", "t": "a"}]

    log.clear()
    host.post(name, {"sid": "e", "t": "a"})
    assert log == ["r1"]  # the event is consumed by the first (lowest pri) rule
    assert host.get_facts(name, "e") == []
    for sid in ("f", "e"):
        host.delete_state(name, sid)


# ---------------------------------------------------------------------------------------
# 3. Duplicates / reserved `id`
# ---------------------------------------------------------------------------------------


def test_same_id_different_content_raises_message_observed():
    log: list = []
    name = "pin03_same_id"
    host = make_host(name, {"r": {"all": [{"m": {"t": "a"}}], "run": recorder(log, "r")}})
    host.assert_fact(name, {"sid": "x", "t": "a", "id": 7, "v": 1})
    with pytest.raises(MessageObservedException) as err:
        host.assert_fact(name, {"sid": "x", "t": "a", "id": 7, "v": 2})
    exc = err.value
    assert (
        type(exc).__module__ + "." + type(exc).__qualname__
        == "durable.engine.MessageObservedException"
    )
    assert (
        exc.message == 'Message has already been observed: {"sid": "x", "t": "a", "id": 7, "v": 2}'
    )
    assert exc.args == ({"sid": "x", "t": "a", "id": 7, "v": 2},)  # str(exc) is the dict repr
    # the id is compared as text: 7 and "7" are the same id
    with pytest.raises(MessageObservedException):
        host.assert_fact(name, {"sid": "x", "t": "a", "id": "7", "v": 3})
    # ids are per state: the same id in another sid is fine
    host.assert_fact(name, {"sid": "y", "t": "a", "id": 7, "v": 1})
    assert log == ["r", "r"]
    assert host.get_facts(name, "x") == [{"sid": "x", "t": "a", "id": 7, "v": 1}]
    # retracting frees the id again
    host.retract_fact(name, {"sid": "x", "t": "a", "id": 7, "v": 1})
    host.assert_fact(name, {"sid": "x", "t": "a", "id": 7, "v": 1})
    assert log == ["r", "r", "r"]
    for sid in ("x", "y"):
        host.delete_state(name, sid)


def test_same_content_duplicate_raises_message_observed():
    name = "pin03_same_content"
    host = make_host(name, {"r": {"all": [{"m": {"t": "a"}}], "run": lambda c: None}})
    host.assert_fact(name, {"sid": "x", "t": "a", "v": 1})
    with pytest.raises(MessageObservedException) as err:
        host.assert_fact(name, {"sid": "x", "t": "a", "v": 1})
    assert err.value.message == 'Message has already been observed: {"sid": "x", "t": "a", "v": 1}'
    host.delete_state(name, "x")


def test_duplicate_inside_action_is_caught_into_state_rest_of_action_skipped():
    """c.assert_fact raises MessageObservedException inside the action; Promise.run catches
    it (BaseException) into state['exception']; the remainder of THAT action is skipped, but
    facts it already asserted and other pending activations still fire."""
    log: list = []
    name = "pin03_dup_in_action"

    def derive(c):
        log.append("derive:start")
        c.assert_fact({"t": "derived", "k": 1})
        log.append("derive:after-first")
        c.assert_fact({"t": "derived", "k": 1})  # duplicate -> raises here
        log.append("derive:never")

    host = make_host(
        name,
        {
            "derive": {"all": [{"m": {"t": "acct"}}], "pri": 1, "run": derive},
            "on_derived": {
                "all": [{"m": {"t": "derived"}}],
                "pri": 2,
                "run": recorder(log, "on_derived"),
            },
            "later": {"all": [{"m": {"t": "acct"}}], "pri": 3, "run": recorder(log, "later")},
        },
    )
    state = host.assert_fact(name, {"sid": "x", "t": "acct"})  # returns normally
    assert log == ["derive:start", "derive:after-first", "on_derived", "later"]
    # The recorded text does NOT name the exception class: str(MessageObservedException) is the
    # fact's dict repr.
    assert state["exception"].startswith(
        "exception caught {'t': 'derived', 'k': 1, 'sid': 'x'}, traceback ["
    )
    assert "MessageObservedException" in state["exception"]  # only via the traceback text
    host.delete_state(name, "x")


def test_unhandled_fact_inside_action_is_also_swallowed():
    log: list = []
    name = "pin03_unhandled_in_action"

    def derive(c):
        c.assert_fact({"t": "nobody_listens"})
        log.append("never")

    host = make_host(
        name,
        {
            "derive": {"all": [{"m": {"t": "acct"}}], "pri": 1, "run": derive},
            "later": {"all": [{"m": {"t": "acct"}}], "pri": 2, "run": recorder(log, "later")},
        },
    )
    state = host.assert_fact(name, {"sid": "x", "t": "acct"})
    assert log == ["later"]
    assert state["exception"].startswith(
        "exception caught {'t': 'nobody_listens', 'sid': 'x'}, traceback"
    )
    assert "MessageNotHandledException" in state["exception"]
    host.delete_state(name, "x")


def test_closure_assert_fact_mutates_its_argument():
    seen: list = []
    name = "pin03_closure_mutates"

    def derive(c):
        d = {"t": "b"}
        c.assert_fact(d)
        seen.append(d)

    host = make_host(
        name,
        {
            "derive": {"all": [{"m": {"t": "a"}}], "run": derive},
            "b": {"all": [{"m": {"t": "b"}}], "run": lambda c: None},
        },
    )
    top = {"sid": "s", "t": "a"}
    host.assert_fact(name, top)
    assert top == {"sid": "s", "t": "a"}
    assert seen == [{"t": "b", "sid": "s"}]  # c.assert_fact adds 'sid' to the dict you pass
    host.delete_state(name, "s")


# ---------------------------------------------------------------------------------------
# 4. Unmatched fact
# ---------------------------------------------------------------------------------------


def test_unmatched_fact_raises_not_handled_and_is_not_stored():
    log: list = []
    name = "pin04_unmatched"
    host = make_host(name, {"r": {"all": [{"m": {"t": "a"}}], "run": recorder(log, "r")}})
    host.assert_fact(name, {"sid": "x", "t": "a"})
    with pytest.raises(MessageNotHandledException) as err:
        host.assert_fact(name, {"sid": "x", "t": "zzz"})
    exc = err.value
    assert (
        type(exc).__module__ + "." + type(exc).__qualname__
        == "durable.engine.MessageNotHandledException"
    )
    assert exc.message == 'Could not handle message: {"sid": "x", "t": "zzz"}'
    assert exc.args == ({"sid": "x", "t": "zzz"},)
    assert host.get_facts(name, "x") == [{"sid": "x", "t": "a"}]
    assert not issubclass(MessageNotHandledException, MessageObservedException)
    assert not issubclass(MessageObservedException, MessageNotHandledException)
    host.delete_state(name, "x")  # safe: an action has fired in this state


def test_unmatched_fact_on_fresh_sid_still_creates_the_state():
    name = "pin04_unmatched_fresh"
    host = make_host(
        name,
        {
            "r": {"all": [{"m": {"t": "a"}}], "run": lambda c: None},
        },
    )
    with pytest.raises(MessageNotHandledException):
        host.assert_fact(name, {"sid": "fresh", "t": "zzz"})
    assert host.get_state(name, "fresh") == {"sid": "fresh", "id": "sid-fresh", "$s": 1}
    assert host.get_facts(name, "fresh") == []
    # Do NOT delete_state here in-process: see test_delete_state_segfaults_when_no_action_ran.
    # Make it safe by letting one action fire in it, then delete.
    host.assert_fact(name, {"sid": "fresh", "t": "a"})
    host.delete_state(name, "fresh")


def test_unhandled_fact_in_a_batch_skips_all_actions_of_the_batch():
    log: list = []
    name = "pin04_batch"
    host = make_host(name, {"r": {"all": [{"m": {"t": "a"}}], "run": lambda c: log.append(c.m.k)}})
    with pytest.raises(MessageNotHandledException):
        host.assert_facts(name, [{"sid": "q", "t": "a", "k": 1}, {"sid": "q", "t": "zz", "k": 2}])
    assert log == []  # the handled fact is stored but its action did not run ...
    assert host.get_facts(name, "q") == [{"sid": "q", "t": "a", "k": 1}]
    host.assert_fact(name, {"sid": "q", "t": "a", "k": 5})
    assert sorted(log) == [1, 5]  # ... until the next assert into the same state
    host.delete_state(name, "q")


_SEGV_CHILD = textwrap.dedent(
    """
    import sys
    import durable.engine as de

    class ThreadlessHost(de.Host):
        def _run(self):
            pass

    mode = sys.argv[1]
    rules = {
        "a": {"all": [{"m": {"t": "a"}}], "run": lambda c: None},
        "join": {"all": [{"m": {"t": "b"}}, {"n": {"t": "c"}}], "run": lambda c: None},
    }
    if mode == "seeded":
        rules["seen"] = {"all": [{"m": {"t": "b"}}], "run": lambda c: None}
    host = ThreadlessHost()
    host.register_rulesets({"pin04_segv": rules})
    if mode == "unhandled":
        try:
            host.assert_fact("pin04_segv", {"sid": "s", "t": "zzz"})
        except de.MessageNotHandledException:
            pass
    else:  # stored in a partial join, no action fires unless "seeded"
        host.assert_fact("pin04_segv", {"sid": "s", "t": "b"})
    host.delete_state("pin04_segv", "s")
    print("deleted", flush=True)
    """
)


def _no_core():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="uses glibc MALLOC_PERTURB_")
@pytest.mark.parametrize(
    "mode, perturb, crashes",
    [
        ("unhandled", "165", True),
        ("partial_join", "165", True),
        ("seeded", "165", False),
        # fill byte 255 ^ 0xff == 0: the uninitialised pointers are NULL, free(NULL) is a no-op
        ("unhandled", "255", False),
    ],
)
def test_delete_state_segfaults_when_no_action_ran(mode, perturb, crashes):
    """createStateNode() never initialises node->context; deleteStateNode() frees
    context.messages/stateFact if non-NULL. If no action has run in the state (only unhandled
    facts, or facts parked in a partial join) delete_state frees uninitialised memory:
    undefined behaviour. Seen as SIGSEGV on every run with Python 3.11 here; 3.12 happened to
    get zeroed memory and survived. MALLOC_PERTURB_ makes glibc fill new allocations so the
    outcome is the same everywhere. Remedy: a catch-all rule on the account's first fact so
    an action always runs before delete_state (or never delete such a state)."""
    proc = subprocess.run(
        [sys.executable, "-c", _SEGV_CHILD, mode],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "MALLOC_PERTURB_": perturb},
        preexec_fn=_no_core,
    )
    if crashes:
        assert proc.returncode == -signal.SIGSEGV, (proc.returncode, proc.stdout, proc.stderr)
        assert "deleted" not in proc.stdout
    else:
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == "deleted"


# ---------------------------------------------------------------------------------------
# 5. Exceptions raised inside actions
# ---------------------------------------------------------------------------------------


def test_action_exception_lands_in_state_and_assert_returns_normally():
    log: list = []
    name = "pin05_action_exc"

    def boom(c):
        log.append("boom")
        err = ValueError("bad value 42")
        raise err

    host = make_host(
        name,
        {
            "boom": {"all": [{"m": {"t": "a"}}], "pri": 1, "run": boom},
            "after": {"all": [{"m": {"t": "a"}}], "pri": 2, "run": recorder(log, "after")},
            "on_b": {"all": [{"m": {"t": "b"}}], "run": recorder(log, "on_b")},
        },
    )
    state = host.assert_fact(name, {"sid": "x", "t": "a"})  # no exception propagates
    assert log == ["boom", "after"]  # later rules still fire
    exc_text = state["exception"]
    assert exc_text.startswith("exception caught bad value 42, traceback [")
    assert "ValueError" not in exc_text  # only str(error) + traceback frames, no class name
    assert "in boom" in exc_text

    # It is sticky: still in the state on the next, unrelated, assert.
    state2 = host.assert_fact(name, {"sid": "x", "t": "b"})
    assert state2["exception"] == exc_text
    assert host.get_state(name, "x")["exception"] == exc_text

    # update_state replaces the state document: this clears it.
    st = host.get_state(name, "x")
    del st["exception"]
    host.update_state(name, st)
    assert "exception" not in host.get_state(name, "x")
    host.delete_state(name, "x")


def test_action_arity_decides_sync_or_async():
    """Promise counts co_argcount, defaults included: `def act(c, k=1)` is treated as an async
    action and receives the completion callback as `k`. Use closures, never default args."""
    got: list = []
    name = "pin05_arity"

    def act(c, k=1):
        got.append(k)
        k(None)  # async actions must call the callback or the state stays locked

    host = make_host(name, {"r": {"all": [{"m": {"t": "a"}}], "run": act}})
    host.assert_fact(name, {"sid": "x", "t": "a"})
    assert len(got) == 1 and callable(got[0])
    host.delete_state(name, "x")


def test_assert_returns_state_only_if_an_action_ran():
    name = "pin05_return"
    host = make_host(
        name, {"r": {"all": [{"m": {"t": "a"}}, {"n": {"t": "b"}}], "run": lambda c: None}}
    )
    assert host.assert_fact(name, {"sid": "x", "t": "a"}) is None  # stored, nothing fired
    assert host.assert_fact(name, {"sid": "x", "t": "b"}) == {"sid": "x", "id": "sid-x", "$s": 1}
    host.delete_state(name, "x")


def test_utcfromtimestamp_deprecation():
    """Every action builds a Closure, which calls _unix_now() -> datetime.utcfromtimestamp().
    On 3.12+ that is a DeprecationWarning: under filterwarnings=error host.assert_fact raises
    it instead of running actions. The module-level pytestmark ignores exactly this warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        de._unix_now()
    deprecations = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert bool(deprecations) == (sys.version_info >= (3, 12))


def test_engine_errors_are_durable_rules_engine_error():
    assert EngineError.__module__ == "durable_rules_engine"
    assert EngineError.__mro__[1] is Exception
    for cls in (MessageNotHandledException, MessageObservedException):
        assert not issubclass(cls, EngineError) and not issubclass(EngineError, cls)


# ---------------------------------------------------------------------------------------
# 6. Forward chaining, priorities, joins
# ---------------------------------------------------------------------------------------


def test_forward_chaining_three_steps_in_pri_order():
    log: list = []
    name = "pin06_chain"
    host = make_host(
        name,
        {
            # listed in reverse to show that order comes from pri, not from definition order
            "step3": {"all": [{"m": {"t": "s2"}}], "pri": 3, "run": recorder(log, "step3")},
            "step2": {
                "all": [{"m": {"t": "s1"}}],
                "pri": 2,
                "run": recorder(
                    log, "step2", lambda c: c.assert_fact({"t": "s2", "acct": c.m.acct})
                ),
            },
            "step1": {
                "all": [{"m": {"t": "acct"}}],
                "pri": 1,
                "run": recorder(
                    log, "step1", lambda c: c.assert_fact({"t": "s1", "acct": c.m.acct})
                ),
            },
        },
    )
    host.assert_fact(name, {"sid": "x", "t": "acct", "acct": "A"})
    assert log == ["step1", "step2", "step3"]
    assert {f["t"] for f in host.get_facts(name, "x")} == {"acct", "s1", "s2"}
    host.delete_state(name, "x")


def test_agenda_is_reordered_after_each_action():
    """A fact derived by an action can fire a rule ahead of already pending activations."""
    log: list = []
    name = "pin06_agenda"
    host = make_host(
        name,
        {
            "first": {
                "all": [{"m": {"t": "acct"}}],
                "pri": 1,
                "run": recorder(log, "first", lambda c: c.assert_fact({"t": "derived"})),
            },
            "late": {"all": [{"m": {"t": "acct"}}], "pri": 10, "run": recorder(log, "late")},
            "on_derived": {
                "all": [{"m": {"t": "derived"}}],
                "pri": 5,
                "run": recorder(log, "on_derived"),
            },
        },
    )
    host.assert_fact(name, {"sid": "x", "t": "acct"})
    assert log == ["first", "on_derived", "late"]
    host.delete_state(name, "x")


def test_pri_lower_first_ties_in_definition_order_unsigned_16_bit():
    log: list = []
    name = "pin06_pri"
    match = [{"m": {"t": "acct"}}]
    host = make_host(
        name,
        {
            "nopri": {"all": match, "run": recorder(log, "nopri")},  # default pri 0
            "wrap": {"all": match, "pri": 65536, "run": recorder(log, "wrap")},  # wraps to 0
            "p1": {"all": match, "pri": 1, "run": recorder(log, "p1")},
            "tie_b": {"all": match, "pri": 5, "run": recorder(log, "tie_b")},
            "tie_a": {"all": match, "pri": 5, "run": recorder(log, "tie_a")},
            "neg": {"all": match, "pri": -1, "run": recorder(log, "neg")},  # becomes 65535
            "max": {"all": match, "pri": 65535, "run": recorder(log, "max")},
        },
    )
    host.assert_fact(name, {"sid": "x", "t": "acct"})
    assert log == ["nopri", "wrap", "p1", "tie_b", "tie_a", "neg", "max"]
    host.delete_state(name, "x")


def _join_host(name, b_pattern, log):
    host = make_host(
        name,
        {
            "cell": {
                "all": [{"a": {"t": "arr_band"}}, {"b": b_pattern}],
                "run": lambda c: log.append((c.a.acct, c.b.acct)),
            }
        },
    )
    for f in (
        {"t": "arr_band", "acct": "A"},
        {"t": "arr_band", "acct": "B"},
        {"t": "sv_band", "acct": "A", "band": "HIGH"},
        {"t": "sv_band", "acct": "B", "band": "LOW"},
    ):
        host.assert_fact(name, dict(f, sid="s"))
    host.delete_state(name, "s")
    return sorted(log)


def test_cross_fact_join_by_reference():
    # {"acct": {"a": "acct"}} means: this fact's acct == acct of the fact bound to alias "a"
    # (what lang.py emits for `m.acct == a.acct`).
    joined = _join_host("pin06_join", {"$and": [{"t": "sv_band"}, {"acct": {"a": "acct"}}]}, [])
    assert joined == [("A", "A"), ("B", "B")]
    unjoined = _join_host("pin06_nojoin", {"t": "sv_band"}, [])
    assert unjoined == [("A", "A"), ("A", "B"), ("B", "A"), ("B", "B")]


def test_join_after_or_in_same_and_is_silently_ignored():
    or_first = {
        "$and": [
            {"$or": [{"band": "HIGH"}, {"band": "LOW"}]},
            {"t": "sv_band"},
            {"acct": {"a": "acct"}},
        ]
    }
    join_first = {
        "$and": [
            {"acct": {"a": "acct"}},
            {"t": "sv_band"},
            {"$or": [{"band": "HIGH"}, {"band": "LOW"}]},
        ]
    }
    assert _join_host("pin06_or_first", or_first, []) == [
        ("A", "A"),
        ("A", "B"),
        ("B", "A"),
        ("B", "B"),
    ]
    assert _join_host("pin06_join_first", join_first, []) == [("A", "A"), ("B", "B")]


# ---------------------------------------------------------------------------------------
# 7. Value types
# ---------------------------------------------------------------------------------------


_seq = itertools.count()


def _fired_for(host, name, sid, fact, log):
    log.clear()
    # a fresh "n" keeps every fact distinct (50 and "50" would otherwise be duplicates)
    host.assert_fact(name, dict(fact, sid=sid, t="v", n=next(_seq)))
    return sorted(set(log) - {"catch"})


def test_value_types_strings_numbers_bools_nulls():
    log: list = []
    name = "pin07_types"

    def cond(*terms):
        return {"all": [{"m": {"$and": [{"t": "v"}, *terms]}}]}

    rules = {
        "catch": dict(cond(), run=recorder(log, "catch")),  # keeps every fact handled
        "gt100": dict(cond({"$gt": {"x": 100}}), run=recorder(log, "gt100")),
        "eq_true": dict(cond({"flag": True}), run=recorder(log, "eq_true")),
        "eq_false": dict(cond({"flag": False}), run=recorder(log, "eq_false")),
        "eq_null": dict(cond({"flag": None}), run=recorder(log, "eq_null")),
        "ex_flag": dict(cond({"$ex": {"flag": 1}}), run=recorder(log, "ex_flag")),
        "nex_flag": dict(cond({"$nex": {"flag": 1}}), run=recorder(log, "nex_flag")),
        "eq_str5": dict(cond({"y": "5"}), run=recorder(log, "eq_str5")),
        "eq_num5": dict(cond({"y": 5}), run=recorder(log, "eq_num5")),
    }
    host = make_host(name, rules)

    def fired(fact):
        return _fired_for(host, name, "s", fact, log)

    # number vs number: numeric
    assert fired({"x": 150}) == ["gt100", "nex_flag"]
    assert fired({"x": 50}) == ["nex_flag"]
    # string field vs number condition: compared as text
    assert fired({"x": "50"}) == ["gt100", "nex_flag"]  # "50" > "100"
    assert fired({"x": "99"}) == ["gt100", "nex_flag"]
    assert fired({"x": "abc"}) == ["gt100", "nex_flag"]
    # equality between "5" and 5 matches both ways; 5.0 only equals the number
    assert fired({"y": 5}) == ["eq_num5", "eq_str5", "nex_flag"]
    assert fired({"y": "5"}) == ["eq_num5", "eq_str5", "nex_flag"]
    assert fired({"y": 5.0}) == ["eq_num5", "nex_flag"]
    # bools are loose: 1 and "true" equal True, 0 equals False
    assert fired({"flag": True}) == ["eq_true", "ex_flag"]
    assert fired({"flag": 1}) == ["eq_true", "ex_flag"]
    assert fired({"flag": "true"}) == ["eq_true", "ex_flag"]
    assert fired({"flag": False}) == ["eq_false", "ex_flag"]
    assert fired({"flag": 0}) == ["eq_false", "ex_flag"]
    # null: equals None, and counts as EXISTING for $ex/$nex
    assert fired({"flag": None}) == ["eq_null", "ex_flag"]
    assert fired({"other": 1}) == ["nex_flag"]
    host.delete_state(name, "s")


def test_number_and_numeric_string_are_the_same_fact():
    name = "pin07_dup_text"
    host = make_host(name, {"r": {"all": [{"m": {"t": "v"}}], "run": lambda c: None}})
    host.assert_fact(name, {"sid": "s", "t": "v", "x": 50})
    with pytest.raises(MessageObservedException):
        host.assert_fact(name, {"sid": "s", "t": "v", "x": "50"})
    host.delete_state(name, "s")


def test_float_serialisation_traps():
    """json.dumps floats whose repr is exponent notation with no '.' in the mantissa
    (1e-05, 2e-05, 1e+16) -> error 204; inf -> 202; nan is accepted and matches nothing."""
    log: list = []
    name = "pin07_floats"
    host = make_host(
        name,
        {
            "catch": {"all": [{"m": {"t": "v"}}], "run": recorder(log, "catch")},
            "tiny": {
                "all": [{"m": {"$and": [{"t": "v"}, {"$lt": {"x": 0.001}}, {"$gt": {"x": 0}}]}}],
                "run": recorder(log, "tiny"),
            },
            "big": {
                "all": [{"m": {"$and": [{"t": "v"}, {"$gt": {"x": 1000000}}]}}],
                "run": recorder(log, "big"),
            },
        },
    )
    for bad in (1e-05, 2e-05, -1e-05, 1e16, 1e20):
        with pytest.raises(EngineError) as err:
            host.assert_fact(name, {"sid": "s", "t": "v", "x": bad})
        assert str(err.value) == "Could not assert fact, error code: 204", bad
    with pytest.raises(EngineError, match=r"^Could not assert fact, error code: 202$"):
        host.assert_fact(name, {"sid": "s", "t": "v", "x": float("inf")})

    def fired(x):
        return _fired_for(host, name, "s", {"x": x}, log)

    assert fired(1.5e-05) == ["tiny"]  # has a '.', parses
    assert fired(1.23e-07) == ["tiny"]
    assert fired(1.5e20) == ["big"]
    assert fired(2**64) == ["big"]
    assert fired(float("nan")) == []

    # a safe normaliser: round to 4 dp (no exponent below 1e-4 survives), ints for huge values
    def normalise(x: float):
        if abs(x) >= 1e15:
            return int(x)
        return round(x, 4)

    for x in (1e-05, 2e-05, 3e-05, 7e-05, 1e16, 1e20, 0.00015, 123.456789):
        assert "e" not in json.dumps(normalise(x))
        fired(normalise(x))  # no exception
    host.delete_state(name, "s")


# ---------------------------------------------------------------------------------------
# 8. Many sequential states + throughput
# ---------------------------------------------------------------------------------------


def _chain_action(counts: dict, nxt: int, n_rules: int):
    def act(c):  # exactly one parameter: see test_action_arity_decides_sync_or_async
        counts["fired"] += 1
        if nxt < n_rules:
            c.assert_fact({"t": f"step{nxt}", "acct": c.m.acct})

    return act


def test_2000_sequential_sids_with_delete_state_and_throughput():
    name = "pin08_bulk"
    n_rules = 10
    counts = {"fired": 0}
    rules = {}
    for i in range(n_rules):
        pattern = {"t": f"step{i}"}
        if i == 0:
            pattern = {"$and": [pattern, {"$gte": {"arr": 0}}]}
        rules[f"r{i:02d}"] = {
            "all": [{"m": pattern}],
            "pri": i,
            "run": _chain_action(counts, i + 1, n_rules),
        }
    host = make_host(name, rules)

    n_accounts = 2000
    t0 = time.perf_counter()
    for k in range(n_accounts):
        sid = f"acct-{k}"
        state = host.assert_fact(name, {"sid": sid, "t": "step0", "acct": sid, "arr": k})
        assert "exception" not in state
        host.delete_state(name, sid)
    elapsed = time.perf_counter() - t0
    assert counts["fired"] == n_accounts * n_rules
    rate = n_accounts / elapsed
    print(
        f"\n[durable-rules pin] {n_accounts} accounts x {n_rules}-rule chain: "
        f"{elapsed:.2f}s = {rate:,.0f} accounts/s, {rate * n_rules:,.0f} firings/s"
    )


# ---------------------------------------------------------------------------------------
# 9. $not
# ---------------------------------------------------------------------------------------


def test_not_is_checked_when_the_activation_is_created():
    log: list = []
    name = "pin09_not"

    def set_flag(c):
        log.append("set_flag")
        c.assert_fact({"t": "flag"})

    no_flag = {
        "all": [{"m": {"t": "acct"}}, {"f$not": {"t": "flag"}}],
        "pri": 5,
        "run": recorder(log, "no_flag"),
    }
    host = make_host(
        name,
        {
            "set_flag": {
                "all": [{"m": {"$and": [{"t": "acct"}, {"risky": True}]}}],
                "pri": 1,
                "run": set_flag,
            },
            "no_flag": no_flag,
            "seen": {"all": [{"m": {"t": "acct"}}], "pri": 9, "run": recorder(log, "seen")},
        },
    )
    # flag asserted by a higher-priority rule AFTER the no_flag activation was created:
    # no_flag still fires.
    host.assert_fact(name, {"sid": "late", "t": "acct", "risky": True})
    assert log == ["set_flag", "no_flag", "seen"]

    # flag present BEFORE the account fact: the negation holds, no_flag does not fire.
    log.clear()
    assert host.assert_fact(name, {"sid": "early", "t": "flag"}) is None  # stored, no action ran
    host.assert_fact(name, {"sid": "early", "t": "acct", "risky": False})
    assert log == ["seen"]

    # a flag arriving after no_flag fired does not undo anything either
    log.clear()
    host.assert_fact(name, {"sid": "after", "t": "acct", "risky": False})
    assert log == ["no_flag", "seen"]
    assert host.assert_fact(name, {"sid": "after", "t": "flag"}) is None
    assert log == ["no_flag", "seen"]
    for sid in ("late", "early", "after"):
        host.delete_state(name, sid)  # safe: "seen" fired in each


def test_not_gated_on_a_phase_fact_sees_late_flags():
    log: list = []
    name = "pin09_not_phase"

    def set_flag(c):
        log.append("set_flag")
        c.assert_fact({"t": "flag", "acct": c.m.acct})

    def open_final_phase(c):
        log.append("phase")
        c.assert_fact({"t": "phase", "p": "final", "acct": c.m.acct})

    host = make_host(
        name,
        {
            "set_flag": {
                "all": [{"m": {"$and": [{"t": "acct"}, {"$gt": {"risk": 5}}]}}],
                "pri": 1,
                "run": set_flag,
            },
            "phase": {"all": [{"m": {"t": "acct"}}], "pri": 100, "run": open_final_phase},
            "no_flag": {
                "all": [
                    {"ph": {"$and": [{"t": "phase"}, {"p": "final"}]}},
                    {"f$not": {"$and": [{"t": "flag"}, {"acct": {"ph": "acct"}}]}},
                ],
                "pri": 200,
                "run": recorder(log, "no_flag"),
            },
        },
    )
    host.assert_fact(name, {"sid": "risky", "t": "acct", "acct": "R", "risk": 9})
    assert log == ["set_flag", "phase"]
    log.clear()
    host.assert_fact(name, {"sid": "calm", "t": "acct", "acct": "C", "risk": 1})
    assert log == ["phase", "no_flag"]
    host.delete_state(name, "risky")
    host.delete_state(name, "calm")


# ---------------------------------------------------------------------------------------
# 10. Registration mutates the definition
# ---------------------------------------------------------------------------------------


def copy_definition(obj):
    """Structural copy: new dicts/lists, leaves (incl. callables) shared as-is."""
    if isinstance(obj, dict):
        return {k: copy_definition(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [copy_definition(v) for v in obj]
    return obj


class _Counter:
    def __init__(self):
        self.n = 0

    def act(self, c):
        self.n += 1


def test_registration_deletes_run_pass_a_structural_copy():
    counter = _Counter()

    def fn(c):
        return None

    original = {
        "pin10_a": {
            "bound": {"all": [{"m": {"t": "a"}}], "pri": 1, "run": counter.act},
            "plain": {"all": [{"m": {"t": "b"}}], "run": fn},
        }
    }

    # passing the original: 'run' is deleted from every rule, the dict is kept by the Ruleset
    host = ThreadlessHost()
    host.register_rulesets(original)
    assert "run" not in original["pin10_a"]["bound"] and "run" not in original["pin10_a"]["plain"]
    assert host.get_ruleset("pin10_a").get_definition() is original["pin10_a"]
    # re-registering the mutated dict elsewhere fails
    with pytest.raises(KeyError, match="run"):
        ThreadlessHost().register_rulesets({"pin10_b": original["pin10_a"]})
    # json round-trip cannot copy callables
    with pytest.raises(TypeError):
        json.loads(json.dumps({"run": fn}))

    # safe: structural copy (callables shared, containers new)
    pristine = {
        "pin10_c": {
            "bound": {"all": [{"m": {"t": "a"}}], "pri": 1, "run": counter.act},
            "plain": {"all": [{"m": {"t": "b"}}], "run": fn},
        }
    }
    host2 = ThreadlessHost()
    host2.register_rulesets(copy_definition(pristine))
    assert pristine["pin10_c"]["bound"]["run"] == counter.act  # untouched
    assert pristine["pin10_c"]["plain"]["run"] is fn
    host2.assert_fact("pin10_c", {"sid": "s", "t": "a"})
    assert counter.n == 1  # the SAME bound method ran (shared, not copied)
    host2.delete_state("pin10_c", "s")

    # copy.deepcopy keeps plain functions but deep-copies a bound method's instance
    deep = copy.deepcopy(pristine)
    assert deep["pin10_c"]["plain"]["run"] is fn
    assert deep["pin10_c"]["bound"]["run"].__self__ is not counter


# ---------------------------------------------------------------------------------------
# Hash-collision pins (32-bit FNV-1a of sid / fact id)
# ---------------------------------------------------------------------------------------


def fnv1a32(s: str) -> int:
    h = 2166136261
    for b in s.encode():
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def test_colliding_sids_share_one_state():
    a, b = "A0012789", "A0249192"
    assert a != b and fnv1a32(a) == fnv1a32(b)
    log: list = []
    name = "pin11_sid_collision"
    host = make_host(
        name,
        {"r": {"all": [{"m": {"t": "acct"}}], "run": lambda c: log.append((c.s.sid, c.m.acct))}},
    )
    host.assert_fact(name, {"sid": a, "t": "acct", "acct": a})
    state_b = host.assert_fact(name, {"sid": b, "t": "acct", "acct": b})
    assert state_b["sid"] == a  # b landed in a's state
    assert log == [(a, a), (a, b)]
    assert len(host.get_facts(name, b)) == 2
    host.delete_state(name, b)  # deletes a's state too
    with pytest.raises(EngineError, match="error code: 309"):
        host.get_state(name, a)


def test_colliding_fact_ids_are_duplicates():
    a, b = "A0012789", "A0249192"
    name = "pin11_id_collision"
    host = make_host(name, {"r": {"all": [{"m": {"t": "acct"}}], "run": lambda c: None}})
    host.assert_fact(name, {"sid": "s", "t": "acct", "id": a, "n": 1})
    with pytest.raises(MessageObservedException):
        host.assert_fact(name, {"sid": "s", "t": "acct", "id": b, "n": 2})
    host.delete_state(name, "s")
