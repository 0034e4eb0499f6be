"""The lake's layout: every key and prefix the pipeline writes or reads is built and parsed here only.

| Kind | Key |
|---|---|
| raw (Firehose) | ``raw/YYYY/MM/DD/HH/<name>`` |
| event object (fan-out) | ``events/<type>/tenant=<t>/year=YYYY/month=MM/day=DD/hour=HH/<source>.json.gz`` |
| quarantine (fan-out) | ``quarantine/YYYY/MM/DD/HH/<source id>.json.gz`` |
| compacted file | ``compacted/<event_type>/tenant=<t>/year=YYYY/month=MM/day=DD/<unit>-<n>.parquet`` |
| id ledger | ``ledger/tenant=<t>/year=YYYY/month=MM/day=DD/<unit>.parquet`` |
| daily rollup (``daily_counts``) | ``rollups/daily_counts/tenant=<t>/day=YYYY-MM-DD/rollup.parquet`` |
| Athena's files | any other visible name in a compacted or ledger day (``INSERT INTO`` names them itself) |
| compaction run | ``compaction/runs/<run>/items/<tenant>.json``, ``.../results/<tenant>.json``; ``compaction/map/`` |
| Athena queries of a tenant's unit | ``compaction/athena/tenant=<t>/queries.json`` |
| a run's regulations (Regulate) | ``compaction/runs/<run>/regulations.json`` |
| the deletion sweep's state | ``regulations/sweep/state.json`` |
| its receipts (event ids, counts) | ``regulations/sweep/receipts/<raw, quarantine or tenant=<t>>/<digest>.json`` |

Every component built from data is a validated identifier first (tenant,
event type) or a server-made name (dates, hex ids), so no value a client sent
can become a path component. ``<source id>`` derives from the source object
(bucket, key, ETag): a replayed S3 event or a retried invocation writes the
same keys again. Each ``*_key`` function has a ``parse_*`` inverse (tested as
such).

Two writers put files into the compacted and ledger days: the Lambda engine
(``<unit>-<n>.parquet``, ``<unit>.parquet``) and Athena's ``INSERT INTO``,
which chooses its own names (query id and a UUID). Every reader must see
both, so the parsers accept any visible file name in a day (Hive's rule:
names starting with ``_`` or ``.`` are hidden) and say which unit wrote it,
``None`` for a file Athena wrote.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from event_collector.identifiers import is_event_type, is_tenant_id

RAW_ROOT = "raw"
EVENTS_ROOT = "events"
QUARANTINE_ROOT = "quarantine"
COMPACTED_ROOT = "compacted"
LEDGER_ROOT = "ledger"
ROLLUPS_ROOT = "rollups"
DAILY_COUNTS = "daily_counts"  # the rollup's table (lake/catalog.py) and its folder under ROLLUPS_ROOT
RUNS_ROOT = "compaction/runs"
ATHENA_ROOT = "compaction/athena"
SWEEP_PREFIX = "regulations/sweep/"

_TYPE = r"[a-z][a-z0-9_]{0,63}"
_TENANT = r"[a-z0-9][a-z0-9-]{1,62}"
_DAY = r"year=(?P<year>[0-9]{4})/month=(?P<month>[0-9]{2})/day=(?P<day>[0-9]{2})"
_NAME = r"[0-9a-f]{8,64}"
_RAW_HOUR = re.compile(r"^raw/([0-9]{4})/([0-9]{2})/([0-9]{2})/([0-9]{2})/")
_EVENT_OBJECT = re.compile(
    rf"^{EVENTS_ROOT}/(?P<event_type>{_TYPE})/tenant=(?P<tenant>{_TENANT})/{_DAY}/hour=(?P<hour>[0-9]{{2}})/"
    rf"(?P<source>{_NAME})\.json\.gz$"
)
_COMPACTED = re.compile(
    rf"^{COMPACTED_ROOT}/(?P<event_type>{_TYPE})/tenant=(?P<tenant>{_TENANT})/{_DAY}/"
    rf"(?P<unit>{_NAME})-(?P<part>0|[1-9][0-9]{{0,5}})\.parquet$"
)
_LEDGER = re.compile(rf"^{LEDGER_ROOT}/tenant=(?P<tenant>{_TENANT})/{_DAY}/(?P<name>[^/]+)$")
_ANY_COMPACTED = re.compile(
    rf"^{COMPACTED_ROOT}/(?P<event_type>{_TYPE})/tenant=(?P<tenant>{_TENANT})/{_DAY}/(?P<name>[^/]+)$"
)
_DAILY_COUNTS = re.compile(
    rf"^{ROLLUPS_ROOT}/{DAILY_COUNTS}/tenant=(?P<tenant>{_TENANT})/"
    r"day=(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})/rollup\.parquet$"
)
_FOREIGN_NAME = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,254}")  # Athena's: <query id>_<uuid>[.<ext>]
_UNIT_LEDGER_NAME = re.compile(rf"(?P<unit>{_NAME})\.parquet")
_QUARANTINE = re.compile(
    rf"^{QUARANTINE_ROOT}/(?P<year>[0-9]{{4}})/(?P<month>[0-9]{{2}})/(?P<day>[0-9]{{2}})/(?P<hour>[0-9]{{2}})/"
    rf"(?P<source>{_NAME})\.json\.gz$"
)
_ZERO_PADDED = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_RUN_ITEM = re.compile(rf"^{RUNS_ROOT}/(?P<run>[A-Za-z0-9_-]{{1,80}})/items/(?P<tenant>{_TENANT})\.json$")
_RECEIPT = re.compile(
    rf"^{SWEEP_PREFIX}receipts/(?P<area>raw|quarantine|tenant=(?P<tenant>{_TENANT}))/(?P<name>[0-9a-f]{{40}})\.json$"
)
_RUN_RESULT = re.compile(rf"^{RUNS_ROOT}/(?P<run>[A-Za-z0-9_-]{{1,80}})/results/(?P<tenant>{_TENANT})\.json$")


def _check(event_type: str | None, tenant: str) -> None:
    # The last line of defence: a partition that could escape its prefix cannot exist.
    if not is_tenant_id(tenant) or (event_type is not None and not is_event_type(event_type)):
        raise ValueError("partition values must be validated identifiers")


def _check_name(name: str) -> None:
    if not re.fullmatch(_NAME, name):
        raise ValueError("object names are hex ids made by the server")


@dataclass(frozen=True, order=True)
class Day:
    """A UTC calendar day, as it appears in keys and Glue partitions."""

    year: str
    month: str
    day: str

    def __post_init__(self) -> None:
        if not _ZERO_PADDED.fullmatch(f"{self.year}-{self.month}-{self.day}"):
            raise ValueError("year, month and day are zero-padded ASCII digits")
        date(int(self.year), int(self.month), int(self.day))  # raises for anything that is not a day

    @classmethod
    def of(cls, moment: date) -> Day:
        return cls(f"{moment:%Y}", f"{moment:%m}", f"{moment:%d}")

    @classmethod
    def of_millis(cls, epoch_millis: int) -> Day:
        return cls.of(datetime.fromtimestamp(epoch_millis / 1000, tz=UTC))

    @property
    def date(self) -> date:
        return date(int(self.year), int(self.month), int(self.day))

    def plus(self, days: int) -> Day:
        return Day.of(self.date + timedelta(days=days))

    @property
    def start_ms(self) -> int:
        """The day's first millisecond (epoch ms, UTC)."""
        return int(datetime(int(self.year), int(self.month), int(self.day), tzinfo=UTC).timestamp()) * 1000

    @property
    def path(self) -> str:
        return f"year={self.year}/month={self.month}/day={self.day}"

    @property
    def iso(self) -> str:
        return f"{self.year}-{self.month}-{self.day}"


@dataclass(frozen=True, order=True)
class HourPartition:
    """Where the fan-out puts a line: its type, tenant and the UTC hour of ``received_at``."""

    event_type: str
    tenant: str
    day: Day
    hour: str

    def __post_init__(self) -> None:
        _check(self.event_type, self.tenant)
        if not (re.fullmatch("[0-9]{2}", self.hour) and int(self.hour) < 24):
            raise ValueError("hour is two digits, 00-23")

    @classmethod
    def of(cls, event_type: str, tenant: str, epoch_millis: int) -> HourPartition:
        moment = datetime.fromtimestamp(epoch_millis / 1000, tz=UTC)
        return cls(event_type, tenant, Day.of(moment), f"{moment:%H}")

    @property
    def start(self) -> datetime:
        return datetime(int(self.day.year), int(self.day.month), int(self.day.day), int(self.hour), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(hours=1)

    @property
    def prefix(self) -> str:
        return f"{EVENTS_ROOT}/{self.event_type}/tenant={self.tenant}/{self.day.path}/hour={self.hour}/"

    @property
    def raw_partition_values(self) -> list[str]:
        """Values of the raw table's partition keys (tenant, year, month, day, hour)."""
        return [self.tenant, self.day.year, self.day.month, self.day.day, self.hour]


@dataclass(frozen=True)
class EventObject:
    key: str
    partition: HourPartition
    source: str


def source_id(bucket: str, key: str, etag: str) -> str:
    digest = hashlib.sha256(f"{bucket}\n{key}\n{etag.strip(chr(34))}".encode()).hexdigest()
    return digest[:32]


def event_object_key(partition: HourPartition, source: str) -> str:
    _check_name(source)
    return f"{partition.prefix}{source}.json.gz"


def parse_event_object_key(key: str) -> EventObject | None:
    """A fan-out output object, or None for anything else."""
    found = _EVENT_OBJECT.fullmatch(key)
    if not found:
        return None
    try:
        day = Day(found["year"], found["month"], found["day"])
        partition = HourPartition(found["event_type"], found["tenant"], day, found["hour"])
    except ValueError:
        return None
    return EventObject(key, partition, found["source"])


def raw_object_key(received: datetime, name: str) -> str:
    """The key Firehose gives an object it delivers (template.yaml's ``Prefix``, then its own name), for
    the code that stands in for Firehose (the cost model, tests)."""
    if "/" in name or not name:
        raise ValueError(f"not an object name: {name!r}")
    return f"{RAW_PREFIX}{received:%Y/%m/%d/%H}/{name}"


def raw_hour(raw_key: str) -> tuple[Day, str] | None:
    """The hour in a Firehose key (``raw/YYYY/MM/DD/HH/``), if it has one."""
    found = _RAW_HOUR.match(raw_key)
    if not found or int(found.group(4)) > 23:
        return None
    try:
        return Day(*found.groups()[:3]), found.group(4)
    except ValueError:
        return None


def quarantine_object_key(raw_key: str, source: str, fallback: datetime) -> str:
    """Under the hour of the raw object (from its key), else of ``fallback``."""
    _check_name(source)
    found = raw_hour(raw_key)
    day, hour = found if found else (Day.of(fallback), f"{fallback:%H}")
    return f"{QUARANTINE_ROOT}/{day.year}/{day.month}/{day.day}/{hour}/{source}.json.gz"


def parse_quarantine_object_key(key: str) -> tuple[Day, str, str] | None:
    """(day, hour, source id) of a quarantined object's key."""
    found = _QUARANTINE.fullmatch(key)
    if not found or (day := _day(found)) is None or int(found["hour"]) > 23:
        return None
    return day, found["hour"], found["source"]


RAW_PREFIX = f"{RAW_ROOT}/"


def events_prefix(event_type: str, tenant: str | None = None) -> str:
    """``events/<type>/[tenant=<t>/]``: a type's (or one tenant's) hourly objects."""
    _check(event_type, tenant or "xx")
    return f"{EVENTS_ROOT}/{event_type}/" + (f"tenant={tenant}/" if tenant else "")


def compacted_type_prefix(event_type: str | None = None, tenant: str | None = None) -> str:
    """``compacted/[<type>/[tenant=<t>/]]``: compacted files of every type, one type, or one tenant of it."""
    if event_type is None:
        return f"{COMPACTED_ROOT}/"
    _check(event_type, tenant or "xx")
    return f"{COMPACTED_ROOT}/{event_type}/" + (f"tenant={tenant}/" if tenant else "")


def compacted_prefix(event_type: str, tenant: str, day: Day) -> str:
    _check(event_type, tenant)
    return f"{COMPACTED_ROOT}/{event_type}/tenant={tenant}/{day.path}/"


def compacted_object_key(event_type: str, tenant: str, day: Day, unit: str, part: int) -> str:
    _check_name(unit)
    if not 0 <= part < 1_000_000:
        raise ValueError("a unit writes at most a million files per type and day")
    return f"{compacted_prefix(event_type, tenant, day)}{unit}-{part}.parquet"


@dataclass(frozen=True)
class CompactedObject:
    """A compacted file; ``unit`` and ``part`` are None for a file Athena wrote (it names its own)."""

    key: str
    event_type: str
    tenant: str
    day: Day
    unit: str | None
    part: int | None
    name: str


def _day(found: re.Match[str]) -> Day | None:
    try:
        return Day(found["year"], found["month"], found["day"])
    except ValueError:
        return None


def parse_compacted_object_key(key: str) -> CompactedObject | None:
    """A file of a compacted day, whoever wrote it; None for anything else (hidden names included)."""
    found = _ANY_COMPACTED.fullmatch(key)
    if not found or not _FOREIGN_NAME.fullmatch(found["name"]) or (day := _day(found)) is None:
        return None
    mine = _COMPACTED.fullmatch(key)
    unit, part = (mine["unit"], int(mine["part"])) if mine else (None, None)
    return CompactedObject(key, found["event_type"], found["tenant"], day, unit, part, found["name"])


def ledger_prefix(tenant: str, day: Day) -> str:
    _check(None, tenant)
    return f"{LEDGER_ROOT}/tenant={tenant}/{day.path}/"


def ledger_object_key(tenant: str, day: Day, unit: str) -> str:
    _check_name(unit)
    return f"{ledger_prefix(tenant, day)}{unit}.parquet"


@dataclass(frozen=True)
class LedgerObject:
    """A file of a ledger day; ``unit`` is None for a file Athena wrote (``INSERT INTO`` names it)."""

    key: str
    tenant: str
    day: Day
    unit: str | None
    name: str


def parse_ledger_object_key(key: str) -> LedgerObject | None:
    """A file of a ledger day, whoever wrote it; None for anything else (hidden names included)."""
    found = _LEDGER.fullmatch(key)
    if not found or not _FOREIGN_NAME.fullmatch(found["name"]) or (day := _day(found)) is None:
        return None
    mine = _UNIT_LEDGER_NAME.fullmatch(found["name"])
    return LedgerObject(key, found["tenant"], day, mine["unit"] if mine else None, found["name"])


def daily_counts_prefix(tenant: str, day: Day) -> str:
    _check(None, tenant)
    return f"{ROLLUPS_ROOT}/{DAILY_COUNTS}/tenant={tenant}/day={day.iso}/"


def daily_counts_object_key(tenant: str, day: Day) -> str:
    """The one file of a tenant's day of the rollup, rewritten whole when the day is recomputed."""
    return f"{daily_counts_prefix(tenant, day)}rollup.parquet"


def parse_daily_counts_object_key(key: str) -> tuple[str, Day] | None:
    """(tenant, day) of a rollup file's key."""
    found = _DAILY_COUNTS.fullmatch(key)
    if not found or (day := _day(found)) is None:
        return None
    return found["tenant"], day


def written_by(key: str, unit: str) -> bool:
    """Whether a compacted or ledger file is one the Lambda engine wrote for ``unit``."""
    parsed = parse_compacted_object_key(key) or parse_ledger_object_key(key)
    return parsed is not None and parsed.unit == unit


def run_prefix(run_id: str) -> str:
    if not _RUN_ID.fullmatch(run_id):
        raise ValueError("run ids are Step Functions execution names")
    return f"{RUNS_ROOT}/{run_id}/"


def run_items_prefix(run_id: str) -> str:
    """Plan's work items, one object per tenant, listed by the Distributed Map (ItemReader)."""
    return run_prefix(run_id) + "items/"


def run_item_key(run_id: str, tenant: str) -> str:
    _check(None, tenant)
    return f"{run_items_prefix(run_id)}{tenant}.json"


def parse_run_item_key(key: str) -> tuple[str, str] | None:
    """(run id, tenant) of a work item's key."""
    found = _RUN_ITEM.fullmatch(key)
    return (found["run"], found["tenant"]) if found else None


def run_results_prefix(run_id: str) -> str:
    return run_prefix(run_id) + "results/"


def run_result_key(run_id: str, tenant: str) -> str:
    _check(None, tenant)
    return f"{run_results_prefix(run_id)}{tenant}.json"


def parse_run_result_key(key: str) -> tuple[str, str] | None:
    """(run id, tenant) of a Compact result's key."""
    found = _RUN_RESULT.fullmatch(key)
    return (found["run"], found["tenant"]) if found else None


def run_regulations_key(run_id: str) -> str:
    """What a run's Regulate step did (Report reads it)."""
    return run_prefix(run_id) + "regulations.json"


def sweep_state_key() -> str:
    """The deletion sweep in progress (privacy/sweep.py): its regulations, phase and cursors."""
    return f"{SWEEP_PREFIX}state.json"


RAW_AREA = "raw"  # receipts of the lake-wide prefixes (mixed tenants): raw/ and quarantine/
QUARANTINE_AREA = "quarantine"


def tenant_area(tenant: str) -> str:
    """The receipts of a tenant's own prefixes (events/, compacted/, ledger/) and counters."""
    _check(None, tenant)
    return f"tenant={tenant}"


def receipts_prefix(area: str) -> str:
    if area not in ("raw", "quarantine") and not (area.startswith("tenant=") and is_tenant_id(area[7:])):
        raise ValueError("a receipt area is raw, quarantine or tenant=<tenant>")
    return f"{SWEEP_PREFIX}receipts/{area}/"


def receipt_key(area: str, subject: str) -> str:
    """One receipt per object (or counter) a sweep changes, named by a digest of what it names."""
    return f"{receipts_prefix(area)}{hashlib.sha256(subject.encode()).hexdigest()[:40]}.json"


def parse_receipt_key(key: str) -> tuple[str, str] | None:
    """(area, name) of a receipt's key."""
    found = _RECEIPT.fullmatch(key)
    return (found["area"], found["name"]) if found else None


def athena_queries_key(tenant: str) -> str:
    """The Athena queries a tenant's large unit started, so a retry waits for any still running."""
    _check(None, tenant)
    return f"{ATHENA_ROOT}/tenant={tenant}/queries.json"


# Where the Distributed Map's ResultWriter puts its manifest and result files (under one folder per
# map run); the template passes it to the state machine as MapResultsPrefix.
MAP_RESULTS_PREFIX = "compaction/map"


def table_location(bucket: str, root: str, event_type: str | None = None) -> str:
    """``s3://<bucket>/<root>/[<event_type>/]``: where a Glue table's data lives."""
    if event_type is not None and not is_event_type(event_type):
        raise ValueError("event_type must be a validated identifier")
    return f"s3://{bucket}/{root}/" + (f"{event_type}/" if event_type else "")
