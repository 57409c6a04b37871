"""The differential test of the whole pipeline over random sequences of uploads, shared by
tests/integration/test_upload_sequences.py (a few sequences in `make test`) and
benchmarks/fuzz_upload_sequences.py (as many as fit in N minutes).

One sequence, from one seed: versions of the same station-years (other days, other values,
emptied hours, emptied years, values on the range's edge as written), a station code reused by
another station, a station's name and site changed between years and within one, identical
bytes sent again (while pending, after export, after being superseded), pairs sent within one
second in both sha256 orders, and loads whose batches and order Snowpipe chooses freely (any
subset of what is pending, in any order, several pipe loads before one task run, S3
LastModified seconds that disagree with the order of acceptance), and load notifications
handled twice, late, after later batches' or again much later (SNS and Lambda promise no
order). Each step runs on the local pipeline (the upload service on moto, the pipe, the
task and the export on the fakesnow server) and on the model (tests/oracle.VersionModel).

After each batch every upload's status document must be what the model says (status,
rows_clean, superseded_by, export_keys, raw_key); once everything is loaded the exported CSV
(`inmet fetch`, from S3) must equal `inmet fetch --from snowflake` byte for byte and the
model's CSV, CLEAN.STATION_YEARS, STATIONS and STATION_EVENTS the model's station history, no
document may name a partition that is not in S3, and the rows_clean of the uploads must add up
to the CSV's rows. A failure names its seed: replay
it with INMET_UPLOAD_SEQUENCE_SEED=<seed> (the test) or --seed <seed> (the benchmark).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from inmet_local.synth.synth import generate_station_year, station_catalogue
from tests.oracle import ModelBatch, VersionModel
from tests.sequence_files import lines_with, variants, with_other_values
from tests.sequence_pipeline import BUCKET, Pipeline

SEED_ENV = "INMET_UPLOAD_SEQUENCE_SEED"
# Each sequence draws 2 station codes (of A001, A101, A807 and A249, equatorial) and 2 years:
# 4 station-years, so that versions meet often.
CODES = 2
YEARS = (2018, 2023, 2024)  # layout A and layout B


def replay_hint(seed: int) -> str:
    return (
        f"replay: {SEED_ENV}={seed} .venv/bin/pytest "
        "tests/integration/test_upload_sequences.py, or "
        f".venv/bin/python benchmarks/fuzz_upload_sequences.py --seed {seed}"
    )


# -- one random sequence -------------------------------------------------------------------------
@dataclass
class Outcome:
    seed: int
    uploads: int = 0  # requests to the upload service
    accepted: int = 0  # of which new acceptances (201)
    batches: int = 0
    rows: int = 0  # rows of the final CSV, each compared three ways
    superseded: int = 0  # uploads superseded at the end
    log: list[str] = field(default_factory=list)
    # How often the sequence met each case the property is about (FEATURES).
    features: Counter[str] = field(default_factory=Counter)


# The cases a sequence can meet; the bounded test's fixed sequences meet every one.
FEATURES = (
    "a station-year sent in several versions",
    "a file with every value missing",
    "a station's name and site changed",
    "a station code reused by another station",
    "a pair within one second, the first one's sha256 higher",
    "a pair within one second, the first one's sha256 lower",
    "identical bytes again while pending",
    "identical bytes again after export",
    "identical bytes again after being superseded",
    "a batch loading an older version after a newer one",
    "two pipe loads in one batch",
    "a load notification delivered twice",
    "a load notification delivered late",
    "load notifications handled out of order",
    "a load notification delivered again later",
    "an upload superseded",
    "a station-year emptied",
    "a station event",
)


class SequenceRun:
    """Draws one sequence from ``seed`` and plays it on the pipeline and the model together."""

    def __init__(self, pipeline: Pipeline, seed: int, steps: int) -> None:
        self.pipeline = pipeline
        self.seed = seed
        self.steps = steps
        self.rng = random.Random(seed)
        self.model = VersionModel()
        self.outcome = Outcome(seed)
        catalogue = station_catalogue(10)
        codes = self.rng.sample([catalogue[i] for i in (0, 1, 2, 3)], CODES)
        others = catalogue[4:]
        self.variants = {c.station_id: variants(c, others) for c in codes}
        self.years = sorted(self.rng.sample(YEARS, 2))
        self.sent: list[bytes] = []
        self.keys: dict[int, str] = {}  # model version -> raw/ key
        self.modified: dict[str, datetime] = {}
        self.pending: list[int] = []  # model versions accepted, not yet loaded
        # Batches run whose notifications are not handled yet, and those handled.
        self.held: list[tuple[ModelBatch, list[str], bool]] = []
        self.delivered: list[tuple[ModelBatch, list[str]]] = []
        self.batches_run: list[int] = []

    def run(self) -> Outcome:
        try:
            self.pipeline.reset()
            for _ in range(self.steps):
                self._step()
            while self.pending:
                self._load(everything=True)
            self._deliver()
            self._check_documents()
            self._check_final()
        except AssertionError as exc:
            log = "\n  ".join(self.outcome.log[-40:])
            raise AssertionError(
                f"seed {self.seed}: {exc}\n{replay_hint(self.seed)}\nlast steps:\n  {log}"
            ) from exc
        return self.outcome

    # -- steps ------------------------------------------------------------------------------------
    def _step(self) -> None:
        roll = self.rng.random()
        if roll < 0.45 or not self.sent:
            self._send(self._new_version())
        elif roll < 0.55:
            self._pair()
        elif roll < 0.68:
            self._send(self.rng.choice(self.sent), again=True)
        else:
            if self.pending:
                self._load(everything=self.rng.random() < 0.4)

    def _new_version(self) -> bytes:
        rng = self.rng
        code = rng.choice(sorted(self.variants))
        variant = rng.randrange(len(self.variants[code]))
        year = rng.choice(self.years)
        last = rng.randint(1, 3)
        seed, empty = rng.randrange(1_000_000), rng.random() < 0.2
        synth = generate_station_year(
            self.variants[code][variant],
            year,
            seed=seed,
            empty=empty,
            partial_until=date(year, 1, last),
            outlier_rate=rng.choice((0.0, 0.0, 0.05)),
        )
        features = self.outcome.features
        features["a file with every value missing"] += empty
        features["a station's name and site changed"] += variant in (2, 3)
        features["a station code reused by another station"] += variant == 4
        return lines_with(synth.data, rng, rng.randint(1, last))

    def _pair(self) -> None:
        """Two versions of one station-year sent within the same second, the first one's
        sha256 sorting higher or lower (docs/contracts.md §3 rule 7)."""
        first = self._new_version()
        second = with_other_values(first, self.rng)
        if (VersionModel.upload_id(first) > VersionModel.upload_id(second)) != (
            self.rng.random() < 0.5
        ):
            first, second = second, first
        order = (
            "higher" if VersionModel.upload_id(first) > VersionModel.upload_id(second) else "lower"
        )
        self.outcome.features[f"a pair within one second, the first one's sha256 {order}"] += 1
        self._send(first)
        self._send(second, same_second=True)

    def _send(self, data: bytes, *, again: bool = False, same_second: bool = False) -> None:
        p, clock = self.pipeline, self.pipeline.clock
        clock.now += (
            timedelta(microseconds=self.rng.choice((0, 1, 250)))
            if same_second
            else timedelta(milliseconds=self.rng.choice((0, 3, 400, 1500, 65_000)))
        )
        before = self.model.documents.get(VersionModel.upload_id(data))
        if before is not None:
            after = {"received": "while pending", "exported": "after export"}
            when = after.get(before.status, "after being superseded")
            self.outcome.features[f"identical bytes again {when}"] += 1
        version = self.model.accept(data)
        result = p.uploads.accept(data, f"v{len(self.sent)}.CSV")
        self.outcome.uploads += 1
        upload_id = result.document["upload_id"]
        what = "again" if again else "new"
        self.outcome.log.append(
            f"send {what} {upload_id[:8]} {result.document['station_id']} "
            f"{result.document['year']} -> {201 if result.created else 200} "
            f"{result.document['status']}"
        )
        assert result.created == (version is not None), (
            f"upload {upload_id[:12]}: the service answered {201 if result.created else 200} "
            f"({result.document['status']}), the model expects "
            f"{'201' if version is not None else '200'}"
        )
        if not again:
            self.sent.append(data)
        if version is None:
            return
        self.outcome.accepted += 1
        key = result.document["raw_key"]
        self.keys[version.order] = key
        # S3's LastModified: the second of the acceptance, or a second off either way (a PUT
        # that finished late or early): it must not decide anything.
        second = clock.now.replace(microsecond=0)
        self.modified[key] = second + timedelta(seconds=self.rng.choice((0, 0, -1, 1)))
        self.pending.append(version.order)

    def _load(self, *, everything: bool) -> None:
        rng = self.rng
        chosen = [o for o in self.pending if everything or rng.random() < 0.6] or [
            rng.choice(self.pending)
        ]
        rng.shuffle(chosen)  # Snowpipe loads in an order of its own
        self.pending = [o for o in self.pending if o not in chosen]
        pipe_loads = rng.choice((1, 1, 2))
        twice = rng.random() < 0.2
        self.outcome.log.append(
            f"load {len(chosen)} version(s) {chosen} in {pipe_loads} COPY(s)"
            + (", notifications twice" if twice else "")
        )
        features, versions = self.outcome.features, self.model.versions
        features["a batch loading an older version after a newer one"] += any(
            v.loaded and v.order > o and v.station_year == versions[o].station_year
            for o in chosen
            for v in versions
        )
        features["two pipe loads in one batch"] += pipe_loads == 2 and len(chosen) > 1
        features["a load notification delivered twice"] += twice
        messages = self.pipeline.load([self.keys[o] for o in chosen], self.modified, pipe_loads)
        batch = self.model.run_task(chosen)
        self.batches_run.append(id(batch))
        self.held.append((batch, messages, twice))
        self.outcome.batches += 1
        # SNS and Lambda's asynchronous invocation promise no order and no time: a batch's
        # notification may be handled after later batches', and delivered again much later.
        if everything or rng.random() < 0.7:
            self._deliver()
        else:
            features["a load notification delivered late"] += 1
            self.outcome.log.append("  (its notification held back)")
        if self.delivered and rng.random() < 0.15:
            again = rng.choice(self.delivered)
            self.outcome.log.append("deliver an earlier notification again")
            features["a load notification delivered again later"] += 1
            self.pipeline.deliver(again[1], False)
            self.model.export(again[0])
        self._check_documents()

    def _deliver(self) -> None:
        """Every held notification, in a random order."""
        held, self.held = self.held, []
        self.rng.shuffle(held)
        runs = [self.batches_run.index(id(batch)) for batch, _, _ in held]
        if runs != sorted(runs):
            self.outcome.log.append(f"  notifications of batches {runs} handled in this order")
            self.outcome.features["load notifications handled out of order"] += 1
        for batch, messages, twice in held:
            self.pipeline.deliver(messages, twice)
            self.model.export(batch)
            self.delivered.append((batch, messages))

    # -- checks -----------------------------------------------------------------------------------
    def _check_documents(self) -> None:
        for upload_id, expected in sorted(self.model.documents.items()):
            doc = self.pipeline.status(upload_id)
            got = (doc["status"], doc["rows_clean"], doc["superseded_by"], doc["export_keys"])
            want = (
                expected.status,
                expected.rows_clean,
                expected.superseded_by,
                expected.export_keys,
            )
            assert got == want, (
                f"upload {upload_id[:12]} (version {expected.version}): the status document "
                f"says (status, rows_clean, superseded_by, export_keys) = {got}, the model {want}"
            )
            assert doc["raw_key"] == self.keys[expected.version], (upload_id, doc["raw_key"])
            assert doc["error"] is None, (upload_id, doc["error"])

    def _check_final(self) -> None:
        p, model = self.pipeline, self.model
        from_s3, from_warehouse, expected = p.fetch_s3(), p.fetch_warehouse(), model.csv()
        rows = expected.count(b"\n") - 1
        if rows == 0:
            assert from_s3 == b"<no exported partitions>", "S3 holds partitions, CLEAN none"
        else:
            _same_csv("inmet fetch (S3)", from_s3, "the model", expected)
        _same_csv("inmet fetch --from snowflake", from_warehouse, "the model", expected)
        wh = p.warehouse
        history = {
            (s, int(y)): (n, r, st, f"{la:.8f}", f"{lo:.8f}", f"{al:.2f}")
            for s, y, n, r, st, la, lo, al in wh.execute(
                "SELECT station_id, year, station_name, region, state, latitude, longitude, "
                f"altitude_m FROM {wh.clean}.STATION_YEARS"
            )
        }
        assert history == model.station_years(), "CLEAN.STATION_YEARS differs from the model"
        stations = {
            s: (n, r, st, f"{la:.8f}", f"{lo:.8f}", f"{al:.2f}")
            for s, n, r, st, la, lo, al in wh.execute(
                "SELECT station_id, station_name, region, state, latitude, longitude, "
                f"altitude_m FROM {wh.clean}.STATIONS"
            )
        }
        assert stations == model.stations(), "CLEAN.STATIONS differs from the model"
        events = sorted(
            (s, e, int(a), int(b))
            for s, e, a, b in wh.execute(
                f"SELECT station_id, event_type, previous_year, year FROM {wh.clean}.STATION_EVENTS"
            )
        )
        assert events == model.events(), f"STATION_EVENTS {events} != the model's {model.events()}"
        # No document names a partition that is not there.
        partitions = {
            item["Key"]
            for page in p.s3.get_paginator("list_objects_v2").paginate(
                Bucket=BUCKET, Prefix="processed/"
            )
            for item in page.get("Contents", [])
        }
        for upload_id in model.documents:
            missing = set(p.status(upload_id)["export_keys"]) - partitions
            assert not missing, f"upload {upload_id[:12]} names absent partitions {missing}"
        # Every row of the CSV is claimed by exactly one upload's rows_clean.
        claimed = sum(int(self.pipeline.status(u)["rows_clean"] or 0) for u in model.documents)
        assert claimed == rows, f"the uploads' rows_clean add up to {claimed}, the CSV has {rows}"
        self.outcome.rows = rows
        self._count_final_features()

    def _count_final_features(self) -> None:
        model = self.model
        self.outcome.superseded = sum(
            1 for d in model.documents.values() if d.status == "superseded"
        )
        features = self.outcome.features
        features["an upload superseded"] += self.outcome.superseded
        versions = Counter(v.station_year for v in model.versions)
        features["a station-year sent in several versions"] += sum(n > 1 for n in versions.values())
        with_rows = {(station, at.year) for station, at in model.clean()}
        features["a station-year emptied"] += len(set(model.station_years()) - with_rows)
        features["a station event"] += len(model.events())


def _same_csv(name: str, got: bytes, other: str, want: bytes) -> None:
    if got == want:
        return
    g, w = got.split(b"\n"), want.split(b"\n")
    first = next(
        (i for i, (a, b) in enumerate(zip(g, w, strict=False)) if a != b), min(len(g), len(w))
    )
    show = json.dumps(
        {
            "line": first + 1,
            name: (g[first] if first < len(g) else b"<end>").decode("utf-8", "replace"),
            other: (w[first] if first < len(w) else b"<end>").decode("utf-8", "replace"),
        },
        ensure_ascii=False,
    )
    raise AssertionError(
        f"{name} ({len(g) - 1} lines) differs from {other} ({len(w) - 1} lines): {show}"
    )
