"""The process's Prometheus registry: counters kept in memory by this process.

Layers add their own counters to it (HTTP requests, transitions); figures read from the
database at scrape time are collectors that the application registers when it is built.
"""

from prometheus_client import CollectorRegistry

PROCESS = CollectorRegistry(auto_describe=True)
