"""``make query``: read the compacted Parquet tables of the running local stack; print rows per type and tenant,
and the typed columns of tenants' own event types as the Glue catalog has them (docs/schemas.md).

Athena does not run locally, so this reads the same files Athena would, with
pyarrow against the local AWS endpoint.
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict

from event_collector.event_types import DECLARED_FIELDS
from event_collector_cli.compacted import read_compacted

from .compact import load_stack_info


def main() -> int:
    info = load_stack_info()
    if info is None:
        return 1
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=info["aws_endpoint_url"],
        region_name=info["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    rows = read_compacted(s3, info["lake_bucket"])
    if not rows:
        print("no compacted data yet: send events, then `make compact`")
        return 0
    counts: Counter[tuple[str, str]] = Counter()
    ids: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    for row in rows:
        counts[(row["event_type"], row["tenant"])] += 1
        ids[(row["event_type"], row["tenant"])].add(row["event_id"])
    print(f"{'event_type':<16}{'tenant':<24}{'rows':>8}{'distinct event_id':>20}")
    for (event_type, tenant), total in sorted(counts.items()):
        print(f"{event_type:<16}{tenant:<24}{total:>8}{len(ids[(event_type, tenant)]):>20}")
    custom = sorted({event_type for event_type, _ in counts} - set(DECLARED_FIELDS))
    if custom and info.get("glue_database"):
        glue = boto3.client(
            "glue",
            endpoint_url=info["aws_endpoint_url"],
            region_name=info["region"],
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        print("typed tables (tenants' own event types), as the Glue catalog has them:")
        for event_type in custom:
            table = glue.get_table(DatabaseName=info["glue_database"], Name=event_type)["Table"]
            columns = ", ".join(f"{c['Name']} {c['Type']}" for c in table["StorageDescriptor"]["Columns"])
            print(f"  {event_type}: {columns}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
