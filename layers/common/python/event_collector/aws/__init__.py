"""One small adapter per AWS service. Only these modules talk to boto3 clients,
and they turn ``ClientError`` into the project's own exceptions."""
