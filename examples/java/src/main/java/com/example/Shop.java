package com.example;

import io.memostack.Connections;
import io.memostack.IMonitored;
import io.memostack.KafkaCluster;
import io.memostack.KafkaClusterProps;
import io.memostack.KafkaTopicOptions;
import io.memostack.MariaDbStatefulSet;
import io.memostack.MariaDbStatefulSetProps;
import io.memostack.MemoApi;
import io.memostack.MemoApiProps;
import io.memostack.MonitoringStack;
import io.memostack.RedisCache;
import io.memostack.RedisCacheProps;
import io.memostack.ResourcePreset;
import java.util.List;
import org.cdk8s.App;
import org.cdk8s.AppProps;
import org.cdk8s.Chart;
import org.cdk8s.ChartProps;

/**
 * A chart of your own: the backing constructs of memostack, wired with typed endpoints, in your
 * namespace and with your names (examples/typescript/shop-chart.ts in Java).
 */
public final class Shop {
  private Shop() {}

  public static void main(final String[] args) {
    App app = new App(AppProps.builder().outdir(args.length > 0 ? args[0] : "dist").build());
    Chart chart = new Chart(app, "shop",
        ChartProps.builder().namespace("shop").disableResourceNameHashes(true).build());
    Connections.defaultDeny(chart, "deny", "shop");

    MariaDbStatefulSet db = new MariaDbStatefulSet(chart, "db",
        MariaDbStatefulSetProps.builder().name("shop-db").databaseName("shop").storageGiB(20).build());
    RedisCache cache = new RedisCache(chart, "cache",
        RedisCacheProps.builder().name("shop-cache").resources(ResourcePreset.SMALL).build());
    KafkaCluster events = new KafkaCluster(chart, "events",
        KafkaClusterProps.builder().name("shop-kafka").replicas(3).build());
    events.addTopic("shop_memos", KafkaTopicOptions.builder().partitions(12).build());

    // Typed wiring: env, secretKeyRefs and NetworkPolicies for exactly these flows.
    MemoApi api = new MemoApi(chart, "api", MemoApiProps.builder()
        .database(db)
        .cache(cache)
        .events(events)
        .kafkaTopic("shop_memos")
        .image("memo-api:0.1.0")
        // Writes need a token from this issuer; or allowAnonymousWrites(true).
        .oidcIssuerUrl("https://login.shop.example/realms/shop")
        .oidcAudience("memo-api")
        .oidcAdminRole("memo-admin")
        .build());

    MonitoringStack monitoring = new MonitoringStack(chart, "monitoring");
    for (IMonitored component : List.<IMonitored>of(db, cache, events, api)) {
      monitoring.monitor(component);
    }
    app.synth();
  }
}
