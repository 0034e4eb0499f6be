"""``make query``: read the compacted Parquet tables of the running local stack; print rows per type and tenant.

Athena does not run locally, so this reads the same files Athena would, with
awswrangler against the local AWS endpoint.
"""

from __future__ import annotations

import os
import sys

from .compact import load_stack_info


def main() -> int:
    info = load_stack_info()
    if info is None:
        return 1
    os.environ.update(
        AWS_ENDPOINT_URL=info["aws_endpoint_url"],
        AWS_DEFAULT_REGION=info["region"],
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",
    )
    import awswrangler as wr

    lake = info["lake_bucket"]
    types = sorted(path.rstrip("/").rsplit("/", 1)[-1] for path in wr.s3.list_directories(f"s3://{lake}/compacted/"))
    if not types:
        print("no compacted data yet: send events, then `make compact`")
        return 0
    print(f"{'event_type':<16}{'tenant':<24}{'rows':>8}{'distinct event_id':>20}")
    for event_type in types:
        frame = wr.s3.read_parquet(f"s3://{lake}/compacted/{event_type}/", dataset=True)
        for tenant, rows in frame.groupby("tenant", observed=True):
            print(f"{event_type:<16}{tenant!s:<24}{len(rows):>8}{rows['event_id'].nunique():>20}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
