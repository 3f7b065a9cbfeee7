"""`translate run --ray`: the translation step of a run on a Ray cluster (imported only with --ray).

The driver (this process) keeps everything that must be single: reading, segmenting, the store (the
only SQLite writer), deduplication, claims and resume lookups (pipeline.run). It hands ``RayTranslator``
the distinct texts still to translate; these go, with their ids, as a Ray Data dataset through an actor
pool (``ActorPoolStrategy``) of ``TranslatorActor``s, each holding one Engine, which translate and score
them. Results stream back (``iter_batches``, in no particular order: ids say which text each one is) and
pipeline.run commits every chunk as soon as all its texts are back.

Texts are sent in waves: one dataset (hence one start of the actor pool) per WAVE_TEXTS distinct texts,
so that the driver's memory stays bounded on inputs of any size; a wave starts when it is full, or as soon
as the run has to wait for one of its texts, or at the end of the input.

Models: every actor loads the model by name from its node's models directory (``translate models
pull``/``import`` there) and checks that its weights (sha256 of model.bin) are the ones the driver
records; a different model under that name is refused, naming the node. A node without the model
unpacks the copy the driver put in the object store once per run, into a cache in the node's temporary
directory. Faults: Ray Data restarts an actor that dies and retries its batch; a driver killed mid-run
is resumed by running the same command again (what it committed is kept; claims of a dead run are taken
over); an error of the cluster ends the run with one line, committed work kept.
"""
from __future__ import annotations

import json
import logging
import math
import os
import queue
import re
import shutil
import socket
import tempfile
import threading
from collections import Counter
from pathlib import Path

from . import models as model_store
from .checksums import file_sha256
from .pipeline import Result, Translator, TranslatorFailed, score_translation

WAVE_TEXTS = 100_000           # distinct texts in one dataset (one start of the actor pool)
MAX_CHUNKS_IN_FLIGHT = 512     # chunks read ahead of the commits (at most CHUNK_SEGMENTS segments each)
BATCH_TEXTS = 256              # texts per actor call on a CPU (a batch retried whole if its actor dies)
GPU_BATCH_TEXTS = 1024         # a GPU needs larger batches to be busy (untested: no GPU was available)
DEFAULT_ACTOR_THREADS = 4      # CPU threads of one actor (one engine replica) unless --threads says
INSTALL_HINT = "--ray needs Ray: pip install 'translate-arabic[ray]'"
CACHE_ENV = "TRANSLATE_RAY_CACHE"
_MISMATCH = "model mismatch on "   # start of the actors' refusal, found again in Ray's wrapped error



def connect(ray, address: str) -> None:
    """Join the Ray cluster at ``address`` ('auto': RAY_ADDRESS, else a new local one), or fail in one line."""
    try:
        ray.init(address=None if address == "auto" else address, logging_level=logging.WARNING,
                 log_to_driver=False, configure_logging=False)
    except Exception as exc:   # ConnectionError, ValueError, RuntimeError: Ray's own types vary
        raise RayUnavailable(f"--ray-address {address}: cannot connect to the Ray cluster "
                             f"({_first_line(exc)})") from None

class RayUnavailable(Exception):
    """Ray is not installed or the cluster cannot be reached; one-line message."""


def import_ray():
    try:
        import ray
        import ray.data  # noqa: F401 (the extra installs ray[data])
    except ImportError:
        raise RayUnavailable(INSTALL_HINT) from None
    return ray


def _node_name() -> str:
    import ray
    return f"{socket.gethostname()} (Ray node {ray.get_runtime_context().get_node_id()[:8]})"


def shipped_models_dir() -> Path:
    """Where a worker node keeps the models shipped from drivers (TRANSLATE_RAY_CACHE on that node)."""
    return Path(os.environ.get(CACHE_ENV) or Path(tempfile.gettempdir()) / "translate-shipped-models")


def locate_model(name: str, weights_sha256: str, shipped_ref: list) -> Path:
    """On a worker node: the directory of the run's model. The node's installed model of that name if it
    has one (refused when its weights differ from the driver's), else the driver's copy unpacked into
    this node's cache."""
    try:
        installed = next((m for m in model_store.list_models() if m.name == name), None)
    except model_store.ModelError:
        installed = None
    if installed is not None:
        found = file_sha256(installed.path / "model.bin")
        if found != weights_sha256:
            raise RuntimeError(
                f"{_MISMATCH}{_node_name()}: its model {name} ({installed.path}) has weights sha256 "
                f"{found[:12]}…, the driver's has {weights_sha256[:12]}…; install the driver's model there "
                f"(translate models pull/import) or remove it so that the driver's copy is shipped")
        return installed.path
    cache = shipped_models_dir() / f"{name}-{weights_sha256[:16]}"
    if not (cache / "model.bin").is_file():
        import ray
        files: dict[str, bytes] = ray.get(shipped_ref[0])
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=cache.name + ".", dir=cache.parent))
        for file_name, data in files.items():
            (partial / file_name).write_bytes(data)
        try:
            os.rename(partial, cache)       # atomic: another actor of this node may have unpacked it first
        except OSError:
            shutil.rmtree(partial, ignore_errors=True)
    found = file_sha256(cache / "model.bin")
    if found != weights_sha256:
        raise RuntimeError(f"{_MISMATCH}{_node_name()}: the shipped copy in {cache} has weights sha256 "
                           f"{found[:12]}…, expected {weights_sha256[:12]}…; delete {cache}")
    return cache


class TranslatorActor:
    """One Engine on a worker: translates and scores a batch of texts (a Ray Data map_batches callable)."""

    def __init__(self, name: str, weights_sha256: str, shipped_ref: list, engine_options: dict):
        from .score import prepare as prepare_scorer
        from .translate import Engine

        path = locate_model(name, weights_sha256, shipped_ref)
        info = model_store.load_model_dir(path, bundled=False)
        self.engine = Engine(info, **engine_options)
        prepare_scorer()
        self.node = _node_name()
        self.actor = f"{self.node}/{os.getpid()}"

    def __call__(self, batch: dict) -> dict:
        texts = [str(t) for t in batch["text"]]
        results = [score_translation(source, hyp) for source, hyp in zip(texts, self.engine.translate(texts))]
        return {"id": batch["id"],
                "target": [r[0] for r in results],
                "score": [float(r[1]) for r in results],
                "label": [r[2] for r in results],
                "signals": [json.dumps(r[3]) for r in results],
                "node": [self.node] * len(texts),
                "actor": [self.actor] * len(texts)}


class _RayPending:
    def __init__(self, translator: "RayTranslator", texts: list[str]):
        self.translator, self.texts = translator, texts

    def done(self) -> bool:
        return self.translator._ready(self.texts)

    def results(self) -> list[Result]:
        return self.translator._take(self.texts)


class RayTranslator(Translator):
    """Translates on a Ray cluster; see the module docstring. ``address``: "auto" (RAY_ADDRESS, else a
    new local cluster), a ``ray://`` client address or the ``host:port`` of a running cluster's head.
    ``threads``: CPU threads per actor (0: DEFAULT_ACTOR_THREADS, at most the largest node's CPUs);
    ``actors``: pool size (0: as many as the cluster's CPUs, or GPUs with device cuda, hold)."""

    max_in_flight = MAX_CHUNKS_IN_FLIGHT
    streams = True

    def __init__(self, model: model_store.ModelInfo, address: str = "auto", *, device: str = "cpu",
                 threads: int = 0, actors: int = 0, beam: int = 4, compute_type: str | None = None,
                 max_batch_tokens: int = 0, vocabulary_map: bool | None = None):
        ray = import_ray()
        self.model = model
        connect(ray, address)
        from ray.data import DataContext
        context = DataContext.get_current()
        context.enable_progress_bars = False          # the run has its own progress bar
        context.print_on_execution_start = False
        logging.getLogger("ray.data").setLevel(logging.ERROR)   # its notices would break the progress line

        nodes = [n for n in ray.nodes() if n.get("Alive")]
        cpus = [int(n["Resources"].get("CPU", 0)) for n in nodes]
        gpus = sum(int(n["Resources"].get("GPU", 0)) for n in nodes)
        if device == "cuda":
            if not gpus:
                raise RayUnavailable("--device cuda: the Ray cluster has no GPU")
            self.threads, self.gpus_per_actor = threads or 4, 1
            self.actors = actors or gpus
        else:
            self.threads = threads or min(DEFAULT_ACTOR_THREADS, max(cpus or [1]))
            self.gpus_per_actor = 0
            self.actors = actors or max(1, sum(c // self.threads for c in cpus))
        self.batch_texts = GPU_BATCH_TEXTS if device == "cuda" else BATCH_TEXTS
        # one replica per actor with all its threads in it: Ray sets OMP_NUM_THREADS to the actor's num_cpus
        self.engine_options = {"device": device, "threads": self.threads, "inter_threads": 1, "beam": beam,
                               "compute_type": compute_type, "max_batch_tokens": max_batch_tokens,
                               "vocabulary_map": vocabulary_map}
        # the driver's model, put once in the object store; only a node without the model fetches it
        files = {p.name: p.read_bytes() for p in sorted(model.path.iterdir()) if p.is_file()}
        self._shipped = ray.put(files)
        self.address = address
        self.nodes_in_cluster = len(nodes)

        self._lock = threading.Lock()
        self._results: dict[str, Result] = {}
        self._wanted: Counter[str] = Counter()     # text -> chunks waiting for it
        self._requested: set[str] = set()          # texts sent or held in the next wave
        self._held: list[str] = []                 # the next wave
        self._waves: queue.Queue = queue.Queue()
        self._error: str | None = None
        self.nodes_used: set[str] = set()
        self.actors_used: set[str] = set()
        self._runner = threading.Thread(target=self._run_waves, name="ray-waves", daemon=True)
        self._runner.start()

    def options(self) -> dict:
        """What the run records about the cluster side."""
        return {"ray": self.address, "actors": self.actors, "threads_per_actor": self.threads}

    # ------------------------------------------------------------------ driver side of pipeline.run

    def submit(self, texts: list[str]) -> _RayPending:
        with self._lock:
            for text in texts:
                self._wanted[text] += 1
                if text not in self._requested:
                    self._requested.add(text)
                    self._held.append(text)
            if len(self._held) >= WAVE_TEXTS:
                self._launch()
        return _RayPending(self, texts)

    def flush(self) -> None:
        with self._lock:
            if self._held:
                self._launch()

    def _launch(self) -> None:
        wave, self._held = self._held, []
        self._waves.put(wave)

    def _ready(self, texts: list[str]) -> bool:
        with self._lock:
            if self._error:
                raise TranslatorFailed(self._error)
            return all(t in self._results for t in texts)

    def _take(self, texts: list[str]) -> list[Result]:
        with self._lock:
            out = [self._results[t] for t in texts]
            for text in texts:                 # a text several in-flight chunks wait for is kept for them
                self._wanted[text] -= 1
                if self._wanted[text] <= 0:
                    del self._wanted[text]
                    del self._results[text]
                    self._requested.discard(text)
            return out

    def close(self) -> None:
        self._waves.put(None)

    # ------------------------------------------------------------------ the waves, in a thread

    def _run_waves(self) -> None:
        import ray
        from ray.data import ActorPoolStrategy

        while True:
            wave = self._waves.get()
            if wave is None:
                return
            try:
                batch = max(1, min(self.batch_texts, math.ceil(len(wave) / self.actors)))
                dataset = ray.data.from_items([{"id": i, "text": t} for i, t in enumerate(wave)],
                                              override_num_blocks=math.ceil(len(wave) / batch))
                translated = dataset.map_batches(
                    TranslatorActor, batch_size=batch, batch_format="numpy",
                    compute=ActorPoolStrategy(size=self.actors, max_tasks_in_flight_per_actor=1),
                    fn_constructor_kwargs={"name": self.model.name,
                                           "weights_sha256": self.model.weights_sha256,
                                           "shipped_ref": [self._shipped],     # in a list: not fetched unless needed
                                           "engine_options": self.engine_options},
                    num_cpus=self.threads, num_gpus=self.gpus_per_actor)
                for rows in translated.iter_batches(batch_size=None, batch_format="numpy"):
                    with self._lock:
                        for i, target, score, label, signals, node, actor in zip(
                                rows["id"], rows["target"], rows["score"], rows["label"], rows["signals"],
                                rows["node"], rows["actor"]):
                            self._results[wave[int(i)]] = (str(target), float(score), str(label),
                                                           json.loads(str(signals)))
                            self.nodes_used.add(str(node))
                            self.actors_used.add(str(actor))
            except BaseException as exc:   # the run stops with one line; what was committed stays
                with self._lock:
                    self._error = describe_ray_error(exc)
                return


def describe_ray_error(exc: BaseException) -> str:
    """One line for an error out of Ray: an actor's model refusal as the actor worded it, else the
    first line of Ray's message."""
    text = str(exc)
    found = re.search(re.escape(_MISMATCH) + r"[^\n]*", text)
    if found:
        return found.group(0)
    return f"Ray cluster: {type(exc).__name__}: {_first_line(exc)}"


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


# -- `translate align AR_DIR EN_DIR --ray` ------------------------------------------------------
class AlignerActor:
    """Aligns document pairs on a worker: the sentences of both sides, the bridge MT when the run has a
    model (located as for ``translate run --ray``), and the sentence alignment. The driver keeps the
    document matching, the store and the resume lookups."""

    def __init__(self, model: dict | None, shipped_ref: list, engine_options: dict):
        self.engine = None
        if model is not None:
            from .translate import Engine

            path = locate_model(model["name"], model["weights_sha256"], shipped_ref)
            self.engine = Engine(model_store.load_model_dir(path, bundled=False), **engine_options)
        self.node = _node_name()

    def align(self, index: int, ar_text: str, en_text: str, presegmented: bool) -> tuple:
        """(index, (Arabic segments, English sentences, bridge MT or None, beads) or None, error or None)."""
        from .align import AlignError, align_documents

        try:
            return index, align_documents(ar_text, en_text, presegmented, self.engine), None
        except AlignError as exc:
            return index, None, str(exc)


class RayAligner:
    """A pool of AlignerActors on a Ray cluster (``address`` as for RayTranslator); ``actors``: 0 for
    one per CPU of the cluster. At most IN_FLIGHT_PER_ACTOR pairs per actor are sent ahead, so the
    driver holds the texts of a few pairs only."""

    IN_FLIGHT_PER_ACTOR = 2

    def __init__(self, model: model_store.ModelInfo | None, address: str = "auto", *, actors: int = 0,
                 device: str = "cpu", threads: int = 1):
        ray = import_ray()
        connect(ray, address)
        cpus = sum(int(n["Resources"].get("CPU", 0)) for n in ray.nodes() if n.get("Alive"))
        self.size = actors or max(1, cpus // max(1, threads))
        shipped = None
        described = None
        if model is not None:
            shipped = ray.put({p.name: p.read_bytes() for p in sorted(model.path.iterdir()) if p.is_file()})
            described = {"name": model.name, "weights_sha256": model.weights_sha256}
        options = {"device": device, "threads": threads, "inter_threads": 1}
        remote = ray.remote(num_cpus=threads)(AlignerActor)
        self.actors = [remote.remote(described, [shipped], options) for _ in range(self.size)]
        self.address = address

    def align(self, items, presegmented: bool):
        """Results of ``AlignerActor.align`` for each (index, Arabic text, English text) of ``items``, in
        the order they finish."""
        import ray

        in_flight: list = []
        turn = 0
        try:
            for index, ar_text, en_text in items:
                while len(in_flight) >= self.IN_FLIGHT_PER_ACTOR * self.size:
                    done, in_flight = ray.wait(in_flight, num_returns=1)
                    yield ray.get(done[0])
                in_flight.append(self.actors[turn % self.size].align.remote(index, ar_text, en_text, presegmented))
                turn += 1
            while in_flight:
                done, in_flight = ray.wait(in_flight, num_returns=1)
                yield ray.get(done[0])
        except RayUnavailable:
            raise
        except Exception as exc:   # an error of the cluster: one line, what was stored stays
            raise RayUnavailable(describe_ray_error(exc)) from None
