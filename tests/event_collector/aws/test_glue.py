"""The catalog port: the same expectations of the Glue adapter (awswrangler against moto) and of the in-memory
fake; then what only the adapter decides: the table and partition definitions Athena reads, merges with a
table another run created, and its errors."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from event_collector.aws.glue import GlueCatalog
from event_collector.errors import StorageError
from event_collector.lake.catalog import CORE_COLUMNS, TableSpec, compacted_table, ledger_table, raw_table
from tests.conftest import LAKE_BUCKET
from tests.fakes.catalog import MemoryCatalog

DB = "test_db"  # tests/conftest.py's GLUE_DATABASE_NAME
DAYS = [["acme", "2026", f"{month:02d}", f"{day:02d}"] for month in range(1, 13) for day in range(1, 21)]


@pytest.fixture(params=["glue", "memory"])
def catalog(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        return MemoryCatalog()
    request.getfixturevalue("aws")
    return GlueCatalog(boto3.Session(), DB)


def data_columns(catalog: Any, spec: TableSpec) -> list[str]:
    return [name for name in catalog.column_types(spec.name) if name not in spec.partition_keys]


def test_given_a_table_when_a_later_spec_has_new_columns_then_they_are_appended_and_none_removed(catalog):
    first, later = compacted_table("track", LAKE_BUCKET, ["plan_a"]), compacted_table("track", LAKE_BUCKET, ["plan_b"])

    catalog.ensure_table(first)
    catalog.ensure_table(later)

    assert data_columns(catalog, later) == [name for name, _ in first.columns] + ["plan_b"]
    assert list(catalog.column_types(later.name))[-4:] == ["tenant", "year", "month", "day"]
    assert catalog.column_types(later.name)["received_at"] == "bigint"


def test_given_no_table_when_its_columns_are_asked_then_there_are_none(catalog):
    assert catalog.column_types("never_created") is None


def test_given_more_partitions_than_one_batch_when_added_twice_then_each_is_registered_once(catalog):
    spec = compacted_table("track", LAKE_BUCKET)
    catalog.ensure_table(spec)

    catalog.add_partitions(spec, DAYS[:150])
    catalog.add_partitions(spec, DAYS + DAYS[:3])

    assert catalog.partition_values(spec.name) == sorted(DAYS)


def test_given_no_table_when_partitions_are_added_then_a_storage_error_says_so(catalog):
    with pytest.raises(StorageError, match="adding partitions to track failed"):
        catalog.add_partitions(compacted_table("track", LAKE_BUCKET), DAYS[:1])


def test_given_a_column_name_athena_would_rewrite_when_ensured_then_it_is_refused(catalog):
    spec = compacted_table("track", LAKE_BUCKET, ["userId"])  # awswrangler would register "userid"

    with pytest.raises(StorageError, match="userId"):
        catalog.ensure_table(spec)

    assert catalog.column_types(spec.name) is None


# The adapter only, against moto.


@pytest.fixture
def glue(aws) -> Any:
    return aws.glue


def test_given_a_compacted_table_when_created_then_athena_reads_and_inserts_snappy_parquet(glue):
    spec = compacted_table("track", LAKE_BUCKET)

    GlueCatalog(boto3.Session(), DB).ensure_table(spec)

    table = glue.get_table(DatabaseName=DB, Name="track")["Table"]
    storage = table["StorageDescriptor"]
    assert table["TableType"] == "EXTERNAL_TABLE"
    assert table["Parameters"]["parquet.compression"] == "SNAPPY"  # what Athena's INSERT INTO writes
    assert table["Parameters"]["compressionType"] == "snappy"
    assert storage["SerdeInfo"]["SerializationLibrary"] == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    assert storage["InputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    assert storage["Location"] == f"s3://{LAKE_BUCKET}/compacted/track/"
    assert [(c["Name"], c["Type"]) for c in storage["Columns"]] == list(spec.columns)
    assert [(k["Name"], k["Type"]) for k in table["PartitionKeys"]] == [(k, "string") for k in spec.partition_keys]


def test_given_a_raw_table_and_an_hour_when_registered_then_athena_reads_gzip_json_with_the_openx_serde(glue):
    catalog, spec = GlueCatalog(boto3.Session(), DB), raw_table("track", LAKE_BUCKET)
    hour = ["acme", "2026", "11", "20", "09"]

    catalog.ensure_table(spec)
    catalog.add_partitions(spec, [hour])

    table = glue.get_table(DatabaseName=DB, Name="track_raw")["Table"]
    (partition,) = glue.get_partitions(DatabaseName=DB, TableName="track_raw")["Partitions"]
    for storage in (table["StorageDescriptor"], partition["StorageDescriptor"]):
        assert storage["SerdeInfo"] == {
            "SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe",
            "Parameters": {"ignore.malformed.json": "true"},
        }
        assert storage["InputFormat"] == "org.apache.hadoop.mapred.TextInputFormat"
        assert storage["Compressed"] is True
    assert table["Parameters"]["compressionType"] == "gzip"
    assert partition["Values"] == hour
    assert partition["StorageDescriptor"]["Location"] == (
        f"s3://{LAKE_BUCKET}/events/track/tenant=acme/year=2026/month=11/day=20/hour=09/"
    )


def test_given_a_ledger_day_when_registered_then_the_partition_is_snappy_parquet_at_the_day(glue):
    catalog, spec = GlueCatalog(boto3.Session(), DB), ledger_table(LAKE_BUCKET)

    catalog.ensure_table(spec)
    catalog.add_partitions(spec, [["acme", "2026", "11", "20"]])

    (partition,) = glue.get_partitions(DatabaseName=DB, TableName="compaction_ledger")["Partitions"]
    storage = partition["StorageDescriptor"]
    assert storage["Location"] == f"s3://{LAKE_BUCKET}/ledger/tenant=acme/year=2026/month=11/day=20/"
    assert storage["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    assert [c["Name"] for c in storage["Columns"]] == ["event_id", "event_type", "received_at", "counter_key"]


def test_given_an_existing_column_of_another_type_when_ensured_then_it_keeps_its_type_and_new_ones_come(glue):
    # A table registered by an earlier version: its columns stay as they are, so its files stay readable.
    catalog, spec = GlueCatalog(boto3.Session(), DB), compacted_table("track", LAKE_BUCKET)
    catalog.ensure_table(
        TableSpec(
            "track", spec.location, (("event_id", "string"), ("timestamp", "string")), spec.partition_keys, "parquet"
        )
    )

    catalog.ensure_table(spec)

    types = catalog.column_types("track")
    assert types is not None
    assert types["timestamp"] == "string"
    assert set(dict(spec.columns)) <= set(types)


def test_given_a_table_another_run_creates_meanwhile_when_ensured_then_both_runs_columns_are_kept(glue):
    # Another Compact creates the table between awswrangler's read and its CreateTable (which awswrangler then
    # drops as AlreadyExists): the second pass merges this run's columns into that table.
    session = boto3.Session()
    theirs = TableSpec("track", f"s3://{LAKE_BUCKET}/compacted/track/", CORE_COLUMNS, ("tenant",), "parquet")
    created: list[str] = []

    def concurrent_run(**_: Any) -> None:
        if not created:
            created.append("track")
            GlueCatalog(boto3.Session(), DB).ensure_table(theirs)

    session.events.register("before-call.glue.CreateTable", concurrent_run)
    mine = compacted_table("track", LAKE_BUCKET, ["plan"])

    GlueCatalog(session, DB).ensure_table(mine)

    columns = glue.get_table(DatabaseName=DB, Name="track")["Table"]["StorageDescriptor"]["Columns"]
    assert created == ["track"]
    assert [c["Name"] for c in columns] == [name for name, _ in mine.columns]


def test_given_a_missing_database_when_a_table_is_ensured_then_a_storage_error_names_the_code(aws):
    with pytest.raises(StorageError, match="writing table track failed: EntityNotFoundException"):
        GlueCatalog(boto3.Session(), "no_such_db").ensure_table(compacted_table("track", LAKE_BUCKET))


def test_given_glue_refusing_a_partition_when_added_then_a_storage_error_says_which_and_why(glue):
    session = boto3.Session()
    spec = compacted_table("track", LAKE_BUCKET)
    catalog = GlueCatalog(session, DB)
    catalog.ensure_table(spec)
    refusal = {"PartitionValues": DAYS[0], "ErrorDetail": {"ErrorCode": "InternalServiceException"}}
    session.events.register(
        "before-call.glue.BatchCreatePartition",
        lambda **_: (SimpleNamespace(status_code=200, headers={}), {"Errors": [refusal]}),
    )

    with pytest.raises(StorageError, match=r"adding partitions to track failed: ServiceApiError: .*InternalService"):
        catalog.add_partitions(spec, DAYS[:1])


# Typed tables (a tenant's own event type): structs widen, partitions stay, other type changes are refused.


def typed(*own: tuple[str, str]) -> TableSpec:
    return compacted_table("order_completed", LAKE_BUCKET, typed_columns=own)


def test_given_a_typed_table_with_partitions_when_a_struct_gains_a_field_then_its_type_widens_and_partitions_stay(
    glue,
):
    catalog = GlueCatalog(boto3.Session(), DB)
    first = typed(("shipping", "struct<city:string>"), ("lines", "array<struct<sku:string>>"), ("extra", "string"))
    catalog.ensure_table(first)
    catalog.add_partitions(first, DAYS[:150])  # more than one BatchUpdatePartition
    later = typed(
        ("shipping", "struct<city:string,floor:bigint>"),
        ("lines", "array<struct<sku:string,qty:bigint>>"),
        ("extra", "string"),
        ("coupon", "string"),
    )

    catalog.ensure_table(later)

    types = catalog.column_types("order_completed")
    assert types is not None
    assert [name for name in types if name not in later.partition_keys] == [name for name, _ in later.columns]
    assert types["shipping"] == "struct<city:string,floor:bigint>"
    assert types["lines"] == "array<struct<sku:string,qty:bigint>>"
    assert catalog.partition_values("order_completed") == sorted(DAYS[:150])
    # Athena compares each partition's column types with the table's: the partitions widen too.
    pages = glue.get_paginator("get_partitions").paginate(DatabaseName=DB, TableName="order_completed")
    found = [partition for page in pages for partition in page["Partitions"]]
    assert len(found) == 150
    for partition in found:
        storage = partition["StorageDescriptor"]
        kinds = {column["Name"]: column["Type"] for column in storage["Columns"]}
        assert (kinds["shipping"], kinds["lines"]) == (types["shipping"], types["lines"])
        assert storage["Location"] == first.partition_location(partition["Values"])
        assert storage["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    table = glue.get_table(DatabaseName=DB, Name="order_completed")["Table"]
    assert table["Parameters"]["parquet.compression"] == "SNAPPY"
    assert [k["Name"] for k in table["PartitionKeys"]] == list(later.partition_keys)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("bigint", "double"),
        ("struct<city:string>", "string"),
        ("struct<city:string,floor:bigint>", "struct<city:string>"),
        ("array<struct<sku:string>>", "array<struct<sku:bigint>>"),
    ],
)
def test_given_a_typed_column_when_a_spec_retypes_it_then_the_catalog_refuses_and_keeps_the_table(glue, before, after):
    catalog = GlueCatalog(boto3.Session(), DB)
    catalog.ensure_table(typed(("total", before)))
    catalog.add_partitions(typed(("total", before)), DAYS[:1])

    with pytest.raises(StorageError, match=f"order_completed: a column cannot change its type: total is {before}"):
        catalog.ensure_table(typed(("total", after), ("coupon", "string")))

    types = catalog.column_types("order_completed")
    assert types is not None
    assert types["total"] == before
    assert "coupon" not in types
    assert catalog.partition_values("order_completed") == DAYS[:1]


def test_given_a_typed_struct_only_reordered_when_ensured_then_the_table_is_left_as_it_is(glue):
    catalog = GlueCatalog(boto3.Session(), DB)
    catalog.ensure_table(typed(("shipping", "struct<city:string,floor:bigint>")))
    version = glue.get_table(DatabaseName=DB, Name="order_completed")["Table"].get("VersionId")

    catalog.ensure_table(typed(("shipping", "struct<floor:bigint,city:string>")))

    table = glue.get_table(DatabaseName=DB, Name="order_completed")["Table"]
    assert table.get("VersionId") == version
    assert (catalog.column_types("order_completed") or {})["shipping"] == "struct<city:string,floor:bigint>"


def test_given_glue_refusing_a_partitions_update_when_a_struct_widens_then_it_fails_and_the_table_stays_narrower(
    glue,
):
    session = boto3.Session()
    catalog = GlueCatalog(session, DB)
    catalog.ensure_table(typed(("shipping", "struct<city:string>")))
    catalog.add_partitions(typed(("shipping", "struct<city:string>")), DAYS[:1])
    refusal = {"PartitionValueList": DAYS[0], "ErrorDetail": {"ErrorCode": "InternalServiceException"}}
    session.events.register(
        "before-call.glue.BatchUpdatePartition",
        lambda **_: (SimpleNamespace(status_code=200, headers={}), {"Errors": [refusal]}),
    )

    with pytest.raises(StorageError, match="widening partitions of table order_completed failed: InternalService"):
        catalog.ensure_table(typed(("shipping", "struct<city:string,floor:bigint>")))

    assert (catalog.column_types("order_completed") or {})["shipping"] == "struct<city:string>"  # retried: widened
