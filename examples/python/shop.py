"""A chart of your own: the backing constructs of memostack, wired with typed endpoints, in your
namespace and with your names (examples/typescript/shop-chart.ts in Python).

Usage: python shop.py [output folder, default dist]
"""

import sys

from cdk8s import App, Chart
from memostack import (
    Connections,
    KafkaCluster,
    MariaDbStatefulSet,
    MemoApi,
    MonitoringStack,
    RedisCache,
    ResourcePreset,
)

app = App(outdir=sys.argv[1] if len(sys.argv) > 1 else "dist")
chart = Chart(app, "shop", namespace="shop", disable_resource_name_hashes=True)
Connections.default_deny(chart, "deny", "shop")

db = MariaDbStatefulSet(chart, "db", name="shop-db", database_name="shop", storage_gib=20)
cache = RedisCache(chart, "cache", name="shop-cache", resources=ResourcePreset.SMALL)
events = KafkaCluster(chart, "events", name="shop-kafka", replicas=3)
events.add_topic("shop_memos", partitions=12)

# Typed wiring: env, secretKeyRefs and NetworkPolicies for exactly these flows.
api = MemoApi(
    chart,
    "api",
    database=db,
    cache=cache,
    events=events,
    kafka_topic="shop_memos",
    image="memo-api:0.1.0",
    # Writes need a token from this issuer; or allow_anonymous_writes=True.
    oidc_issuer_url="https://login.shop.example/realms/shop",
    oidc_audience="memo-api",
    oidc_admin_role="memo-admin",
)

monitoring = MonitoringStack(chart, "monitoring")
for component in (db, cache, events, api):
    monitoring.monitor(component)
app.synth()
