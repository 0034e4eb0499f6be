"""Shared domain code of the serverless event collector.

Layers, one direction only: handlers (``functions/*/app.py``) -> domain
modules in this package -> ``adapters`` (one per AWS service). Domain modules
never import boto3; adapters turn ``ClientError`` into :mod:`.errors`.
"""

__version__ = "0.1.0"
