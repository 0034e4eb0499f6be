"""Where the request path's calls go: botocore's endpoint resolution for DynamoDB and Firehose, as a table.

botocore finds an endpoint in two steps: the partition a region belongs to
(``botocore/data/partitions.json``: a region pattern, a DNS suffix and a
dual-stack suffix per partition) and the service's endpoint rule set
(``<service>/<version>/endpoint-rule-set-1.json``). Loading either means
importing botocore on a cold start (docs/decisions.md), yet for these two
services the rules come down to this, with the suffixes of the region's
partition:

- ``https://<service>.<region>.<dnsSuffix>`` by default;
- ``<dualStackDnsSuffix>`` instead with ``AWS_USE_DUALSTACK_ENDPOINT=true``;
- ``<service>-fips`` instead of ``<service>`` with ``AWS_USE_FIPS_ENDPOINT=true``, except DynamoDB in
  ``aws-us-gov`` without dual-stack: its regular host is its FIPS one;

and ``AWS_ENDPOINT_URL_<SERVICE>``, then ``AWS_ENDPOINT_URL``, replace all of it (FIPS and dual-stack are then
ignored, as botocore does), unless ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`` is true. The signing region is the
region in every case. ``tests/event_collector/aws/test_endpoints.py`` checks the table against the installed
botocore's data and resolver for every partition, region and setting, so an upgrade that changes them fails there.

Not followed: DynamoDB's account-based endpoints (``<account>.ddb.<region>...``), which botocore picks only when
it knows the account id (``AWS_ACCOUNT_ID``, or credentials that carry one); the regional endpoint stays valid.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Partition:
    name: str
    region_pattern: str  # botocore's ``regionRegex``
    dns_suffix: str
    dual_stack_dns_suffix: str
    other_regions: tuple[str, ...] = ()  # regions it lists that its pattern does not match (the global ones)

    def holds(self, region: str) -> bool:
        return region in self.other_regions or re.match(self.region_pattern, region) is not None


# botocore's partitions, in its order (the first that holds a region wins; none: the first). Every one of them
# supports FIPS and dual-stack endpoints.
PARTITIONS = (
    Partition("aws", r"^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$", "amazonaws.com", "api.aws", ("aws-global",)),
    Partition("aws-cn", r"^cn\-\w+\-\d+$", "amazonaws.com.cn", "api.amazonwebservices.com.cn", ("aws-cn-global",)),
    Partition("aws-eusc", r"^eusc\-(de)\-\w+\-\d+$", "amazonaws.eu", "api.amazonwebservices.eu"),
    Partition("aws-iso", r"^us\-iso\-\w+\-\d+$", "c2s.ic.gov", "api.aws.ic.gov", ("aws-iso-global",)),
    Partition("aws-iso-b", r"^us\-isob\-\w+\-\d+$", "sc2s.sgov.gov", "api.aws.scloud", ("aws-iso-b-global",)),
    Partition("aws-iso-e", r"^eu\-isoe\-\w+\-\d+$", "cloud.adc-e.uk", "api.cloud-aws.adc-e.uk", ("aws-iso-e-global",)),
    Partition("aws-iso-f", r"^us\-isof\-\w+\-\d+$", "csp.hci.ic.gov", "api.aws.hci.ic.gov", ("aws-iso-f-global",)),
    Partition("aws-us-gov", r"^us\-gov\-\w+\-\d+$", "amazonaws.com", "api.aws", ("aws-us-gov-global",)),
)
# (service, partition) whose regular endpoint is already its FIPS one: FIPS without dual-stack goes there.
FIPS_AT_THE_REGULAR_HOST = frozenset({("dynamodb", "aws-us-gov")})


def partition_of(region: str) -> Partition:
    return next((partition for partition in PARTITIONS if partition.holds(region)), PARTITIONS[0])


def regional_endpoint(service: str, region: str, *, fips: bool = False, dual_stack: bool = False) -> str:
    partition = partition_of(region)
    suffix = partition.dual_stack_dns_suffix if dual_stack else partition.dns_suffix
    fips_host = fips and (dual_stack or (service, partition.name) not in FIPS_AT_THE_REGULAR_HOST)
    return f"https://{service}{'-fips' if fips_host else ''}.{region}.{suffix}"


def _enabled(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "").lower() == "true"  # botocore's ensure_boolean: "true" in any case, else off


def endpoint_for(service: str, region: str, environ: Mapping[str, str] = os.environ) -> str:
    """The endpoint botocore would call for ``service`` (``dynamodb``, ``firehose``) in ``region``."""
    if not _enabled(environ, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"):
        configured = environ.get(f"AWS_ENDPOINT_URL_{service.upper()}") or environ.get("AWS_ENDPOINT_URL")
        if configured:
            return configured
    return regional_endpoint(
        service,
        region,
        fips=_enabled(environ, "AWS_USE_FIPS_ENDPOINT"),
        dual_stack=_enabled(environ, "AWS_USE_DUALSTACK_ENDPOINT"),
    )
