"""AWS list prices, us-east-1, on-demand, without free tiers: the constants `make cost` prices with.

Each price names the page it comes from and when it was checked. When AWS
changes a price, change it here (and the date); docs/cost.md explains the
model. Figures are USD.
"""

from __future__ import annotations

from dataclasses import dataclass

CHECKED = "2026-11"


@dataclass(frozen=True)
class Price:
    usd: float
    per: str
    source: str


MILLION = 1_000_000
GB = 1024**3

# API Gateway: first tier (REST: first 333 million requests/month; HTTP: first 300 million, each request
# metered in 512 KB increments).
REST_API_REQUEST = Price(3.50 / MILLION, "request", "https://aws.amazon.com/api-gateway/pricing/")
HTTP_API_REQUEST = Price(1.00 / MILLION, "request (512 KB increments)", "https://aws.amazon.com/api-gateway/pricing/")
HTTP_API_METERING_BYTES = 512 * 1024

# Lambda, arm64 (Graviton), first tier of duration.
LAMBDA_REQUEST = Price(0.20 / MILLION, "invocation", "https://aws.amazon.com/lambda/pricing/")
LAMBDA_ARM_GB_SECOND = Price(0.0000133334, "GB-second", "https://aws.amazon.com/lambda/pricing/")
LAMBDA_EPHEMERAL_GB_SECOND = Price(
    0.0000000309, "GB-second of /tmp above 512 MB", "https://aws.amazon.com/lambda/pricing/"
)

# Amazon Data Firehose, Direct PUT, first 500 TB/month; every record is rounded up to the next 5 KB.
FIREHOSE_INGESTED_GB = Price(0.029, "GB ingested", "https://aws.amazon.com/firehose/pricing/")
FIREHOSE_RECORD_ROUNDING_BYTES = 5 * 1024

# S3 Standard.
S3_PUT = Price(0.005 / 1000, "PUT, COPY, POST or LIST request", "https://aws.amazon.com/s3/pricing/")
S3_GET = Price(0.0004 / 1000, "GET or other request", "https://aws.amazon.com/s3/pricing/")
S3_STORAGE_GB_MONTH = Price(0.023, "GB-month (first 50 TB)", "https://aws.amazon.com/s3/pricing/")

# DynamoDB on-demand (after the November 2024 price reduction): a write unit per 1 KB written, a read
# unit per 4 KB read strongly consistent (half for eventually consistent).
DYNAMODB_WRITE_UNIT = Price(0.625 / MILLION, "write request unit", "https://aws.amazon.com/dynamodb/pricing/on-demand/")
DYNAMODB_READ_UNIT = Price(0.125 / MILLION, "read request unit", "https://aws.amazon.com/dynamodb/pricing/on-demand/")
DYNAMODB_STORAGE_GB_MONTH = Price(0.25, "GB-month", "https://aws.amazon.com/dynamodb/pricing/on-demand/")

# Step Functions Standard workflows (a Distributed Map's STANDARD children are billed the same way).
STEP_FUNCTIONS_TRANSITION = Price(0.025 / 1000, "state transition", "https://aws.amazon.com/step-functions/pricing/")

# Glue Data Catalog: requests beyond the first million a month.
GLUE_CATALOG_REQUEST = Price(1.00 / MILLION, "request", "https://aws.amazon.com/glue/pricing/")

# CloudWatch: Logs ingestion (Standard class, first tier), custom metrics, alarms.
LOGS_INGESTED_GB = Price(0.50, "GB ingested", "https://aws.amazon.com/cloudwatch/pricing/")
CUSTOM_METRIC_MONTH = Price(0.30, "metric-month (first 10,000)", "https://aws.amazon.com/cloudwatch/pricing/")
ALARM_MONTH = Price(0.10, "standard alarm-month", "https://aws.amazon.com/cloudwatch/pricing/")

# X-Ray: traces recorded.
XRAY_TRACE = Price(5.00 / MILLION, "trace recorded", "https://aws.amazon.com/xray/pricing/")

# EventBridge Scheduler and SQS (the schedule, the dead-letter queue).
SCHEDULER_INVOCATION = Price(1.00 / MILLION, "invocation", "https://aws.amazon.com/eventbridge/pricing/")

# Athena (SQL over the compacted tables; the large-unit engine): per TB scanned, 10 MB minimum a query.
ATHENA_TB_SCANNED = Price(5.00, "TB scanned", "https://aws.amazon.com/athena/pricing/")

# Published figures of the alternatives, for docs/cost.md (USD per million events).
GAME_ANALYTICS_PIPELINE = (
    0.25,
    0.36,
    "https://docs.aws.amazon.com/solutions/latest/game-analytics-pipeline/cost.html",
)
