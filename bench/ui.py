"""Desktop client benchmark: cold start, memory, opening a 100,000-message conversation, and
event-loop lag while 1,000 messages/s arrive, next to a bare PySide6 window in the same run.

    python -m bench.ui [--json] [--history 100000] [--conversations 50] [--cold-runs 7]
                       [--opens 7] [--rate 1000] [--burst-seconds 5]

Everything runs on Qt's offscreen platform unless ``QT_QPA_PLATFORM`` says otherwise.

**Set-up** (not measured): one relay process (``python -m relay`` on 127.0.0.1, fresh database,
rate limiter off) and a "reader" profile with ``--conversations`` conversations: "Writer" with
``--history`` messages (bulk-inserted through the store's API, as bench/client.py does), a
real peer "Sender" (a headless :class:`SourdineClient` in this process, which has already said
hello), and the others with 20 messages each. Its keys are kept in memory (handed to the
child processes on stdin), never in the OS keyring; its settings say "company relay", so the
app uses the bench's relay instead of starting one.

**Cold start**: ``--cold-runs`` fresh processes each, alternating, of (a) a bare
``QMainWindow`` of the same size as ours and (b) our application as ``sourdine`` starts it
(``create_application``, translations, the profile opened by ``Session.start`` with the
bridge started, then the tray, title, badge and notifications installed). Time from spawning
the process to the first paint event of the main window (one clock for every process:
``perf_counter`` is CLOCK_MONOTONIC); medians. ``cold_start_vs_bare`` = app / bare. Also
``cold_ready_ms``: until the conversation list is loaded and painted.

**Memory, opening, lag**: one more fresh app process. ``open_100k_ms``: from
``MainWindow.open_conversation(Writer)`` (coming from a small conversation) until the
transcript model holds the newest page and its view has laid out and painted it; median of
``--opens``. ``rss_mb_100k``: the process's resident memory (VmRSS) right after, with the 50
conversations listed and the 100,000-message one open (``rss_mb_bare``: the bare window's).
``loop_lag_p99_ms``: a 10 ms ``QTimer`` (PreciseTimer) in the app records how late each tick
fires while Sender sends ``--rate`` messages/s for ``--burst-seconds`` through the relay, with
Sender's conversation open in the (active) window, so its transcript grows; p99 over the
burst, until the last message is shown or ``BURST_CAP`` runs out. ``loop_lag_background_*``:
the same burst while the 100,000-message conversation is on screen (Sender's messages then
raise notices: notifications, alert, counters). ``loop_lag_idle_p99_ms``: one idle second.
``burst*_received_per_s`` is the rate the app actually took them in. Set
``SOURDINE_BENCH_WATCHDOG=<seconds>`` to have a loop stuck that long dump its Python stack,
and ``SOURDINE_BENCH_CHILD_LOG=<file>`` to keep the children's stderr.

Output: ``name: value unit`` lines, or with ``--json`` one JSON object. Targets:
cold_start_vs_bare <= 2, rss_mb_100k < 250, open_100k_ms < 100, loop_lag_p99_ms < 50.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

TARGETS_MAX: Final = {"cold_start_vs_bare": 2.0}  # at most
LIMITS: Final = {"rss_mb_100k": 250.0, "open_100k_ms": 100.0, "loop_lag_p99_ms": 50.0}  # below
TICK_MS: Final = 10
SMALL_HISTORY: Final = 20  # messages in each of the other conversations
BULK: Final = 10_000  # messages per transaction when building the history
CHILD_TIMEOUT: Final = 300.0
STALL_TIMEOUT: Final = 30.0  # seconds without a new message before the burst is given up
BURST_CAP: Final = 120.0  # seconds a burst may take to arrive before it is cut short
QUIT_TIMEOUT: Final = 30.0  # seconds the measured app gets to quit once its results are in
PROFILE: Final = "reader"


# -- measurements shared by the child processes (imported lazily: the bare child loads no app
# code, so both kinds of child start from the same interpreter and the same module) ----------

def rss_mb() -> float:
    """This process's resident memory now (Linux VmRSS; elsewhere the peak from getrusage)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def progress(text: str) -> None:
    """What the bench is doing now, on stderr (stdout carries the results)."""
    print(f"[bench.ui {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def emit(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def first_paint_filter(on_paint: Any) -> Any:
    """An application-wide event filter calling ``on_paint(ns)`` at the first paint event of
    any widget inside a QMainWindow, then removing itself."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and isinstance(watched, QWidget) \
                    and isinstance(watched.window(), QMainWindow):
                now = time.perf_counter_ns()
                QApplication.instance().removeEventFilter(self)
                on_paint(now)
            return False

    watcher = FirstPaint()
    QApplication.instance().installEventFilter(watcher)
    return watcher


def child_bare() -> None:
    """A bare PySide6 main window of our window's size: spawn to first paint."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication(sys.argv[:1])
    painted: list[int] = []

    def on_paint(ns: int) -> None:
        painted.append(ns)
        app.quit()

    watcher = first_paint_filter(on_paint)
    window = QMainWindow()
    window.setWindowTitle("bare")
    em = window.fontMetrics().height()
    window.resize(62 * em, 40 * em)
    window.show()
    app.exec()
    emit({"paint_ns": painted[0], "rss_mb": rss_mb()})
    del watcher


class MemorySecretStore:
    """The profile's two secrets, handed over on stdin (a :class:`SecretStore`)."""

    kind = "memory"

    def __init__(self, secrets: Any) -> None:
        self._secrets = secrets

    def load(self) -> Any:
        return self._secrets

    def save(self, secrets: Any) -> None:
        self._secrets = secrets

    def delete(self) -> None:
        self._secrets = None


def child_app(root: Path, mode: str, opens: int, expected: int) -> None:
    """Our application on the reader profile, started as ``sourdine`` starts it."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    keys = json.loads(sys.stdin.readline())
    import qasync

    from app.adapters.keystore import AccountSecrets
    from app.adapters.preferences_file import load_preferences
    from app.config import profile_paths
    from app.ui import application
    from app.ui.i18n import install_translators

    imported = time.perf_counter_ns()
    secrets = AccountSecrets(bytes.fromhex(keys["identity"]), bytes.fromhex(keys["database"]))
    paths = profile_paths(PROFILE, root)
    app = application.create_application(sys.argv[:1])
    install_translators(app, load_preferences(paths.settings).language)
    painted: list[int] = []
    watcher = first_paint_filter(painted.append)
    session = application.Session(paths)
    # The keys come from memory, not the OS keyring: the Session has no public way to say so
    # (yet), so its cached secret store is set before it looks for one.
    session._secrets = MemorySecretStore(secrets)

    async def main() -> None:
        # What application.run_session does once the profile is open.
        if not await session.start():
            raise RuntimeError("the profile did not open")
        opened = time.perf_counter_ns()
        application.apply_appearance(app, session.preferences.appearance)
        application.install_surfaces(session)
        window = session.window
        assert window is not None
        await window.loading
        window.conversations.view.viewport().repaint()
        ready = time.perf_counter_ns()
        while not painted:
            await asyncio.sleep(0.001)
        if mode == "cold":
            await window.settle()  # what opening started (first conversation, its draft)
            emit({"paint_ns": painted[0], "ready_ns": ready, "imported_ns": imported,
                  "opened_ns": opened, "rss_mb": rss_mb()})
            return
        await measure_gui(session, opens, expected)

    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        runner.run(main())
        runner.run(session.shutdown())
    del watcher


async def measure_gui(session: Any, opens: int, expected: int) -> None:
    """Open the big conversation ``opens`` times, then follow a burst (see the docstring)."""

    window, bridge = session.window, session.bridge
    ids = {contact.display_name: contact.contact_id for contact in bridge.contacts()}
    big, sender = ids["Writer"], ids["Sender"]
    small = next(cid for name, cid in ids.items() if name not in ("Writer", "Sender"))
    await window.settle()

    timings = []
    for _ in range(opens):
        window.open_conversation(small)
        await window.settle()
        start = time.perf_counter_ns()
        window.open_conversation(big)
        loaded: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def reset(future: asyncio.Future[None] = loaded) -> None:
            if not future.done():
                future.set_result(None)

        window.transcript.modelReset.connect(reset)
        await loaded
        view = window.transcript_view
        view.executeDelayedItemsLayout()
        view.viewport().repaint()
        timings.append((time.perf_counter_ns() - start) / 1e6)
        if window.transcript.rowCount() == 0:
            raise RuntimeError("the 100,000-message conversation opened empty")
    await window.settle()
    emit({"open_ms": timings, "rss_mb": rss_mb()})

    lag = LagProbe()
    window.open_conversation(sender)
    window.activateWindow()
    await window.settle()
    lag.start()
    await asyncio.sleep(1.0)
    emit({"idle_lag_ms": lag.take(), "active_window": window.isActiveWindow()})

    received = [0]

    def added(message: Any) -> None:
        if message.conversation_id == sender and not message.outgoing:
            received[0] += 1

    bridge.messageAdded.connect(added)
    loop = asyncio.get_running_loop()
    while scenario := (await loop.run_in_executor(None, sys.stdin.readline)).strip():
        # "open": Sender's conversation is on screen (its transcript grows); "background":
        # the 100,000-message one is, and Sender's messages raise notices.
        window.open_conversation(sender if scenario == "open" else big)
        window.activateWindow()
        await window.settle()
        received[0] = 0
        lag.take()
        emit({"ready": scenario})
        start = time.monotonic()
        progress = (0, start)
        while received[0] < expected and time.monotonic() - progress[1] < STALL_TIMEOUT \
                and time.monotonic() - start < BURST_CAP:
            await asyncio.sleep(0.05)
            if received[0] != progress[0]:
                progress = (received[0], time.monotonic())
        elapsed = time.monotonic() - start
        ticks = lag.take()
        emit({"scenario": scenario, "lag_ms": ticks, "received": received[0],
              "elapsed_s": elapsed, "rss_mb": rss_mb()})
    lag.stop()
    await window.settle()


class LagProbe:
    """A 10 ms precise QTimer recording how late each tick fires (ms beyond the interval);
    with ``SOURDINE_BENCH_WATCHDOG=<seconds>`` a loop stuck that long dumps its stack."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self._ticks: list[float] = []
        self._last = time.perf_counter_ns()
        self._watchdog = float(os.environ.get("SOURDINE_BENCH_WATCHDOG", "0"))
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._last = time.perf_counter_ns()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        if self._watchdog:
            import faulthandler

            faulthandler.cancel_dump_traceback_later()

    def take(self) -> list[float]:
        """The lateness recorded since the last call."""
        ticks, self._ticks = self._ticks, []
        return ticks

    def _tick(self) -> None:
        if self._watchdog:
            import faulthandler

            faulthandler.dump_traceback_later(self._watchdog, exit=False)
        now = time.perf_counter_ns()
        self._ticks.append(max(0.0, (now - self._last) / 1e6 - TICK_MS))
        self._last = now


# -- the parent: profile, relay, sender, children --------------------------------------------

class Child:
    """One child process of this module; JSON lines from its stdout. Its stderr goes to a
    file (a pipe nobody reads while it runs would fill up and stop it)."""

    def __init__(self, *arguments: str, keys: dict[str, str] | None = None) -> None:
        environment = dict(os.environ)
        environment.setdefault("QT_QPA_PLATFORM", "offscreen")
        self._errors = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self.spawned_ns = time.perf_counter_ns()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.ui", "--child", *arguments],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._errors, text=True,
            env=environment,
        )
        assert self.process.stdin is not None
        if keys is not None:
            self.process.stdin.write(json.dumps(keys) + "\n")
            self.process.stdin.flush()

    def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.finish()
            raise RuntimeError("the child process ended early")
        record: dict[str, Any] = json.loads(line)
        return record

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def finish(self, timeout: float = CHILD_TIMEOUT, results_read: bool = False) -> None:
        """Wait for the child to end; raise with its stderr if it failed. Idempotent.

        With ``results_read``, a child still busy after ``timeout`` (an app working through
        a backlog of messages before it can quit) is killed without an error: its results
        are in.
        """
        if self._errors.closed:
            return
        try:
            self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            if results_read:
                self._errors.close()
                return
        self._errors.seek(0)
        errors = self._errors.read()
        self._errors.close()
        log = os.environ.get("SOURDINE_BENCH_CHILD_LOG")  # keep each child's stderr there
        if log:
            with open(log, "a", encoding="utf-8") as out:
                out.write(f"--- child {self.process.pid} ---\n{errors}")
        if self.process.returncode != 0:
            raise RuntimeError(f"child failed ({self.process.returncode}):\n{errors[-4000:]}")


async def build_profile(root: Path, relay_url: str, history: int, conversations: int) -> Any:
    """The reader profile (see the docstring); returns (keys for the children, Sender)."""
    import random

    from app.adapters.preferences_file import save_preferences
    from app.adapters.store import Changes, ClientStore, MessageState, NewMessage
    from app.config import profile_paths
    from app.core.address import format_address
    from app.core.client import SourdineClient
    from app.core.events import MessageReceived, PrekeysPublished
    from app.core.preferences import Preferences
    from bench.client import MemorySecrets, bodies
    from crypto.primitives import system_random
    from crypto.x3dh import Identity

    paths = profile_paths(PROFILE, root)
    secrets = MemorySecrets()
    reader = await SourdineClient.create(paths, secrets, display_name="Reader",
                                         relay_url=relay_url)
    save_preferences(paths.settings, Preferences(relay_mode="remote"))
    events = reader.subscribe()
    await reader.start()
    await events.wait_for(lambda e: isinstance(e, PrekeysPublished), CHILD_TIMEOUT)
    sender = await SourdineClient.create(profile_paths("sender", root), MemorySecrets(),
                                         display_name="Sender", relay_url=relay_url)
    sender_events = sender.subscribe()
    await sender.start()
    await sender_events.wait_for(lambda e: isinstance(e, PrekeysPublished), CHILD_TIMEOUT)
    await sender.add_contact(reader.invitation_link)
    await reader.add_contact(sender.invitation_link)
    others = []
    for n in range(conversations - 2):
        peer = Identity.generate(system_random).public
        others.append(await reader.add_contact(format_address(relay_url, peer), f"Peer {n:02d}"))
    writer = await reader.add_contact(
        format_address(relay_url, Identity.generate(system_random).public), "Writer")
    await reader.close()

    loaded = secrets.load()
    assert loaded is not None
    store = await ClientStore.open(paths.database, loaded.database_key)
    try:
        now_ms = int(time.time() * 1000) - (history + SMALL_HISTORY) * 1000 - 60_000
        batch: list[NewMessage] = []

        def message(contact_id: int, n: int, body: str) -> NewMessage:
            outgoing = n % 3 == 0
            at = now_ms + n * 1000
            return NewMessage(
                contact_id, random.randbytes(16), outgoing, body, at,
                None if outgoing else at + 50,
                MessageState.DELIVERED if outgoing else MessageState.RECEIVED,
            )

        for n, body in enumerate(bodies(history)):
            batch.append(message(writer.contact_id, n, body))
            if len(batch) == BULK:
                await store.apply(Changes(messages=batch))
                batch = []
        for other in others:
            batch.extend(message(other.contact_id, history + n, body)
                         for n, body in enumerate(bodies(SMALL_HISTORY, seed=other.contact_id)))
        await store.apply(Changes(messages=batch))
        stored = await store.count_messages(writer.contact_id)
    finally:
        await store.close()
    if stored != history:
        raise RuntimeError(f"the history holds {stored} messages, not {history}")

    # First contact now (X3DH), so the burst measures running sessions: the reader opens,
    # receives the hello, and closes again.
    reader = await SourdineClient.open(paths, secrets)
    events = reader.subscribe()
    await reader.start()
    await sender.send_text("Reader", "Hello! Numbers coming.")
    await events.wait_for(lambda e: isinstance(e, MessageReceived), CHILD_TIMEOUT)
    await reader.close()
    keys = {"identity": loaded.identity_secret.hex(), "database": loaded.database_key.hex()}
    return keys, sender


def cold_starts(root: Path, keys: dict[str, str], runs: int) -> dict[str, float]:
    bare_ms, app_ms, ready_ms, bare_rss = [], [], [], []
    import_ms, open_ms = [], []
    for _ in range(runs):
        bare = Child("bare")
        record = bare.read()
        bare.finish()
        bare_ms.append((record["paint_ns"] - bare.spawned_ns) / 1e6)
        bare_rss.append(record["rss_mb"])
        app = Child("app", str(root), "cold", "0", "0", keys=keys)
        record = app.read()
        app.finish()
        app_ms.append((record["paint_ns"] - app.spawned_ns) / 1e6)
        ready_ms.append((record["ready_ns"] - app.spawned_ns) / 1e6)
        import_ms.append((record["imported_ns"] - app.spawned_ns) / 1e6)
        open_ms.append((record["opened_ns"] - record["imported_ns"]) / 1e6)
    bare_median, app_median = statistics.median(bare_ms), statistics.median(app_ms)
    return {
        "cold_start_bare_ms": bare_median,
        "cold_start_app_ms": app_median,
        "cold_start_vs_bare": app_median / bare_median,
        "cold_ready_ms": statistics.median(ready_ms),
        "cold_app_imports_ms": statistics.median(import_ms),
        "cold_app_session_start_ms": statistics.median(open_ms),
        "rss_mb_bare": statistics.median(bare_rss),
    }


async def send_burst(sender: Any, rate: int, seconds: float, window: int = 64) -> float:
    """Sender sends ``rate`` texts a second for ``seconds`` (paced); the rate achieved."""
    count = int(rate * seconds)
    gate = asyncio.Semaphore(window)
    loop = asyncio.get_running_loop()
    start = loop.time()
    tasks = []

    async def one(n: int) -> None:
        try:
            await sender.send_text("Reader", f"Figure {n}: {n * 37 % 1000} units shipped today.")
        finally:
            gate.release()

    for n in range(count):
        delay = start + n / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        await gate.acquire()
        tasks.append(asyncio.ensure_future(one(n)))
    await asyncio.gather(*tasks)
    return count / (loop.time() - start)


async def gui_measures(root: Path, keys: dict[str, str], sender: Any,
                       settings: argparse.Namespace) -> dict[str, float]:
    expected = int(settings.rate * settings.burst_seconds)
    child = Child("app", str(root), "gui", str(settings.opens), str(expected), keys=keys)
    loop = asyncio.get_running_loop()
    progress("app started: opening the big conversation")
    opened = await loop.run_in_executor(None, child.read)
    idle = await loop.run_in_executor(None, child.read)
    results = {
        "open_100k_ms": statistics.median(opened["open_ms"]),
        "open_100k_max_ms": max(opened["open_ms"]),
        "rss_mb_100k": opened["rss_mb"],
        "loop_lag_idle_p99_ms": percentile(idle["idle_lag_ms"], 0.99),
    }
    names = {"background": "_background", "open": ""}
    for scenario in settings.scenarios.split(","):
        child.send(scenario)
        await loop.run_in_executor(None, child.read)  # ready
        progress(f"burst with the conversation {scenario}")
        sent_rate = await send_burst(sender, settings.rate, settings.burst_seconds)
        burst = await loop.run_in_executor(None, child.read)
        progress(f"burst {scenario}: {burst['received']} received in {burst['elapsed_s']:.1f} s")
        suffix = names[scenario]
        results |= {
            f"loop_lag{suffix}_p99_ms": percentile(burst["lag_ms"], 0.99),
            f"loop_lag{suffix}_p50_ms": percentile(burst["lag_ms"], 0.50),
            f"loop_lag{suffix}_max_ms": max(burst["lag_ms"], default=float("nan")),
            f"burst{suffix}_sent_per_s": sent_rate,
            f"burst{suffix}_received_per_s": burst["received"] / burst["elapsed_s"],
            f"burst{suffix}_received": float(burst["received"]),
            f"rss_mb_after_burst{suffix}": burst["rss_mb"],
        }
        if burst["received"] < expected:
            await sender.wait_outbox_empty(CHILD_TIMEOUT)  # the rest must not spill over
            await asyncio.sleep(1.0)
    child.send("")
    await loop.run_in_executor(None, lambda: child.finish(QUIT_TIMEOUT, results_read=True))
    results["window_was_active"] = bool(idle["active_window"])
    return results


async def run(settings: argparse.Namespace) -> dict[str, Any]:
    from bench.relay import ServerProcess, relay_command, relay_port

    with tempfile.TemporaryDirectory(prefix="sourdine-bench-ui-") as scratch:
        root = Path(scratch)
        relay = ServerProcess(relay_command(None, root), relay_port)
        sender = None
        try:
            url = f"ws://127.0.0.1:{relay.port}/"
            build = time.perf_counter()
            progress(f"building the profile ({settings.history} messages)")
            keys, sender = await build_profile(root, url, settings.history,
                                               settings.conversations)
            results: dict[str, Any] = {
                "history": settings.history, "conversations": settings.conversations,
                "platform": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
                "build_s": time.perf_counter() - build,
            }
            progress(f"cold starts ({settings.cold_runs} of each)")
            results |= await asyncio.get_running_loop().run_in_executor(
                None, cold_starts, root, keys, settings.cold_runs)
            results |= await gui_measures(root, keys, sender, settings)
        except BaseException:
            print("\n".join(relay.log), file=sys.stderr)
            raise
        finally:
            if sender is not None:
                await sender.close()
            relay.stop()
    results["targets_met"] = bool(
        all(results[name] <= goal for name, goal in TARGETS_MAX.items())
        and all(results.get(name, float("inf")) < limit for name, limit in LIMITS.items())
        and all(results.get(f"burst{suffix}_received") == int(settings.rate
                                                               * settings.burst_seconds)
                for suffix in ("", "_background"))
    )
    return results


UNITS = {"_ms": "ms", "_mb": "MB", "_per_s": "/s", "_s": "s"}


def report_lines(results: dict[str, Any]) -> Iterator[str]:
    for name, value in results.items():
        unit = next((u for key, u in UNITS.items() if name.endswith(key)), "")
        if name in TARGETS_MAX:
            unit = f"x (target <= {TARGETS_MAX[name]:g})"
        elif name in LIMITS:
            unit = f"{unit} (target < {LIMITS[name]:g})"
        text = f"{value:.2f}" if isinstance(value, float) else str(value)
        yield f"{name}: {text} {unit}".rstrip()


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] == ["--child"]:
        kind = arguments[1]
        if kind == "bare":
            child_bare()
        else:
            child_app(Path(arguments[2]), arguments[3], int(arguments[4]), int(arguments[5]))
        return 0
    doc = __doc__ or ""
    parser = argparse.ArgumentParser(prog="python -m bench.ui", description=doc.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--history", type=int, default=100_000,
                        help="messages in the big conversation")
    parser.add_argument("--conversations", type=int, default=50, help="conversations in all")
    parser.add_argument("--cold-runs", type=int, default=7, help="cold starts of each kind")
    parser.add_argument("--opens", type=int, default=7, help="opens of the big conversation")
    parser.add_argument("--rate", type=int, default=1000, help="messages/s in the burst")
    parser.add_argument("--burst-seconds", type=float, default=5.0, help="length of the burst")
    parser.add_argument("--scenarios", default="background,open",
                        help="bursts to run, in order: background, open")
    settings = parser.parse_args(arguments)
    if not set(settings.scenarios.split(",")) <= {"background", "open"}:
        parser.error("--scenarios takes background and/or open")
    if settings.conversations < 3:
        parser.error("--conversations must be at least 3 (Writer, Sender and one more)")
    results = asyncio.run(run(settings))
    if settings.json:
        clean = {k: None if isinstance(v, float) and v != v else v for k, v in results.items()}
        print(json.dumps(clean, allow_nan=False))
    else:
        for line in report_lines(results):
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
