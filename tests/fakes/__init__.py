"""One in-memory fake per port of the shared package, for tests that need behaviour, not AWS.

Each fake keeps the contract its adapter keeps (tests/event_collector/aws
checks the adapters against moto with the same expectations).
"""
